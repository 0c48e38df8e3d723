"""The span processor that folds every span of a session's trace into the session.

Added once to each SDK TracerProvider the package uses. At span start it stamps
``session.id`` on any span of a running session's trace (other instrumentations'
spans included), and ``gen_ai.agent.id`` / ``gen_ai.agent.name`` on any span started
while an agent runs. At span end it counts other instrumentations' spans in the
session's totals (design.md section 4): LLM calls and tool calls with their tokens and
cost, in every convention of ``conventions.TABLE``, and spans with status ERROR as errors.
The package's own spans are counted where they are made, never here.

One call traced by several instrumentations counts once:

- an LLM (tool) span started while an LLM (tool) span of the same trace is open among
  its ancestors, through any spans in between, is part of that call;
- some instrumentations write a span's kind only when it ends (OpenInference's and
  OpenLLMetry's LangChain tracers). Such a span joins the call of an open ancestor of its
  kind; else it is one with a call already counted that it contains: one of its
  descendants, or else, as those tracers do not make their LLM spans current, a call
  traced by another instrumentation that started and ended within it;
- input tokens, output tokens and cost are each taken from the outermost span of the
  call that carries them, else from the first nested one that does, and never twice.

Costs: a span outside any session pays two dictionary look-ups and a context read; a
span of a session's trace that is no LLM or tool call also pays one entry in a dictionary
of open spans, removed when it ends. At most ``MAX_OPEN`` spans are remembered (spans
that never end are forgotten, oldest first), and the calls a late span may still join
are kept per session, a few at a time, as long as the session object lives.
"""

from __future__ import annotations

import threading
import weakref
from collections import deque
from typing import Any

from opentelemetry import context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import StatusCode

from . import attributes as attr
from .conventions import CALL_KEYS, KEYS, LLM_CALL, call_kind, usage
from .registry import AGENT_KEY, session_for_trace
from .totals import as_cost, is_token_count

MAX_OPEN = 1 << 16  # open spans remembered at once, across sessions
_MAX_DEPTH = 256  # ancestors walked at most (a guard, trees are far shallower)
_RECENT = 32  # calls per session that a span whose kind comes at its end may still join
_NO_USAGE = (None, None, None)
_providers: weakref.WeakSet[Any] = weakref.WeakSet()


def _usage(attributes: Any) -> tuple[Any, Any, Any]:
    """Input tokens, output tokens and cost of a span, None where absent or invalid."""
    input_tokens, output_tokens, cost = usage(attributes)
    return (
        input_tokens if is_token_count(input_tokens) else None,
        output_tokens if is_token_count(output_tokens) else None,
        as_cost(cost),
    )


class _Call:
    """One LLM or tool call, however many spans (instrumentations) trace it."""

    __slots__ = (
        "ancestors",
        "claimed",
        "counted",
        "end",
        "head",
        "kind",
        "open",
        "pending",
        "scope",
        "start",
        "taken",
        "totals",
    )

    def __init__(self, kind: str, totals: Any, head: int, start: Any, scope: str | None):
        self.kind, self.totals, self.head, self.start, self.scope = kind, totals, head, start, scope
        self.open = True  # while its outermost span runs, nested spans join it
        self.counted = False
        self.claimed = False  # joined by a span that contained it
        self.end: int | None = None
        self.ancestors: frozenset[int] = frozenset()  # open spans above it when it ended
        self.pending: list[Any] = [None, None, None]  # the first nested span's usage
        self.taken = [False, False, False]  # usage already in the totals, per field

    def count(self) -> None:
        if not self.counted:
            self.counted = True
            if self.kind is LLM_CALL:
                self.totals.add_llm_call()
            else:
                self.totals.add_tool_call()

    def add(self, values: Any) -> None:
        """Add each value whose field is not in the totals yet."""
        new = list(_NO_USAGE)
        for index, value in enumerate(values):
            if value is not None and not self.taken[index]:
                self.taken[index], new[index] = True, value
        if new != list(_NO_USAGE):
            self.totals.add_usage(*new)

    def mark(self, values: Any) -> None:
        """Values the package's own span counted where it was made."""
        for index, value in enumerate(values):
            if value is not None:
                self.taken[index] = True

    def hold(self, values: Any) -> None:
        """A nested span's values: used when the outermost span carries none."""
        for index, value in enumerate(values):
            if value is not None and self.pending[index] is None:
                self.pending[index] = value


class _Node:
    """An open span that is an LLM or tool call (plain open spans are their parent's id)."""

    __slots__ = ("call", "parent_id")

    def __init__(self, parent_id: int, call: _Call) -> None:
        self.parent_id, self.call = parent_id, call


def _scope_name(span: Any) -> str | None:
    scope = span.instrumentation_scope
    return None if scope is None else scope.name


class SessionSpanProcessor(SpanProcessor):
    def __init__(self) -> None:
        # span id -> its parent's span id (a plain span) or a _Node (an LLM or tool call)
        self._open: dict[int, Any] = {}
        self._recent: weakref.WeakKeyDictionary[Any, deque[_Call]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()  # taken for LLM and tool calls only

    def on_start(self, span: Span, parent_context: Any = None) -> None:
        attributes = span.attributes
        agent = (context.get_current() if parent_context is None else parent_context).get(AGENT_KEY)
        if agent is not None and attr.AGENT_ID not in attributes:
            span.set_attributes({attr.AGENT_ID: agent[0], attr.AGENT_NAME: agent[1]})
        span_context = span.context
        session = session_for_trace(span_context.trace_id)
        if session is None:
            return
        if attr.SESSION_ID not in attributes:
            span.set_attribute(attr.SESSION_ID, session.session_id)
        parent = span.parent
        parent_id = 0 if parent is None else parent.span_id
        kind = None if CALL_KEYS.isdisjoint(attributes) else call_kind(attributes)
        if kind is None:
            self._remember_open(span_context.span_id, parent_id)
            return
        scope = _scope_name(span)
        with self._lock:
            call = self._open_call(kind, parent_id)
            if call is None:
                call = _Call(kind, session.totals, span_context.span_id, span.start_time, scope)
            if scope == attr.TRACER_NAME:  # our own span: the call is counted where it is made
                call.counted = True
                call.mark(_usage(attributes))
            self._remember_open(span_context.span_id, _Node(parent_id, call))

    def on_end(self, span: ReadableSpan) -> None:
        span_context = span.context
        node = self._open.pop(span_context.span_id, None) if self._open else None
        session = session_for_trace(span_context.trace_id)
        if session is None:  # most spans of most programs: no property read beyond this
            return
        ours = _scope_name(span) == attr.TRACER_NAME
        if type(node) is _Node:
            self._end_call(span, node, session, ours)
        elif not ours and not KEYS.isdisjoint(span.attributes):
            kind = call_kind(span.attributes)
            if kind is not None:
                self._end_late(span, kind, session)
        if not ours and span.status.status_code is StatusCode.ERROR:
            session.totals.add_error()

    def _remember_open(self, span_id: int, value: Any) -> None:
        opened = self._open
        opened[span_id] = value
        if len(opened) > MAX_OPEN:  # spans that never ended: forget the oldest
            opened.pop(next(iter(opened)), None)

    def _ancestors(self, parent_id: int):
        """``(span id, value)`` of the open spans above a span, nearest first."""
        opened = self._open
        for _ in range(_MAX_DEPTH):
            value = opened.get(parent_id)
            if value is None:
                return
            yield parent_id, value
            parent_id = value.parent_id if type(value) is _Node else value

    def _ended_outer(self, recent: deque[_Call], kind: str, parent_id: int) -> _Call | None:
        """The call of ``kind`` whose span is the nearest ancestor no longer open, if any."""
        for _, value in self._ancestors(parent_id):
            parent_id = value.parent_id if type(value) is _Node else value
        return next((c for c in recent if c.head == parent_id and c.kind is kind), None)

    def _open_call(self, kind: str, parent_id: int) -> _Call | None:
        """The open call of ``kind`` among the ancestors, if any."""
        for _, value in self._ancestors(parent_id):
            if type(value) is _Node and value.call.kind is kind and value.call.open:
                return value.call
        return None

    def _end_call(self, span: ReadableSpan, node: _Node, session: Any, ours: bool) -> None:
        """A span that was an LLM or tool call from its start ends."""
        call = node.call
        values = _NO_USAGE if ours else _usage(span.attributes)  # ours: marked at start
        with self._lock:
            if call.head != span.context.span_id:  # nested: part of a call
                if call.open:
                    call.hold(values)
                else:  # the outermost span ended first
                    call.add(values)
                return
            call.open, call.end = False, span.end_time
            recent = self._recent_calls(session)
            outer = self._ended_outer(recent, call.kind, node.parent_id)
            if outer is not None and not call.counted:  # its late outermost span ended first
                outer.add(values)
                outer.add(call.pending)
                return
            call.count()
            call.add(values)
            call.add(call.pending)
            call.ancestors = frozenset(i for i, _ in self._ancestors(node.parent_id))
            recent.append(call)

    def _end_late(self, span: ReadableSpan, kind: str, session: Any) -> None:
        """A span that became an LLM or tool call after its start ends."""
        values = _usage(span.attributes)
        parent = span.parent
        parent_id = 0 if parent is None else parent.span_id
        span_id = span.context.span_id
        with self._lock:
            call = self._open_call(kind, parent_id)
            if call is not None:  # nested in a call that is still open
                call.hold(values)
                return
            ancestors = frozenset(i for i, _ in self._ancestors(parent_id))
            recent = self._recent_calls(session)
            call = self._ended_outer(recent, kind, parent_id)
            if call is not None:  # nested in a call whose outermost span ended first
                call.add(values)
                return
            call = _contained_call(recent, kind, span_id, span, _scope_name(span))
            if call is not None:  # one call with one counted already
                call.claimed = True
                call.ancestors |= ancestors
                call.add(values)
                return
            call = _Call(kind, session.totals, span_id, span.start_time, _scope_name(span))
            call.open, call.end, call.ancestors = False, span.end_time, ancestors
            call.count()
            call.add(values)
            recent.append(call)

    def _recent_calls(self, session: Any) -> deque[_Call]:
        recent = self._recent.get(session)
        if recent is None:
            recent = self._recent[session] = deque(maxlen=_RECENT)
        return recent


def _contained_call(
    recent: deque[_Call], kind: str, span_id: int, span: ReadableSpan, scope: str | None
) -> _Call | None:
    """The counted call that a span whose kind came late is one with, if any.

    One of its descendants first; else the earliest call of another instrumentation
    that started and ended within it and no other span has joined yet.
    """
    start, end = span.start_time, span.end_time
    found = None
    for call in recent:
        if call.kind is not kind:
            continue
        if span_id in call.ancestors:
            return call
        inside = (
            not call.claimed
            and call.scope != scope
            and start is not None
            and end is not None
            and call.end is not None
            and start <= call.start
            and call.end <= end
        )
        if inside and (found is None or call.start < found.start):
            found = call
    return found


def attach_processor(provider: Any) -> None:
    """Add the processor to an SDK provider, once per provider."""
    add = getattr(provider, "add_span_processor", None)
    if add is None or provider in _providers:
        return
    _providers.add(provider)
    add(SessionSpanProcessor())
