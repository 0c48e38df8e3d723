"""The engine's shared types: end states, and what a session and a traced call look like.

Modules below ``sessions.py`` see a session through ``SessionLike``, so the layers
stay one way and the type checker still knows what they touch.
"""

from __future__ import annotations

import enum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span

    from .counting import Totals


class EndState(str, enum.Enum):
    """AgentOps' three end states. ``Error`` and ``Failure`` mean Fail, OpenTelemetry's and
    AgentOps 0.4's status enums map by name (OK, ERROR, UNSET), matched case-insensitively."""

    SUCCESS = "Success"
    FAIL = "Fail"
    INDETERMINATE = "Indeterminate"

    def __str__(self) -> str:
        return self.value


_ALIASES = MappingProxyType(
    {
        "success": EndState.SUCCESS,
        "succeeded": EndState.SUCCESS,
        "ok": EndState.SUCCESS,
        "fail": EndState.FAIL,
        "failed": EndState.FAIL,
        "failure": EndState.FAIL,
        "error": EndState.FAIL,
        "indeterminate": EndState.INDETERMINATE,
        "unset": EndState.INDETERMINATE,
    }
)


def parse_end_state(value: object) -> EndState | None:
    """The end state ``value`` names, or None when it names none."""
    if isinstance(value, EndState):
        return value
    if isinstance(value, enum.Enum):
        by_value = _ALIASES.get(str(value.value).lower()) if isinstance(value.value, str) else None
        return by_value or _ALIASES.get(value.name.lower())
    if isinstance(value, str):
        return _ALIASES.get(value.strip().lower())
    return None


class SessionLike(Protocol):
    """What the engine below ``sessions.py`` reads and calls on a session."""

    session_id: str
    trace_id: int
    name: str | None
    span: Span
    context: Context
    totals: Totals
    ended: bool
    end_state: str | None
    instruments: Any  # the metric instruments it was measured on at its start, if any

    @property
    def duration_seconds(self) -> float: ...

    def end(
        self,
        end_state: Any,
        reason: Any = None,
        exception: BaseException | None = None,
        legacy: dict[str, Any] | None = None,
    ) -> dict[str, Any]: ...

    def record(self, event: Any) -> None: ...

    def get_analytics(self) -> dict[str, Any]: ...


class Traced(Protocol):
    """A traced call: the context its body (or a generator's steps) runs in, and its end."""

    context: Context

    def finish(self, error: BaseException | None = None, result: Any = None) -> None: ...
