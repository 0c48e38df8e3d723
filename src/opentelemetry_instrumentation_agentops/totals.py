"""A session's totals: named counters that any thread may add to.

The session's own events and decorators add to them where they are made; the
span processor adds what other instrumentations' spans report. Token counts
saturate at the largest OTLP integer instead of overflowing, and costs are
kept only once one is known.
"""

from __future__ import annotations

import threading
from typing import Any

from . import attributes as attr
from .content import INT64, as_float

MAX_INT64 = INT64.stop - 1  # the most an OTLP integer attribute holds


def is_token_count(value: object) -> bool:
    """A token count an OTLP attribute can carry: an int (not a bool) from 0 to MAX_INT64."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_INT64


def as_cost(value: Any) -> float | None:
    """A cost in USD: a number (not a bool, not NaN) as a float, else None."""
    cost = as_float(value)
    return cost if cost is not None and cost == cost else None


_COUNTED_BY = "_agentops_counted_by"  # on an exception: ids of the totals that counted it


def _first_count(exception: BaseException, totals: Totals) -> bool:
    """Whether ``totals`` has not counted ``exception`` yet (exceptions take no weakref)."""
    counted = getattr(exception, _COUNTED_BY, None)
    if counted is None:
        counted = set()
        try:
            setattr(exception, _COUNTED_BY, counted)
        except Exception:  # a slotted or frozen exception: count it each time
            return True
    if id(totals) in counted:
        return False
    counted.add(id(totals))
    return True


class Totals:
    """LLM calls, tool calls, actions, errors, tokens and cost of one session."""

    __slots__ = (
        "_lock",
        "actions",
        "cost",
        "errors",
        "input_tokens",
        "llm_calls",
        "output_tokens",
        "tool_calls",
    )

    def __init__(self) -> None:
        self.llm_calls = self.tool_calls = self.actions = self.errors = 0
        self.input_tokens = self.output_tokens = 0
        self.cost: float | None = None
        self._lock = threading.Lock()

    def add_llm_call(self, input_tokens: Any = None, output_tokens: Any = None, cost: Any = None):
        with self._lock:
            self.llm_calls += 1
        self.add_usage(input_tokens, output_tokens, cost)

    def take_back_llm_call(
        self, input_tokens: Any = None, output_tokens: Any = None, cost: Any = None
    ) -> None:
        """Undo ``add_llm_call`` with the same values: a call counted on its own that turned
        out to be part of another (a framework's LLM call that a client call covers)."""
        cost = as_cost(cost)
        with self._lock:
            self.llm_calls = max(self.llm_calls - 1, 0)
            if is_token_count(input_tokens):
                self.input_tokens = max(self.input_tokens - input_tokens, 0)
            if is_token_count(output_tokens):
                self.output_tokens = max(self.output_tokens - output_tokens, 0)
            if cost is not None and self.cost is not None:
                self.cost -= cost

    def add_tool_call(self, cost: Any = None) -> None:
        with self._lock:
            self.tool_calls += 1
        if cost is not None:
            self.add_usage(cost=cost)

    def add_action(self) -> None:
        with self._lock:
            self.actions += 1

    def add_error(self, exception: BaseException | None = None) -> None:
        """One more error; an ``exception`` already counted here is not counted again.

        The exception a decorated call raised is often the one that then fails its
        session: it is one error, not two.
        """
        if exception is not None and not _first_count(exception, self):
            return
        with self._lock:
            self.errors += 1

    def add_usage(self, input_tokens: Any = None, output_tokens: Any = None, cost: Any = None):
        """Tokens and cost without a call: usage reported apart from the call it belongs to."""
        cost = as_cost(cost)
        with self._lock:
            if is_token_count(input_tokens):
                self.input_tokens = min(self.input_tokens + input_tokens, MAX_INT64)
            if is_token_count(output_tokens):
                self.output_tokens = min(self.output_tokens + output_tokens, MAX_INT64)
            if cost is not None:
                self.cost = (self.cost or 0.0) + cost

    def as_attributes(self) -> dict[str, Any]:
        """The totals as the root span's attributes (design.md section 4)."""
        attributes: dict[str, Any] = {
            attr.SESSION_LLM_CALLS: self.llm_calls,
            attr.SESSION_TOOL_CALLS: self.tool_calls,
            attr.SESSION_ACTIONS: self.actions,
            attr.SESSION_ERRORS: self.errors,
            attr.INPUT_TOKENS: self.input_tokens,
            attr.OUTPUT_TOKENS: self.output_tokens,
        }
        if self.cost is not None:
            attributes[attr.SESSION_COST] = self.cost
        return attributes
