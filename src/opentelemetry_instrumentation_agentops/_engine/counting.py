"""The one place that adds to a session's totals, and how one call traced twice counts once.

Everything that counts (an event recorded, a decorated call, a session failing, another
instrumentation's span) calls ``Totals.count(kind, ...)``; ``Totals.take_back`` undoes one
count (a framework's LLM call counted on its own, then found covered by a client call).
Token counts saturate at the largest OTLP integer; invalid counts and costs are never added
(``usage.py`` checks them, with a warning, before they come here), and an exception is an
error once per session however many places report it.

Other instrumentations' spans are counted by ``CallCounter`` (the span processor holds
one), which finds the spans of one call: an LLM (tool) span inside an open LLM (tool) span
of the same trace is part of that call, whichever ends first; so is a call counted already
that turns out to be a descendant of a span that says it is an LLM (tool) span only when it
ends (OpenInference's LangChain tracer writes the kind last). What a call counts as once its
outermost span ended (a client library's call, a framework's that a client call covers, one
that never reached a model, two frameworks' tracers on one run), and its tokens: ``calls.py``.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from types import MappingProxyType
from typing import Any, NamedTuple

from . import attributes as attr
from .calls import OURS, CountedCall, Recent, grow, parent_id, same_call, scope_name, settle
from .conventions import (
    LLM_CALL,
    TOOL_CALL,
    answered,
    call_kind,
    is_client_scope,
    models,
    present,
    usage,
)
from .types import ACTION, ERROR
from .usage import MAX_INT64, is_token_count, token_count
from .usage import cost as usage_cost

_MAX_DEPTH = 256  # ancestors walked at most (a guard, trees are far shallower)
_RECENT = 32  # calls per trace that a span ending later may still be one with
_TRACES = 1024  # traces whose recent calls are kept
_ENDED = 1024  # calls, across traces, whose outermost span may end before a nested one
_SCOPES = 256  # scope names whose answer to is_client_scope() a counter keeps
_MAX_COST = sys.float_info.max
_COUNTED_BY = "_agentops_counted_by"  # on an exception: ids of the totals that counted it


def _is_cost(value: Any) -> bool:
    """A cost the totals may add: a finite float, 0 or more (checked and warned about before)."""
    return type(value) in (float, int) and 0 <= value <= _MAX_COST


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

    def count(
        self,
        kind: str,
        input_tokens: Any = None,
        output_tokens: Any = None,
        cost: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        """One more ``kind`` (``LLM_CALL``, ``TOOL_CALL``, ``ACTION``, ``ERROR``, ``USAGE``).

        Tokens and cost are added when valid. An ``exception`` counted here already (the
        one a decorated call raised is often the one that then fails its session) is
        not counted again.
        """
        if exception is not None and not _first_count(exception, self):
            return
        usage = input_tokens is not None or output_tokens is not None or cost is not None
        with self._lock:
            if kind is ACTION:
                self.actions += 1
            elif kind is LLM_CALL:
                self.llm_calls += 1
            elif kind is TOOL_CALL:
                self.tool_calls += 1
            elif kind is ERROR:
                self.errors += 1
            if not usage:
                return
            if input_tokens is not None and is_token_count(input_tokens):
                self.input_tokens = min(self.input_tokens + input_tokens, MAX_INT64)
            if output_tokens is not None and is_token_count(output_tokens):
                self.output_tokens = min(self.output_tokens + output_tokens, MAX_INT64)
            if cost is not None and _is_cost(cost):  # saturates: two huge costs never make inf
                self.cost = min((self.cost or 0.0) + cost, _MAX_COST)

    def take_back(
        self, kind: str, input_tokens: Any = None, output_tokens: Any = None, cost: Any = None
    ) -> None:
        """Undo ``count(kind, ...)`` with the same values (``LLM_CALL`` or ``TOOL_CALL``)."""
        with self._lock:
            if kind is LLM_CALL:
                self.llm_calls = max(self.llm_calls - 1, 0)
            elif kind is TOOL_CALL:
                self.tool_calls = max(self.tool_calls - 1, 0)
            if is_token_count(input_tokens):
                self.input_tokens = max(self.input_tokens - input_tokens, 0)
            if is_token_count(output_tokens):
                self.output_tokens = max(self.output_tokens - output_tokens, 0)
            if cost is not None and _is_cost(cost) and self.cost is not None:
                self.cost = max(self.cost - cost, 0.0)

    def as_attributes(self) -> dict[str, Any]:
        """The totals as the root span's attributes."""
        return _as_attributes(self)


class Counts(NamedTuple):
    """The counts of a session that counted nothing, read without making it a ``Totals`` (and
    a lock) at its end: session-same 3,729 to 3,673 bytecodes a session."""

    llm_calls: int = 0
    tool_calls: int = 0
    actions: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = None

    def as_attributes(self) -> dict[str, Any]:
        # A mapping proxy's copy() is its dict's: 0.09 us, where dict(proxy) took 0.51.
        return _NOTHING_COUNTED.copy() if self is NO_COUNTS else _as_attributes(self)


NO_COUNTS = Counts()


def _as_attributes(counts: Any) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        attr.SESSION_LLM_CALLS: counts.llm_calls,
        attr.SESSION_TOOL_CALLS: counts.tool_calls,
        attr.SESSION_ACTIONS: counts.actions,
        attr.SESSION_ERRORS: counts.errors,
        attr.INPUT_TOKENS: counts.input_tokens,
        attr.OUTPUT_TOKENS: counts.output_tokens,
    }
    if counts.cost is not None:
        attributes[attr.SESSION_COST] = counts.cost
    return attributes


_NOTHING_COUNTED = MappingProxyType(_as_attributes(NO_COUNTS))  # copied: a session's end


def span_usage(found: dict[str, Any]) -> tuple[Any, Any, Any]:
    """Input tokens, output tokens and cost of a span, None where absent or invalid.

    An invalid one is named by its attribute in one warning (``usage.py``).
    """
    input_tokens, output_tokens, cost = usage(found)
    return (
        None if input_tokens is None else token_count(input_tokens[1], input_tokens[0]),
        None if output_tokens is None else token_count(output_tokens[1], output_tokens[0]),
        None if cost is None else usage_cost(cost[1], cost[0]),
    )


class CallCounter:
    """Counts other instrumentations' LLM and tool calls, each once (the processor's helper).

    ``opened`` is the processor's map of the open spans of sessions' traces, by span id.
    The caller holds a lock around ``span_ended``: only LLM and tool spans come here.
    """

    def __init__(self, opened: dict[int, Any]) -> None:
        self._open = opened
        self._calls: dict[int, CountedCall] = {}  # outermost span id -> its call, while open
        # Ordered dicts: dropping the oldest entry of a plain dict scans its deleted slots.
        self._ended: OrderedDict[int, CountedCall] = OrderedDict()  # by outermost span id
        self._recent: OrderedDict[int, Recent] = OrderedDict()  # by trace id
        self._clients: dict[str | None, bool] = {}  # scope name -> a client library's?

    def span_ended(self, span: Any, kind: str, values: Any, ours: bool, totals: Totals) -> None:
        """An LLM or tool span ends: part of a call, or the outermost span of one."""
        signs = self._signs(span) if kind is LLM_CALL else None
        lineage, stop = self._lineage(span)
        head = None
        for ancestor in lineage:  # the outermost open ancestor of the same kind
            found = present(ancestor.attributes)
            if found and call_kind(found) is kind:
                head = ancestor
        if head is not None:  # nested in a call whose outermost span still runs
            head_id = head.context.span_id
            call = self._calls.get(head_id)
            if call is None:
                call = self._calls[head_id] = CountedCall(kind, totals, head)
                if len(self._calls) > _ENDED:  # outermost spans that never ended
                    self._calls.pop(next(iter(self._calls)), None)
            call.note(signs)
            self._join(call, values, ours)
            return
        call = self._ended.get(stop)
        if call is not None and call.kind is kind and call.totals is totals:
            if not ours:  # nested in a call whose outermost span ended first
                call.note(signs)
                grow(call, values, self._recent_calls(span.context.trace_id, totals))
            return
        span_id = span.context.span_id
        call = self._calls.pop(span_id, None) or CountedCall(kind, totals, span)
        call.note(signs)
        call.end = span.end_time
        if lineage:
            call.ancestors = frozenset(a.context.span_id for a in lineage)
        recent = self._recent_calls(span.context.trace_id, totals)
        # Ours is counted where it was made: a later span may be one with it, not it with one.
        mine = ours or call.role is OURS
        same = None if mine else same_call(recent, call, scope_name(span))
        if same is not None:  # one call with one counted already
            same.scopes += call.scopes
            same.ancestors |= call.ancestors
            same.note((call.client, call.answered, call.models))
            grow(same, values, recent)
            grow(same, call.pending, recent)
            return
        if mine:  # counted where it was made, with its own usage
            call.role = OURS
            call._take(values)
            call.add(call.pending)
        else:
            settle(call, values, recent)
        recent.append(call)
        self._ended[span_id] = call
        if len(self._ended) > _ENDED:
            self._ended.popitem(last=False)

    def _signs(self, span: Any) -> tuple[bool, bool, frozenset[str]]:
        """An LLM span's signs: a client library's?, did it reach a model?, its models."""
        name = scope_name(span)
        client = self._clients.get(name)
        if client is None:
            client = is_client_scope(name)
            if len(self._clients) < _SCOPES:  # scope names are few; a bound all the same
                self._clients[name] = client
        attributes = span.attributes
        return client, answered(attributes), models(attributes)

    def _lineage(self, span: Any) -> tuple[list[Any], int]:
        """The open ancestors of ``span``, nearest first, and the id where the walk stopped."""
        opened, found = self._open, []
        above = parent_id(span)
        for _ in range(_MAX_DEPTH):
            ancestor = opened.get(above)
            if ancestor is None or ancestor.parent is None:  # a root (the session's) is no call
                break
            found.append(ancestor)
            above = parent_id(ancestor)
        return found, above

    @staticmethod
    def _join(call: CountedCall, values: Any, ours: bool) -> None:
        if ours:  # counted where it was made: the call is, with what it carried
            call.role = OURS
            call._take(values)
        else:
            call.hold(values)

    def _recent_calls(self, trace_id: int, totals: Totals) -> Recent:
        recent = self._recent.get(trace_id)
        # A trace id seen again (a seeded ``random`` makes the SDK's ids repeat): start anew.
        if recent is None or (recent and recent[0].totals is not totals):
            recent = self._recent[trace_id] = Recent(_RECENT)
            if len(self._recent) > _TRACES:  # the oldest trace's session has long ended
                self._recent.popitem(last=False)
        return recent
