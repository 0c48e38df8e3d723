"""The one place that adds to a session's totals, and how one call traced twice counts once.

Everything that counts (an event recorded, a decorated call, a session failing, another
instrumentation's span) calls ``Totals.count(kind, ...)``. Token counts saturate at the
largest OTLP integer; invalid counts and costs are never added (``usage.py`` checks them,
with a warning, before they come here), and an exception is an error once per session
however many places report it.

Other instrumentations' spans are counted by ``CallCounter`` (the span processor holds
one): an LLM (tool) span inside an open LLM (tool) span of the same trace is part of that
call; a span that turns out to be a call only when it ends (OpenInference's LangChain
tracer writes the kind last) is one with a call counted already among its descendants,
or, from another instrumentation, one that ran at the same time (tracers that do not make
their span current leave the client's chat span beside it). Tokens and cost are taken
from the outermost span of a call that carries them, else from the first nested one.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict, deque
from typing import Any

from . import attributes as attr
from .conventions import LLM_CALL, TOOL_CALL, call_kind, present, usage
from .usage import MAX_INT64, is_token_count, token_count
from .usage import cost as usage_cost

ACTION = "action"
ERROR = "error"
USAGE = "usage"  # tokens and cost reported apart from the call they belong to
_MAX_DEPTH = 256  # ancestors walked at most (a guard, trees are far shallower)
_RECENT = 32  # calls per trace that a span ending later may still be one with
_TRACES = 1024  # traces whose recent calls are kept
_ENDED = 1024  # calls, across traces, whose outermost span may end before a nested one
_NO_USAGE = (None, None, None)
_MAX_COST = sys.float_info.max
_NO_IDS: frozenset[int] = frozenset()
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

    def as_attributes(self) -> dict[str, Any]:
        """The totals as the root span's attributes."""
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


def _scope_name(span: Any) -> str | None:
    scope = span.instrumentation_scope
    return None if scope is None else scope.name


def _parent_id(span: Any) -> int:
    parent = span.parent
    return 0 if parent is None else parent.span_id


class CountedCall:
    """One LLM or tool call, however many spans (instrumentations) trace it."""

    __slots__ = (
        "ancestors",
        "counted",
        "end",
        "head",
        "kind",
        "pending",
        "scopes",
        "start",
        "taken",
        "totals",
    )

    def __init__(self, kind: str, totals: Any, head: Any) -> None:
        self.kind, self.totals = kind, totals
        self.head = head.context.span_id  # its outermost span
        self.start, self.end = head.start_time, head.end_time
        self.scopes: tuple[str | None, ...] = (
            _scope_name(head),
        )  # the instrumentations whose spans are part of it
        self.counted = False
        self.ancestors = _NO_IDS  # the open spans above its outermost span when that ended
        self.pending: Any = _NO_USAGE  # the first nested span's usage
        self.taken = [False, False, False]  # usage already in the totals, per field

    def count(self, values: Any) -> None:
        """Count the call once, with ``values`` (its outermost span's usage)."""
        if self.counted:
            self.add(values)
            return
        self.counted = True
        self.totals.count(self.kind, *self._take(values))

    def add(self, values: Any) -> None:
        """Add each value whose field is not in the totals yet."""
        new = self._take(values)
        if new is not _NO_USAGE:
            self.totals.count(USAGE, *new)

    def _take(self, values: Any) -> Any:
        """The values whose field is not taken yet, now taken."""
        if values is _NO_USAGE:
            return values
        taken, new, added = self.taken, [None, None, None], False
        for index in (0, 1, 2):
            if values[index] is not None and not taken[index]:
                taken[index] = added = True
                new[index] = values[index]
        return new if added else _NO_USAGE

    def hold(self, values: Any) -> None:
        """A nested span's values: used when the outermost span carries none."""
        if values is not _NO_USAGE:
            pending = self.pending
            self.pending = tuple(
                p if p is not None else v for p, v in zip(pending, values, strict=True)
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
        self._recent: OrderedDict[int, deque[CountedCall]] = OrderedDict()  # by trace id

    def span_ended(self, span: Any, kind: str, values: Any, ours: bool, totals: Totals) -> None:
        """An LLM or tool span ends: part of a call, or the outermost span of one."""
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
            self._join(call, values, ours)
            return
        call = self._ended.get(stop)
        if call is not None and call.kind is kind and call.totals is totals:
            if not ours:  # nested in a call whose outermost span ended first
                call.add(values)
            return
        span_id = span.context.span_id
        call = self._calls.pop(span_id, None) or CountedCall(kind, totals, span)
        call.end = span.end_time
        if lineage:
            call.ancestors = frozenset(a.context.span_id for a in lineage)
        recent = self._recent_calls(span.context.trace_id, totals)
        # Ours is counted where it was made: a later span may be one with it, not it with one.
        same = None if call.counted or ours else same_call(recent, call, _scope_name(span))
        if same is not None:  # one call with one counted already
            same.scopes += call.scopes
            same.ancestors |= call.ancestors
            if not ours:
                same.add(values)
                same.add(call.pending)
            return
        if ours:  # counted where it was made, with its own usage
            call.counted = True
            call._take(values)
            call.add(call.pending)
        else:
            call.count(values)
            call.add(call.pending)
        recent.append(call)
        self._ended[span_id] = call
        if len(self._ended) > _ENDED:
            self._ended.popitem(last=False)

    def _lineage(self, span: Any) -> tuple[list[Any], int]:
        """The open ancestors of ``span``, nearest first, and the id where the walk stopped."""
        opened, found = self._open, []
        parent_id = _parent_id(span)
        for _ in range(_MAX_DEPTH):
            ancestor = opened.get(parent_id)
            if ancestor is None or ancestor.parent is None:  # a root (the session's) is no call
                break
            found.append(ancestor)
            parent_id = _parent_id(ancestor)
        return found, parent_id

    @staticmethod
    def _join(call: CountedCall, values: Any, ours: bool) -> None:
        if ours:  # counted where it was made: the call is, with what it carried
            call.counted = True
            call._take(values)
        else:
            call.hold(values)

    def _recent_calls(self, trace_id: int, totals: Totals) -> deque[CountedCall]:
        recent = self._recent.get(trace_id)
        # A trace id seen again (a seeded ``random`` makes the SDK's ids repeat): start anew.
        if recent is None or (recent and recent[0].totals is not totals):
            recent = self._recent[trace_id] = deque(maxlen=_RECENT)
            if len(self._recent) > _TRACES:  # the oldest trace's session has long ended
                self._recent.popitem(last=False)
        return recent


def same_call(
    recent: deque[CountedCall], call: CountedCall, scope: str | None
) -> CountedCall | None:
    """The call counted already that ``call``, its outermost span just ended, is one with.

    One of that span's descendants first. Else a call that no span of its instrumentation
    is part of yet and that ran while it ran: one within it first (a client's span inside
    a framework's), then the one that started nearest to it (two frameworks' tracers on
    the same run, each starting and ending its span at its own callback).
    """
    start, end, head = call.start, call.end, call.head
    if start is None or end is None:
        return None
    found, best = None, None
    for other in reversed(recent):  # latest ended first
        if other.end is not None and other.end < start:
            break  # this one, and every older one, ended before the span started
        if other.kind is not call.kind:
            continue
        if head in other.ancestors:
            return other
        if scope in other.scopes or other.end is None or other.end < start or other.start > end:
            continue
        rank = (not (start <= other.start and other.end <= end), abs(other.start - start))
        if best is None or rank < best:
            found, best = other, rank
    return found
