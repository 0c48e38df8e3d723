"""Sessions: one root span each, made current through the OpenTelemetry context.

A session is never held in a module global. ``start()`` puts it in the caller's OTel
context (a contextvar), so threads and asyncio tasks each see their own; the runtime's
registry only answers "which sessions are still running" and "which session owns this
trace". No context token is ever stored: making a session current and restoring the
previous context are plain ``attach`` calls, so ending a session from any thread or task
can never log "Failed to detach context".

A session is a *run*: one trace. Several runs may share one ``session_id`` (a conversation
served turn by turn); each has its own end state and totals, told apart by trace.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator
from typing import Any

from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Status, StatusCode

from .._runtime.owner import RUNTIME
from .._runtime.registry import SESSION_KEY
from .._runtime.settings import logger
from . import attributes as attr
from . import baggage, exits, ids, metrics, recognition, reports, snapshots
from .content import normalize_tags, safe_attribute, safe_str, safe_text, user_attributes
from .counting import ERROR, NO_COUNTS, Counts, Totals
from .event_spans import record_event
from .propagation import MAX_SESSION_ID, continuation, is_valid_id, uuid_text
from .redaction import is_secret_key
from .remembering import live, remembering
from .tracer import mark_error, new_trace_id, record_exception, root_tracer, start_root_span
from .types import (
    EndState,
    InvalidArgumentError,
    InvalidEndStateError,
    SessionEndedError,
    parse_end_state,
    report,
)

MAX_TAGS = 100  # tags of one session: the attribute stays bounded
_STATUS_OK = Status(StatusCode.OK)  # immutable: one for every session that ends Success


class Session(recognition.Recognisable):
    """One agent run: a root span, its tags, its end state and its totals."""

    __slots__ = (
        "__weakref__",
        "_end_ns",
        "_start_ns",
        "_totals",
        "context",
        "end_state",
        "end_state_reason",
        "ended",
        "instruments",
        "name",
        "previous_context",
        "session_id",
        "span",
        "tags",
        "trace_id",
    )

    def __init__(
        self,
        span: trace.Span,
        trace_id: int,
        session_id: str,
        tags: list[str],
        name: str | None,
        previous_context: Context,
        user_id: str | None = None,
    ) -> None:
        self.span = span
        self.trace_id = trace_id
        self.session_id = session_id
        self.tags = tags
        self.name = name
        self.end_state: str | None = None
        self.end_state_reason: str | None = None
        self.ended = False
        self._totals: Totals | None = None  # made at the first count or read: see ``totals``
        self.instruments: Any = None  # the metric instruments it is measured on, if any
        self.user_id = user_id
        self.exchange: Any = None  # its input and output, kept while content is captured
        self.context = context.set_value(
            SESSION_KEY, self, trace.set_span_in_context(span, previous_context)
        )
        self.previous_context = previous_context
        # The root's own start time (an int the span holds anyway), else now: a session held
        # 36 bytes more and called time_ns() once more with its own.
        self._start_ns: int = getattr(span, "start_time", None) or time.time_ns()
        self._end_ns: int | None = None

    def __repr__(self) -> str:
        state = "running" if not self.ended else f"ended {self.end_state}"
        return f"<Session {self.session_id} {state}>"

    @property
    def totals(self) -> Totals:
        """Its counts, made when first used: an open session that counted nothing holds none
        (a ``Totals`` and its lock are 184 of the 4,400 bytes of an idle open session)."""
        totals = self._totals
        if totals is None:
            with RUNTIME.sessions.lock:  # two threads counting first must share one
                totals = self._totals
                if totals is None:
                    totals = self._totals = Totals()
        return totals

    @property
    def counts(self) -> Totals | Counts:
        """Its counts to read: the totals, or none counted, without making any."""
        return NO_COUNTS if self._totals is None else self._totals

    @property
    def is_running(self) -> bool:
        return not self.ended

    @property
    def traceparent(self) -> str:
        """W3C ``traceparent`` of the root span, to continue the session elsewhere."""
        span_context = self.span.get_span_context()
        flags = int(span_context.trace_flags) if span_context.is_valid else 1
        return f"00-{self.trace_id:032x}-{span_context.span_id:016x}-{flags:02x}"

    @property
    def duration_seconds(self) -> float:
        """Seconds from the start to the end, or to now while the session runs."""
        return ((self._end_ns or time.time_ns()) - self._start_ns) / 1e9

    def record(self, event: Any) -> None:
        """Record an event (``ActionEvent``, ``LLMEvent``, ...) in this session."""
        if self.ended:
            report(
                SessionEndedError,
                f"Recording into session {self.session_id}, which has already ended; the "
                "event is exported in its trace but not counted. Start a new session for it.",
            )
        record_event(event, self)

    def end_session(
        self,
        end_state: Any = EndState.SUCCESS,
        end_state_reason: str | None = None,
        **legacy: Any,
    ) -> dict[str, Any] | None:
        """End the session; returns its analytics."""
        return self.end(end_state, end_state_reason, legacy=legacy)

    def add_tags(self, tags: Any) -> None:
        self._retag(self.tags + [t for t in normalize_tags(tags) if t not in self.tags])

    def set_tags(self, tags: Any) -> None:
        self._retag(normalize_tags(tags))

    def get_analytics(self) -> dict[str, Any]:
        """AgentOps' summary keys: LLM calls, Tool calls, Actions, Errors, Duration, Cost."""
        totals = self.counts
        return {
            "LLM calls": totals.llm_calls,
            "Tool calls": totals.tool_calls,
            "Actions": totals.actions,
            "Errors": totals.errors,
            "Duration": reports.format_duration(self.duration_seconds),
            "Cost": f"{totals.cost:.6f}" if totals.cost else "0.00",
        }

    @contextlib.contextmanager
    def activate(self) -> Iterator[Session]:
        """Make this session current in the block, without ending it."""
        previous = context.get_current()
        context.attach(context.set_value(SESSION_KEY, self, self.context))
        try:
            yield self
        finally:
            if context.get_value(SESSION_KEY) is self:
                context.attach(remembering(self, live(previous)) if self.ended else previous)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if not self.ended:
            self.finish(exc)

    def finish(self, exception: BaseException | None = None) -> dict[str, Any]:
        """End the session as the code it wrapped ended (a ``with`` block, a decorated call).

        Success when it returned; Fail, with the exception recorded and counted, when it
        raised an ``Exception``; Indeterminate when a ``BaseException`` that is no error
        (asyncio cancellation, ``KeyboardInterrupt``, ``SystemExit``, ``GeneratorExit``)
        left it, with a reason naming it.
        """
        if exception is None:
            return self.end(EndState.SUCCESS)
        kind = type(exception).__name__
        if isinstance(exception, Exception):
            return self.end(EndState.FAIL, f"{kind}: {safe_text(exception)}", exception=exception)
        return self.end(EndState.INDETERMINATE, f"interrupted by {kind}")

    def end(
        self,
        end_state: Any,
        reason: Any = None,
        exception: BaseException | None = None,
        legacy: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """End the root span with its end state and totals (never blocks on export).

        Every way of ending a session comes here. ``exception``, when given, is
        recorded on the root and counted as one of the session's errors.
        """
        state = end_state if type(end_state) is EndState else parse_end_state(end_state)
        reason = None if reason is None else safe_text(reason)  # exported: secrets redacted
        if state is None:
            given = f"end state {safe_text(end_state, 200)!r}"
            report(
                InvalidEndStateError,
                f"Unknown {given}; use 'Success', 'Fail' or "
                "'Indeterminate' (EndState). The session ends Indeterminate.",
            )
            state, reason = EndState.INDETERMINATE, f"{given}: {reason}" if reason else given
        if self.ended or not RUNTIME.sessions.unregister(self):  # once, even from two threads
            report(
                SessionEndedError,
                f"Session {self.session_id} was already ended ({self.end_state}); "
                "end each session once.",
            )
            return self.get_analytics()
        self.ended = True
        self._end_ns = time.time_ns()
        self.end_state, self.end_state_reason = state.value, reason
        if exception is not None:
            self.totals.count(ERROR, exception=exception)
        self._write_end(state, reason, exception, legacy)
        self._leave()
        if self.instruments is not None:  # measured where it started
            metrics.session_ended(self)
        reports.session_ended(self)
        for hook in RUNTIME.end_hooks:  # layers above (the agentops redirect)
            try:
                hook(self)
            except Exception:  # telemetry never breaks the application
                logger.debug("a session-end hook failed", exc_info=True)
        return self.get_analytics()

    def _write_end(
        self,
        state: EndState,
        reason: str | None,
        exception: BaseException | None,
        legacy: dict[str, Any] | None,
    ) -> None:
        span = self.span
        end_attributes = self.counts.as_attributes()
        end_attributes[attr.SESSION_END_STATE] = self.end_state
        if self.exchange is not None:  # content capture on, and something to say
            end_attributes.update(recognition.end_attributes(self))
        if reason is not None:
            end_attributes[attr.SESSION_END_STATE_REASON] = reason
        if legacy:  # AgentOps' other keywords; one named like a secret is never kept
            for key, value in legacy.items():
                if value is not None and not is_secret_key(key):
                    end_attributes[attr.LEGACY_PREFIX + safe_str(key, 100)] = safe_attribute(value)
        span.set_attributes(end_attributes)
        if state is EndState.SUCCESS:
            span.set_status(_STATUS_OK)
        elif state is EndState.FAIL:
            if exception is None:
                span.set_status(Status(StatusCode.ERROR, reason))
            else:
                mark_error(span, exception, reason)
        elif exception is not None:
            record_exception(span, exception)
        span.end(self._end_ns)

    def _leave(self) -> None:
        """Restore what was current before, if the caller's context still holds us.

        The restored context remembers this session unless a running one is current
        there, so module-level calls made in it later act on this session (and warn),
        never on another one.
        """
        # From here on it remembers the nearest context whose session still runs, not the
        # ended one it may have started over: ended sessions never keep each other alive.
        previous = self.previous_context = live(self.previous_context)
        if context.get_value(SESSION_KEY) is self:
            context.attach(remembering(self, previous))

    def _retag(self, tags: list[str]) -> None:
        if self.ended:
            report(SessionEndedError, f"Session {self.session_id} has ended; tags not changed.")
            return
        self.tags = tags[:MAX_TAGS]
        self.span.set_attribute(attr.SESSION_TAGS, self.tags)


def start(
    tags: Any = None,
    inherited_session_id: Any = None,
    *,
    name: Any = None,
    attributes: Any = None,
    session_id: Any = None,
    user_id: Any = None,
    cls: type[Session] = Session,
) -> Session:
    """Start a session (a new root span) and make it current in the caller's context.

    ``session_id`` starts a run of that conversation on a fresh trace;
    ``inherited_session_id`` continues an earlier session's own trace. ``user_id``
    (else a ``user.id`` among ``attributes``) is the end user it serves. ``cls`` is the
    class of the session made (the API's adds AgentOps' methods).
    """
    tag_list = normalize_tags(tags, MAX_TAGS)
    if RUNTIME.settings.default_tags:
        tag_list += [t for t in RUNTIME.settings.default_tags if t not in tag_list]
        del tag_list[MAX_TAGS:]
    name = None if name is None else safe_str(name, 200)
    given_id = _valid_session_id(session_id)
    trace_id, parent = (
        (0, None) if inherited_session_id is None else continuation(inherited_session_id)
    )
    root = root_tracer()
    if given_id is None:  # its trace's id, chosen before the root starts where the SDK allows
        trace_id = trace_id or new_trace_id(root[1])
        given_id = uuid_text(trace_id) if trace_id else None
    previous = context.get_current()
    links = _link_to_current(previous)
    start_attributes, user = recognition.root_attributes(
        None if attributes is None else user_attributes(attributes), user_id
    )
    if given_id is not None:  # known before the root exists: samplers see it
        start_attributes[attr.SESSION_ID] = start_attributes[attr.CONVERSATION_ID] = given_id
    if tag_list:
        start_attributes[attr.SESSION_TAGS] = tag_list
    if name:
        start_attributes[attr.SESSION_NAME] = name
    span_name = f"session {name}" if name else "session"
    span = start_root_span(root, span_name, start_attributes, links, trace_id, parent)
    # A provider that makes no ids (the API's no-op) still gives each session its own.
    trace_id = span.get_span_context().trace_id or trace_id or random.getrandbits(128) or 1
    if given_id is None:  # a tracer that takes no chosen id: its trace's, known only now
        given_id = uuid_text(trace_id)
        ids.stamp(span, given_id)
    session = cls(span, trace_id, given_id, tag_list, name, previous, user)
    if RUNTIME.settings.propagate_session:  # its id goes along to the services it calls
        # user.id: what start_session(user_id=...) or attributes={"user.id": ...} put on the root.
        session.context = baggage.with_session(session.context, given_id, user)
    RUNTIME.sessions.register(session)
    context.attach(session.context)
    if RUNTIME.exited:  # an application's atexit handler, run after ours
        exits.warn_started_after_exit(session)
    exits.arm_for_provider()
    ids.hold()
    metrics.session_started(session)
    snapshots.watch(session)
    return session


def _link_to_current(ctx: Context) -> list[Link] | None:
    """A link to the span current where the session starts, if any (most start with none)."""
    current = trace.get_current_span(ctx)
    if current is trace.INVALID_SPAN:
        return None
    span_context = current.get_span_context()
    return [Link(span_context)] if span_context.is_valid else None


def _valid_session_id(value: Any) -> str | None:
    """``value`` when it is a usable session id (``is_valid_id``), else None after a warning.

    An id with a control character (newline, carriage return, escape, NUL, ...) is refused
    as an over-long one is: ids come from requests, and end up in log lines.
    """
    if value is None:
        return None
    if is_valid_id(value):
        return safe_str(value, MAX_SESSION_ID)
    report(
        InvalidArgumentError,
        f"session_id must be a non-empty string of at most {MAX_SESSION_ID} characters "
        "without control characters (newline, carriage return, escape, NUL, ...), got "
        f"{safe_str(value, 100)!r}; the session got a generated id instead.",
    )
    return None
