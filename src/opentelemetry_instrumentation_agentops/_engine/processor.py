"""The span processor that folds every span of a session's trace into the session.

Added once to each SDK TracerProvider the package uses. At span start it stamps
``session.id`` on any span of a running session's trace (other instrumentations'
spans included), and ``gen_ai.agent.id`` / ``gen_ai.agent.name`` on any such span
started while an agent runs (its parent context holds the agent). At span end it counts
other instrumentations' spans in the session's totals (design.md section 4): LLM calls
and tool calls with their tokens and cost, in every convention of ``conventions.TABLE``,
and spans with status ERROR as errors. The package's own spans are counted where they
are made, never here; they take part in the nesting below all the same.

One call traced by several instrumentations counts once:

- an LLM (tool) span inside an LLM (tool) span of the same trace that is still open
  among its ancestors, through any spans in between, is part of that call, whichever
  ends first;
- a call counted already is also part of a span that turns out to be an LLM (tool) span
  only when it ends (OpenInference's LangChain tracer writes the kind last) when it is
  that span's descendant, or, from another instrumentation, when the two ran at the
  same time: tracers that do not make their LLM span current (OpenInference's and
  OpenLLMetry's LangChain tracers) leave the client's chat span beside it, not in it.
  Two instrumentations' calls that overlap in one trace without being one call (rare:
  parallel calls traced by different instrumentations) count once too;
- input tokens, output tokens and cost are each taken from the outermost span of the
  call that carries them, else from the first nested one that does, and never twice
  (a nested span counted before its outer span said it was a call keeps its tokens).

Costs: a span outside any session pays one dictionary look-up at start and end; a span
of a session's trace also pays a context read and one entry in a dictionary of open
spans, removed when it ends. Only LLM and tool spans walk their ancestors. At most
``MAX_OPEN`` open spans are remembered (spans that never end are forgotten, oldest
first), and a bounded number of recent calls.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict, deque
from typing import Any

from opentelemetry import context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import StatusCode

from .._runtime.registry import AGENT_KEY, session_for_trace
from . import attributes as attr
from .conventions import KEYS, LLM_CALL, call_kind, present, usage
from .counting import as_cost, is_token_count

MAX_OPEN = 1 << 16  # open spans remembered at once, across sessions
_MAX_DEPTH = 256  # ancestors walked at most (a guard, trees are far shallower)
_RECENT = 32  # calls per trace that a span ending later may still be one with
_TRACES = 1024  # traces whose recent calls are kept
_ENDED = 1024  # calls, across traces, whose outermost span may end before a nested one
_NO_USAGE = (None, None, None)
_NO_IDS: frozenset[int] = frozenset()
_current = context.get_current
_providers: weakref.WeakSet[Any] = weakref.WeakSet()


def _usage(found: dict[str, Any]) -> tuple[Any, Any, Any]:
    """Input tokens, output tokens and cost of a span, None where absent or invalid."""
    input_tokens, output_tokens, cost = usage(found)
    if input_tokens is not None and not is_token_count(input_tokens):
        input_tokens = None
    if output_tokens is not None and not is_token_count(output_tokens):
        output_tokens = None
    return input_tokens, output_tokens, None if cost is None else as_cost(cost)


def _scope_name(span: Any) -> str | None:
    scope = span.instrumentation_scope
    return None if scope is None else scope.name


def _parent_id(span: Any) -> int:
    parent = span.parent
    return 0 if parent is None else parent.span_id


class _Call:
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
        self.scopes = (_scope_name(head),)  # the instrumentations whose spans are part of it
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
        new = self._take(values)
        if self.kind is LLM_CALL:
            self.totals.add_llm_call(*new)
        else:
            self.totals.add_tool_call(new[2])
            if new[0] is not None or new[1] is not None:
                self.totals.add_usage(new[0], new[1])

    def add(self, values: Any) -> None:
        """Add each value whose field is not in the totals yet."""
        new = self._take(values)
        if new is not _NO_USAGE:
            self.totals.add_usage(*new)

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


class SessionSpanProcessor(SpanProcessor):
    def __init__(self) -> None:
        self._open: dict[int, Any] = {}  # span id -> the open span, spans of sessions' traces
        self._calls: dict[int, _Call] = {}  # outermost span id -> its call, while it is open
        # Ordered dicts: dropping the oldest entry of a plain dict scans its deleted slots.
        self._ended: OrderedDict[int, _Call] = OrderedDict()  # by outermost span id
        self._recent: OrderedDict[int, deque[_Call]] = OrderedDict()  # by trace id
        self._lock = threading.Lock()  # taken for LLM and tool spans only

    def on_start(self, span: Span, parent_context: Any = None) -> None:
        span_context = span.context
        session = session_for_trace(span_context.trace_id)
        if session is None:  # most spans of most programs
            return
        attributes = span.attributes
        if attr.SESSION_ID not in attributes:
            span.set_attribute(attr.SESSION_ID, session.session_id)
        agent = (_current() if parent_context is None else parent_context).get(AGENT_KEY)
        if agent is not None and attr.AGENT_ID not in attributes:
            span.set_attributes({attr.AGENT_ID: agent[0], attr.AGENT_NAME: agent[1]})
        opened = self._open
        opened[span_context.span_id] = span
        if len(opened) > MAX_OPEN:  # spans that never ended: forget the oldest
            opened.pop(next(iter(opened)), None)

    def on_end(self, span: ReadableSpan) -> None:
        span_context = span.context
        if self._open:
            self._open.pop(span_context.span_id, None)
        session = session_for_trace(span_context.trace_id)
        if session is None:  # most spans of most programs: no property read beyond this
            return
        scope = span.instrumentation_scope
        ours = scope is not None and scope.name == attr.TRACER_NAME
        attributes = span.attributes
        if not KEYS.isdisjoint(attributes):
            found = present(attributes)
            kind = call_kind(found)
            if kind is not None:
                with self._lock:
                    self._end_call(span, kind, _usage(found), ours, session)
        if not ours and span.status.status_code is StatusCode.ERROR:
            session.totals.add_error()

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

    def _end_call(self, span: Any, kind: str, values: Any, ours: bool, session: Any) -> None:
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
                call = self._calls[head_id] = _Call(kind, session.totals, head)
                if len(self._calls) > _ENDED:  # outermost spans that never ended
                    self._calls.pop(next(iter(self._calls)), None)
            self._join(call, values, ours)
            return
        call = self._ended.get(stop)
        if call is not None and call.kind is kind and call.totals is session.totals:
            if not ours:  # nested in a call whose outermost span ended first
                call.add(values)
            return
        span_id = span.context.span_id
        call = self._calls.pop(span_id, None) or _Call(kind, session.totals, span)
        call.end = span.end_time
        if lineage:
            call.ancestors = frozenset(a.context.span_id for a in lineage)
        recent = self._recent_calls(span.context.trace_id, session)
        # Ours is counted where it was made: a later span may be one with it, not it with one.
        same = None if call.counted or ours else _same_call(recent, call, _scope_name(span))
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

    @staticmethod
    def _join(call: _Call, values: Any, ours: bool) -> None:
        if ours:  # counted where it was made: the call is, with what it carried
            call.counted = True
            call._take(values)
        else:
            call.hold(values)

    def _recent_calls(self, trace_id: int, session: Any) -> deque[_Call]:
        recent = self._recent.get(trace_id)
        # A trace id seen again (a seeded ``random`` makes the SDK's ids repeat): start anew.
        if recent is None or (recent and recent[0].totals is not session.totals):
            recent = self._recent[trace_id] = deque(maxlen=_RECENT)
            if len(self._recent) > _TRACES:  # the oldest trace's session has long ended
                self._recent.popitem(last=False)
        return recent


def _same_call(recent: deque[_Call], call: _Call, scope: str | None) -> _Call | None:
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


def attach_processor(provider: Any) -> None:
    """Add the processor to an SDK provider, once per provider."""
    add = getattr(provider, "add_span_processor", None)
    if add is None or provider in _providers:
        return
    _providers.add(provider)
    add(SessionSpanProcessor())
