"""Which token counts and costs may be added to a session's totals, and the word when one may not.

A token count is a whole number from 0 to the largest OTLP integer (a float with no
fraction counts as its int); a cost is a finite number of USD, 0 or more. Anything else
(negative, NaN, infinite, not a number) is never added to a total, so one bad value
cannot turn a session's total into ``inf``, NaN or a negative number, and it is not
dropped without a word: the first bad value of each field logs one warning naming the
field. For the program's own values (an ``LLMEvent``, a decorator's ``cost=``) strict
mode raises instead; other instrumentations' spans only ever warn, as their span's end
must never fail.
"""

from __future__ import annotations

import math
from typing import Any

from .._runtime.owner import RUNTIME
from .._runtime.settings import logger
from .content import INT64, safe_str
from .types import InvalidArgumentError

MAX_INT64 = INT64.stop - 1  # the most an OTLP integer attribute holds


def is_token_count(value: object) -> bool:
    """A token count an OTLP attribute can carry: an int (not a bool) from 0 to MAX_INT64."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_INT64


def _token_problem(value: Any) -> tuple[int | None, str | None]:
    """(the count, None), or (None, why ``value`` is no token count)."""
    if is_token_count(value):
        return value, None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, "not a number"
    return _number_problem(value, whole=True)


def _cost_problem(value: Any) -> tuple[float | None, str | None]:
    """(the cost, None), or (None, why ``value`` is no cost)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, "not a number"
    try:
        return _number_problem(float(value), whole=False)
    except OverflowError:  # an int beyond 1e308
        return None, "too large"


def _number_problem(value: float, whole: bool) -> tuple[Any, str | None]:
    if value != value:
        return None, "NaN"
    if math.isinf(value):
        return None, "infinite"
    if value < 0:
        return None, "negative"
    if not whole:
        return value, None
    if value > MAX_INT64:
        return None, "too large"
    if value != int(value):
        return None, "not a whole number"
    return int(value), None


def _message(field: str, value: Any, problem: str, what: str) -> str:
    return (
        f"{field} is {problem} ({safe_str(value, 40)}): it is not added to any session "
        f"total. Give {what}."
    )


def _warn(field: str, message: str, strict: bool) -> None:
    if strict and RUNTIME.settings.strict:
        raise InvalidArgumentError(message)
    if RUNTIME.once(f"bad usage: {field}"):
        logger.warning("%s This warning is given once per field.", message)


def token_count(value: Any, field: str, strict: bool = False) -> int | None:
    """``value`` as a token count, or None (with one warning naming ``field``)."""
    if value is None:
        return None
    count, problem = _token_problem(value)
    if problem is not None:
        _warn(field, _message(field, value, problem, "token counts as whole numbers >= 0"), strict)
    return count


def cost(value: Any, field: str, strict: bool = False) -> float | None:
    """``value`` as a cost in USD, or None (with one warning naming ``field``)."""
    if value is None:
        return None
    usd, problem = _cost_problem(value)
    if problem is not None:
        _warn(field, _message(field, value, problem, "costs in USD as finite numbers >= 0"), strict)
    return usd
