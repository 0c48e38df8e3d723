"""The span processor that folds every span of a session's trace into the session.

Added once to each SDK TracerProvider the package uses. At span start it stamps
``session.id`` and ``gen_ai.conversation.id`` with the session's id on any span of a
running session's trace (other instrumentations' spans included), and the agent's
``gen_ai.agent.id`` / ``gen_ai.agent.name`` on any such span started while an agent runs.
The session's id wins: a framework's own value, at the start or written later, is kept
under ``agentops.framework.session.id`` / ``agentops.framework.conversation.id``
(``ids.py``). With ``propagate_session`` on, a span of a trace that has no session here
gets the session its parent context's W3C baggage names (``baggage.py``): a tool server's
spans belong to the calling agent's session (counted nowhere: there is no root here, and
the backend adds each service's spans up). At span end, other instrumentations' LLM and
tool calls are counted (``counting.CallCounter``) and their spans with status ERROR are
errors; the package's own spans are counted where they are made, and take part in the
nesting. While content is captured, an LLM call's messages may be the run's input or
output (``recognition.observe_call``).

A span outside any session pays one dictionary look-up at start and end (and, with
``propagate_session`` on, a read of its parent context's baggage); a span of a
session's trace also pays a context read and one entry in the map of open spans. At most
``MAX_OPEN`` open spans are remembered (spans that never end are forgotten, oldest first).
"""

from __future__ import annotations

import threading
from typing import Any

from opentelemetry import context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import StatusCode

from .._runtime.owner import RUNTIME
from .._runtime.registry import AGENT_KEY
from .._runtime.settings import logger
from . import attributes as attr
from .baggage import stamp_from_baggage
from .conventions import KEYS, LLM_CALL, call_kind, present
from .counting import ERROR, CallCounter, span_usage
from .escaping import printable
from .ids import stamp
from .recognition import observe_call

MAX_OPEN = 1 << 16  # open spans remembered at once, across sessions
ENDED_AFTER_SHUTDOWN = "ended after shutdown"  # the key of its once-per-process warning
_current = context.get_current


class SessionSpanProcessor(SpanProcessor):
    def __init__(self) -> None:
        self._open: dict[int, Any] = {}  # span id -> the open span, spans of sessions' traces
        self._counter = CallCounter(self._open)
        self._lock = threading.Lock()  # taken for LLM and tool spans only
        self._shut_down = False  # its provider was shut down: sessions ending now are lost

    def shutdown(self) -> None:
        self._shut_down = True

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        # Nothing is held here. Said in so many words: in SDK 1.30 (the lowest supported) the
        # base class answers None, which the provider's force_flush() takes for a failure, and
        # it then skips the processors after this one (the BatchSpanProcessor, often).
        return True

    def on_start(self, span: Span, parent_context: Any = None) -> None:
        span_context = span.context
        session = RUNTIME.sessions.by_trace.get(span_context.trace_id)
        if session is None:  # most spans of most programs
            if RUNTIME.settings.propagate_session:  # another service's session, by baggage
                stamp_from_baggage(span, parent_context)
            return
        stamp(span, session.session_id)
        if RUNTIME.agents_seen:
            _stamp_agent(span, parent_context)
        opened = self._open
        opened[span_context.span_id] = span
        if len(opened) > MAX_OPEN:  # spans that never ended: forget the oldest
            opened.pop(next(iter(opened)), None)

    def on_end(self, span: ReadableSpan) -> None:
        span_context = span.context
        if self._shut_down:
            _ended_after_shutdown(span)
        if self._open:
            self._open.pop(span_context.span_id, None)
        session = RUNTIME.sessions.by_trace.get(span_context.trace_id)
        if session is None:  # most spans of most programs: no property read beyond this
            return
        attributes: Any = span.attributes
        if not KEYS.isdisjoint(attributes):
            found = present(attributes)
            kind = call_kind(found)
            if kind is not None:
                ours = _ours(span)
                with self._lock:
                    self._counter.span_ended(span, kind, span_usage(found), ours, session.totals)
                if kind is LLM_CALL and RUNTIME.settings.capture_content:
                    observe_call(session, span)
        if span.status.status_code is StatusCode.ERROR and not _ours(span):
            session.totals.count(ERROR)


def _stamp_agent(span: Span, parent_context: Any) -> None:
    """The running agent's id and name on a span started while it runs."""
    agent: Any = (_current() if parent_context is None else parent_context).get(AGENT_KEY)
    if agent is not None:
        attributes: Any = span.attributes
        if attr.AGENT_ID not in attributes:
            span.set_attributes({attr.AGENT_ID: agent[0], attr.AGENT_NAME: agent[1]})


def _ours(span: ReadableSpan) -> bool:
    """Whether the package made ``span`` (its own spans are counted where they are made)."""
    scope = span.instrumentation_scope
    return scope is not None and scope.name == attr.TRACER_NAME


def _ended_after_shutdown(span: ReadableSpan) -> None:
    """A session's root ended after its provider shut down: not exported; say so, once."""
    attributes: Any = span.attributes
    if attr.SESSION_END_STATE not in attributes or not RUNTIME.once(ENDED_AFTER_SHUTDOWN):
        return
    logger.warning(
        "Session %s ended after its TracerProvider was shut down, so it is not exported "
        "(nor are sessions ending after it). End sessions before calling the provider's "
        "shutdown(); at exit the package ends the running ones before the SDK shuts down.",
        printable(str(attributes.get(attr.SESSION_NAME) or attributes.get(attr.SESSION_ID))),
    )


def attach_processor(provider: Any) -> None:
    """Add the processor to an SDK provider, once per provider."""
    add = getattr(provider, "add_span_processor", None)
    processed = RUNTIME.processed
    if add is None or provider in processed:
        return
    processed.add(provider)
    add(SessionSpanProcessor())
