"""From events to spans.

An event span is a child of the current span when that span belongs to the
session's trace, else a child of the session's root. An event with no session
is still exported, as a span of its own, so nothing is lost; one recorded in
the trace of a session that has ended still carries its ``session.id``.
Sessions are seen as ``types.SessionLike``: this module sits below ``sessions.py``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from time import time_ns
from types import MappingProxyType
from typing import Any

from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from .._runtime.owner import RUNTIME
from .._runtime.registry import AGENT_KEY, SESSION_KEY
from . import attributes as attr
from .content import capture, safe_str, safe_text
from .conventions import LLM_CALL, TOOL_CALL
from .counting import ACTION, ERROR
from .events import (
    ActionEvent,
    ErrorEvent,
    Event,
    EventType,
    LLMEvent,
    Timestamp,
    ToolEvent,
    foreign_event,
    now_iso,
)
from .propagation import uuid_text
from .tracer import get_tracer, mark_error
from .types import InvalidArgumentError, SessionLike, report
from .usage import cost, token_count

_SPAN_CONTEXT = "_agentops_span_context"
# What each kind of event counts as in its session's totals (LLM calls with their usage).
_KINDS = MappingProxyType(
    {
        EventType.LLM: LLM_CALL,
        EventType.TOOL: TOOL_CALL,
        EventType.ACTION: ACTION,
        EventType.ERROR: ERROR,
    }
)


def parent_context(session: SessionLike | None, current: Context | None = None) -> Context:
    """The context a span of ``session`` starts in; ``current`` when the caller holds it."""
    if current is None:
        current = context.get_current()
    if session is None:
        return current
    if trace.get_current_span(current).get_span_context().trace_id == session.trace_id:
        return current
    return session.context


def start_child_span(
    name: str,
    attributes: dict[str, Any],
    session: SessionLike | None,
    start_time: int | None = None,
    links: list[Link] | None = None,
    current: Context | None = None,
) -> tuple[trace.Span, Context]:
    """Start a span of ``session`` (or a span of its own); returns it and its parent context."""
    parent = parent_context(session, current)
    if session is None:
        session = _ended_session_of(parent)
    if session is not None:  # both ids given at the start: the processor then writes none
        attributes[attr.SESSION_ID] = attributes[attr.CONVERSATION_ID] = session.session_id
    agent: Any = parent.get(AGENT_KEY)
    if agent is not None and attr.AGENT_ID not in attributes:
        attributes[attr.AGENT_ID], attributes[attr.AGENT_NAME] = agent
    span = get_tracer().start_span(
        name, parent, SpanKind.INTERNAL, attributes, links, start_time=start_time
    )
    return span, parent


def _ended_session_of(parent: Context) -> SessionLike | None:
    """The session of ``parent``'s trace that has ended but is still in the context, if any."""
    session: Any = parent.get(SESSION_KEY)
    if session is None:
        return None
    trace_id = trace.get_current_span(parent).get_span_context().trace_id
    return session if trace_id == session.trace_id else None


def record_event(event: Any, session: SessionLike | None) -> None:
    """Export ``event`` as one span of ``session`` and add it to the session's totals."""
    if not isinstance(event, Event):
        event = foreign_event(event)  # events built by the real agentops
    if not isinstance(event, Event):
        report(
            InvalidArgumentError,
            f"record() takes an event (ActionEvent, LLMEvent, ToolEvent, ErrorEvent), got "
            f"{type(event).__name__}; it was recorded as an ActionEvent.",
        )
        event = ActionEvent(action_type=type(event).__name__, logs=event)
    if event.end_timestamp is None:
        event.end_timestamp = now_iso()
    end = _ns(event.end_timestamp)
    if session is not None and event.session_id is None:
        event.session_id = session.session_id
    name, attributes, kind = _describe(event)
    start = _ns(event.init_timestamp) or time_ns()
    links = _trigger_link(event)
    span, _ = start_child_span(name, attributes, session, start, links)
    if isinstance(event, ErrorEvent):
        _mark_error(span, event, start)
    _remember_span(event, span)
    span.end(max(end or time_ns(), start))  # never before its start, whatever was given
    if session is not None and kind is not None and not session.ended:
        if kind == EventType.LLM:  # with the usage _describe_llm() checked (a plain Event: none)
            get = attributes.get
            session.totals.count(
                LLM_CALL, get(attr.INPUT_TOKENS), get(attr.OUTPUT_TOKENS), get(attr.LLM_COST)
            )
        else:
            session.totals.count(_KINDS[kind])


def _describe(event: Event) -> tuple[str, dict[str, Any], str | None]:
    event_type = safe_str(event.event_type, 100)
    attributes: dict[str, Any] = {
        attr.EVENT_ID: _id_text(event.id),
        attr.EVENT_TYPE: event_type,
    }
    if event.agent_id is not None:
        attributes[attr.AGENT_ID] = safe_str(event.agent_id, 100)
    if isinstance(event, LLMEvent):
        return _describe_llm(event, attributes)
    if isinstance(event, ToolEvent):
        tool = safe_str(event.name, 200) if event.name is not None else None
        attributes[attr.OPERATION_NAME] = attr.OP_EXECUTE_TOOL
        if tool:
            attributes[attr.TOOL_NAME] = tool
        capture(attributes, attr.TOOL_CALL_ARGUMENTS, event.params)
        capture(attributes, attr.TOOL_CALL_RESULT, event.returns)
        capture(attributes, attr.EVENT_LOGS, event.logs)
        return (f"execute_tool {tool}" if tool else "execute_tool"), attributes, EventType.TOOL
    if isinstance(event, ErrorEvent):
        error_type = _error_type(event)
        attributes[attr.ERROR_TYPE] = error_type
        if event.code is not None:
            attributes[attr.ERROR_CODE] = safe_str(event.code, 200)
        capture(attributes, attr.ERROR_DETAILS, event.details)
        capture(attributes, attr.EVENT_LOGS, event.logs)
        return f"error {error_type}", attributes, EventType.ERROR
    action = getattr(event, "action_type", None)
    if action is None and event_type != EventType.ACTION:
        action = event_type
    if action is not None:
        action = safe_str(action, 200)
        attributes[attr.ACTION_TYPE] = action
    if RUNTIME.settings.capture_content:  # capture() checks it too: this skips four calls when off
        capture(attributes, attr.EVENT_PARAMS, event.params)
        capture(attributes, attr.EVENT_RETURNS, event.returns)
        capture(attributes, attr.EVENT_LOGS, getattr(event, "logs", None))
        capture(attributes, attr.ACTION_SCREENSHOT, getattr(event, "screenshot", None))
    counted_as_typed = event_type in _KINDS
    kind = event_type if counted_as_typed and not isinstance(event, ActionEvent) else None
    kind = kind or EventType.ACTION
    return (f"action {action}" if action else "action"), attributes, kind


def _describe_llm(event: LLMEvent, attributes: dict[str, Any]) -> tuple[str, dict, str]:
    model = safe_str(event.model, 200) if event.model is not None else None
    attributes[attr.OPERATION_NAME] = attr.OP_CHAT
    if model:
        attributes[attr.REQUEST_MODEL] = model
    # Checked once, for the span and the totals alike: a bad value is named in a warning.
    for key, value, field in (
        (attr.INPUT_TOKENS, event.prompt_tokens, "LLMEvent.prompt_tokens"),
        (attr.OUTPUT_TOKENS, event.completion_tokens, "LLMEvent.completion_tokens"),
    ):
        if value is not None:
            count = token_count(value, field, strict=True)
            if count is not None:
                attributes[key] = count
    if event.cost is not None:
        usd = cost(event.cost, "LLMEvent.cost", strict=True)
        if usd is not None:
            attributes[attr.LLM_COST] = usd
    if event.thread_id is not None:
        attributes[attr.LLM_THREAD_ID] = safe_str(event.thread_id, 100)
    capture(attributes, attr.INPUT_MESSAGES, event.prompt)
    capture(attributes, attr.OUTPUT_MESSAGES, event.completion)
    capture(attributes, attr.EVENT_PARAMS, event.params)
    return (f"chat {model}" if model else "chat"), attributes, EventType.LLM


def _mark_error(span: trace.Span, event: ErrorEvent, timestamp: int | None) -> None:
    # Exported whatever the capture setting: the details' secrets are redacted.
    details = None if event.details is None else safe_text(event.details)
    if isinstance(event.exception, BaseException):
        mark_error(span, event.exception, details, _error_type(event), timestamp)
    else:
        span.set_status(Status(StatusCode.ERROR, details))
        exception_attributes = {"exception.type": _error_type(event)}
        if details is not None:
            exception_attributes["exception.message"] = details
        span.add_event("exception", exception_attributes, timestamp)


def _error_type(event: ErrorEvent) -> str:
    given = event.error_type
    return (safe_str(given, 200) or "Error") if given is not None else "Error"


def _trigger_link(event: Event) -> list[Link] | None:
    trigger = getattr(event, "trigger_event", None)
    if not isinstance(trigger, Event):  # only an event recorded here has a span to link to
        return None
    span_context = getattr(trigger, _SPAN_CONTEXT, None)
    return [Link(span_context)] if span_context is not None else None


def _remember_span(event: Event, span: trace.Span) -> None:
    try:  # not contextlib.suppress: this runs per event, and try costs nothing when nothing fails
        setattr(event, _SPAN_CONTEXT, span.get_span_context())
    except Exception:  # a frozen or slotted subclass cannot keep it: no link then
        return


def _id_text(value: Any) -> str:
    """An event id as text: ``str()`` of the usual ``uuid.UUID``, made without its ``__str__``."""
    if type(value) is uuid.UUID:
        return uuid_text(value.int)
    return safe_str(value, 100)


def _ns(timestamp: Any) -> int | None:
    """Nanoseconds since the epoch for an ISO string, a datetime or a number of seconds."""
    if type(timestamp) is Timestamp and hasattr(timestamp, "ns"):  # made by now_iso(): no parse
        return timestamp.ns
    ns = None
    try:
        if isinstance(timestamp, str):
            ns = int(datetime.fromisoformat(timestamp).timestamp() * 1e9)
        elif isinstance(timestamp, datetime):
            ns = int(timestamp.timestamp() * 1e9)
        elif isinstance(timestamp, (int, float)) and not isinstance(timestamp, bool):
            ns = int(timestamp * 1e9) if timestamp < 1e11 else int(timestamp)
    except Exception:
        return None
    # OTLP times are unsigned 64-bit: another value would fail the export of the whole batch.
    return ns if ns is not None and 0 <= ns < 2**64 else None
