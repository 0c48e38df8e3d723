"""End states: AgentOps' three, matched case-insensitively.

``Error`` and ``Failure`` mean Fail; OpenTelemetry's and AgentOps 0.4's status
enums map by name (OK → Success, ERROR → Fail, UNSET → Indeterminate). Any
other value ends the session Indeterminate, keeping the value in the reason.
"""

from __future__ import annotations

import enum


class EndState(str, enum.Enum):
    SUCCESS = "Success"
    FAIL = "Fail"
    INDETERMINATE = "Indeterminate"

    def __str__(self) -> str:
        return self.value


_ALIASES = {
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
