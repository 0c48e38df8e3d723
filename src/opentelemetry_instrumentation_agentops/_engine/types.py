"""The vocabulary every layer shares: end states, the errors of misuse, and what a session
and a traced call look like (``SessionLike``, ``Traced``: modules below ``sessions.py`` see
sessions through them, so the layers stay one way and still type-check).

Misuse is reported, never raised (one warning through the package's logger), unless strict
mode is on: then the same message is raised as the ``AgentOpsError`` subclass naming the case.
"""

from __future__ import annotations

import enum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from .._runtime.owner import RUNTIME
from .._runtime.settings import logger
from .escaping import printable

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span


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


# What ``TotalsLike.count`` counts besides ``conventions.LLM_CALL`` and ``TOOL_CALL``.
ACTION = "action"
ERROR = "error"
USAGE = "usage"  # tokens and cost reported apart from the call they belong to


class CountsLike(Protocol):
    """A session's counts as read (``counting.Totals``, or ``counting.NO_COUNTS`` before any)."""

    @property
    def llm_calls(self) -> int: ...
    @property
    def tool_calls(self) -> int: ...
    @property
    def actions(self) -> int: ...
    @property
    def errors(self) -> int: ...
    @property
    def input_tokens(self) -> int: ...
    @property
    def output_tokens(self) -> int: ...
    @property
    def cost(self) -> float | None: ...

    def as_attributes(self) -> dict[str, Any]: ...


class TotalsLike(Protocol):
    """A session's counters (``counting.Totals``)."""

    llm_calls: int
    tool_calls: int
    actions: int
    errors: int
    input_tokens: int
    output_tokens: int
    cost: float | None

    def count(
        self,
        kind: str,
        input_tokens: Any = None,
        output_tokens: Any = None,
        cost: Any = None,
        exception: BaseException | None = None,
    ) -> None: ...

    def take_back(
        self, kind: str, input_tokens: Any = None, output_tokens: Any = None, cost: Any = None
    ) -> None: ...

    def as_attributes(self) -> dict[str, Any]: ...


class SessionLike(Protocol):
    """What the engine below ``sessions.py`` reads and calls on a session."""

    session_id: str
    trace_id: int
    name: str | None
    span: Span
    context: Context
    ended: bool
    end_state: str | None
    instruments: Any  # the metric instruments it was measured on at its start, if any
    user_id: str | None
    exchange: Any  # its input and output while content is captured (``recognition.Exchange``)

    @property
    def totals(self) -> TotalsLike: ...

    @property
    def counts(self) -> CountsLike: ...

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


class AgentOpsError(Exception):
    """Base of every error raised in strict mode."""


class NoSessionError(AgentOpsError):
    """A module-level call found no running session."""


class AmbiguousSessionError(AgentOpsError):
    """Several sessions run and none is current in this context."""


class InvalidEndStateError(AgentOpsError):
    """An end state that is not Success, Fail or Indeterminate."""


class SessionEndedError(AgentOpsError):
    """The session was already ended (ending twice, recording into it)."""


class InvalidArgumentError(AgentOpsError, TypeError):
    """An argument of the wrong type or shape."""


def report(error: type[AgentOpsError], message: str) -> None:
    """Warn about misuse, or raise ``error`` when strict mode is on.

    The message may quote what the caller gave: its control characters are escaped, so
    it stays one line whatever was given.
    """
    message = printable(message)
    if RUNTIME.settings.strict:
        raise error(message)
    logger.warning(message)
