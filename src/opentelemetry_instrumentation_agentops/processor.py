"""The span processor that folds every span of a session's trace into the session.

Added once to each SDK TracerProvider the package uses. At span start it stamps
``session.id`` and ``gen_ai.conversation.id`` with the session's id on any span of a
running session's trace, other instrumentations' spans included: the session's id wins, and
a value the span started with, or that is written later, is kept under
``agentops.framework.session.id`` / ``agentops.framework.conversation.id``. It also
stamps ``gen_ai.agent.id`` / ``gen_ai.agent.name`` on any such span started while an agent
runs (its parent context holds the agent). At span end it counts other instrumentations'
spans in the session's totals (design.md section 4): LLM calls and tool calls with their
tokens and cost, in every convention of ``conventions.TABLE``, and spans with status ERROR
as errors. The package's own spans are counted where they are made, never here; they take
part in the nesting below all the same.

One call traced by several instrumentations counts once. Its spans are found here:

- an LLM (tool) span inside an LLM (tool) span of the same trace that is still open
  among its ancestors, through any spans in between, is part of that call, whichever
  ends first; so is a call counted already that turns out to be a descendant of a span
  that says it is an LLM (tool) span only when it ends (OpenInference's LangChain tracer);
- what a call counts as once its outermost span ended (a client library's call, a
  framework's that a client call covers, one that never reached a model, two frameworks'
  tracers on one run), and its tokens: ``calls.py``.

Costs: a span outside any session pays one dictionary look-up at start and end; a span
of a session's trace also pays a context read and one entry in a dictionary of open
spans, removed when it ends. Only LLM and tool spans walk their ancestors. At most
``MAX_OPEN`` open spans are remembered (spans that never end are forgotten, oldest
first), and a bounded number of recent calls.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections import OrderedDict, deque
from typing import Any

from opentelemetry import context
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import StatusCode

from . import attributes as attr
from .calls import OURS, Call, grow, parent_id, same_call, scope_name, settle
from .conventions import (
    KEYS,
    LLM_CALL,
    answered,
    call_kind,
    is_client_scope,
    models,
    present,
    usage,
)
from .registry import AGENT_KEY, session_for_trace
from .totals import as_cost, is_token_count

MAX_OPEN = 1 << 16  # open spans remembered at once, across sessions
_MAX_DEPTH = 256  # ancestors walked at most (a guard, trees are far shallower)
_RECENT = 32  # calls per trace that a span ending later may still be one with
_TRACES = 1024  # traces whose recent calls are kept
_ENDED = 1024  # calls, across traces, whose outermost span may end before a nested one
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


_IDS = frozenset((attr.SESSION_ID, attr.CONVERSATION_ID))
_KEPT = {
    attr.SESSION_ID: attr.FRAMEWORK_SESSION_ID,
    attr.CONVERSATION_ID: attr.FRAMEWORK_CONVERSATION_ID,
}


def _stamp(attributes: Any, session_id: str) -> dict[str, Any]:
    """The session's ids for a span that arrived with one of them, its own values kept."""
    stamp: dict[str, Any] = {attr.SESSION_ID: session_id, attr.CONVERSATION_ID: session_id}
    for key, kept in _KEPT.items():
        own = attributes.get(key)
        if own is not None and own != session_id:
            stamp[kept] = own
    return stamp


class _SessionAttributes(BoundedAttributes):
    """The attributes of a span of a session's trace, once stamped: ``session.id`` and
    ``gen_ai.conversation.id`` keep the session's id, another value written later goes under
    ``agentops.framework.*``. OpenInference's tracers write their attributes again right
    after the span started, so stamping at the start alone would not hold.

    The SDK writes every attribute through ``__setitem__`` (``set_attribute``) or
    ``_set_items`` (``set_attributes``, SDK 1.39 and later); the class of the span's own
    ``BoundedAttributes`` is swapped for this one, nothing is copied.
    """

    __slots__ = ()

    def _kept(self, key: str, value: Any) -> str:
        current = self._dict.get(key)
        return key if current is None or current == value else _KEPT[key]

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(self._kept(key, value) if key in _KEPT else key, value)

    def _set_items(self, attributes: Any) -> None:
        if not _IDS.isdisjoint(attributes):
            attributes = {(self._kept(k, v) if k in _KEPT else k): v for k, v in attributes.items()}
        super()._set_items(attributes)  # type: ignore[misc]


def _guard(span: Any) -> None:
    """Keep the session's ids on ``span`` whatever is written later (an SDK span only)."""
    attributes = getattr(span, "_attributes", None)
    if type(attributes) is BoundedAttributes:
        # Another layout (a later SDK): the ids stamped at the start stay all the same.
        with contextlib.suppress(TypeError):
            attributes.__class__ = _SessionAttributes


class SessionSpanProcessor(SpanProcessor):
    def __init__(self) -> None:
        self._open: dict[int, Any] = {}  # span id -> the open span, spans of sessions' traces
        self._calls: dict[int, Call] = {}  # outermost span id -> its call, while it is open
        # Ordered dicts: dropping the oldest entry of a plain dict scans its deleted slots.
        self._ended: OrderedDict[int, Call] = OrderedDict()  # by outermost span id
        self._recent: OrderedDict[int, deque[Call]] = OrderedDict()  # by trace id
        self._lock = threading.Lock()  # taken for LLM and tool spans only

    def on_start(self, span: Span, parent_context: Any = None) -> None:
        span_context = span.context
        session = session_for_trace(span_context.trace_id)
        if session is None:  # most spans of most programs
            return
        attributes = span.attributes
        session_id = session.session_id
        if _IDS.isdisjoint(attributes):  # most spans
            span.set_attributes({attr.SESSION_ID: session_id, attr.CONVERSATION_ID: session_id})
        else:  # the session's id wins; a framework's own is kept beside it
            span.set_attributes(_stamp(attributes, session_id))
        _guard(span)
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
                signs = None
                if kind is LLM_CALL:
                    scope_name = None if scope is None else scope.name
                    signs = (is_client_scope(scope_name), answered(attributes), models(attributes))
                with self._lock:
                    self._end_call(span, kind, _usage(found), ours, session, signs)
        if not ours and span.status.status_code is StatusCode.ERROR:
            session.totals.add_error()

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

    def _end_call(
        self, span: Any, kind: str, values: Any, ours: bool, session: Any, signs: Any
    ) -> None:
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
                call = self._calls[head_id] = Call(kind, session.totals, head)
                if len(self._calls) > _ENDED:  # outermost spans that never ended
                    self._calls.pop(next(iter(self._calls)), None)
            call.note(signs)
            self._join(call, values, ours)
            return
        call = self._ended.get(stop)
        if call is not None and call.kind is kind and call.totals is session.totals:
            if not ours:  # nested in a call whose outermost span ended first
                call.note(signs)
                grow(call, values, self._recent_calls(span.context.trace_id, session))
            return
        span_id = span.context.span_id
        call = self._calls.pop(span_id, None) or Call(kind, session.totals, span)
        call.note(signs)
        call.end = span.end_time
        if lineage:
            call.ancestors = frozenset(a.context.span_id for a in lineage)
        recent = self._recent_calls(span.context.trace_id, session)
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

    @staticmethod
    def _join(call: Call, values: Any, ours: bool) -> None:
        if ours:  # counted where it was made: the call is, with what it carried
            call.role = OURS
            call._take(values)
        else:
            call.hold(values)

    def _recent_calls(self, trace_id: int, session: Any) -> deque[Call]:
        recent = self._recent.get(trace_id)
        # A trace id seen again (a seeded ``random`` makes the SDK's ids repeat): start anew.
        if recent is None or (recent and recent[0].totals is not session.totals):
            recent = self._recent[trace_id] = deque(maxlen=_RECENT)
            if len(self._recent) > _TRACES:  # the oldest trace's session has long ended
                self._recent.popitem(last=False)
        return recent


def attach_processor(provider: Any) -> None:
    """Add the processor to an SDK provider, once per provider."""
    add = getattr(provider, "add_span_processor", None)
    if add is None or provider in _providers:
        return
    _providers.add(provider)
    add(SessionSpanProcessor())
