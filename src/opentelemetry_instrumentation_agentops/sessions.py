"""Sessions: one root span each, made current through the OpenTelemetry context.

A session is never held in a module global. ``start_session()`` puts it in the
caller's OTel context (a contextvar), so threads and asyncio tasks each see
their own; the process-wide registry only answers "which sessions are still
running" (for rule 2 of design.md section 5, for exit handling and for the span
processor). No context token is ever stored: making a session current and
restoring the previous context are plain ``attach`` calls, so ending a session
from any thread or task can never log "Failed to detach context".
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Status, StatusCode

from . import attributes as attr
from .config import settings
from .content import as_float, attribute_value, safe_str
from .end_state import EndState, parse_end_state
from .errors import InvalidArgumentError, InvalidEndStateError, SessionEndedError, report
from .propagation import continuation, uuid_text
from .summary import format_duration, log_summary
from .tracing import choose_trace_id, record_exception, start_root_span

logger = logging.getLogger("opentelemetry_instrumentation_agentops")

SESSION_KEY = context.create_key("agentops-session")

_lock = threading.Lock()
_running: dict[Session, None] = {}  # insertion-ordered set of running sessions
_by_trace: dict[int, Session] = {}
MAX_TAGS = 100  # tags of one session: the attribute stays bounded
MAX_TOKENS = 2**63 - 1  # the most an OTLP integer attribute holds


def is_token_count(value: object) -> bool:
    """A token count an OTLP attribute can carry: an int (not a bool) from 0 to MAX_TOKENS."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TOKENS


_STATUS_OK = Status(StatusCode.OK)  # immutable: one for every session that ends Success
_STATE_TEXT = {state: state.value for state in EndState}  # a dict, not Enum.value's property

# Indices into Session._counts.
LLM, TOOL, ACTION, ERROR, INPUT_TOKENS, OUTPUT_TOKENS = range(6)
_TOTALS = (
    (attr.SESSION_LLM_CALLS, LLM),
    (attr.SESSION_TOOL_CALLS, TOOL),
    (attr.SESSION_ACTIONS, ACTION),
    (attr.SESSION_ERRORS, ERROR),
    (attr.INPUT_TOKENS, INPUT_TOKENS),
    (attr.OUTPUT_TOKENS, OUTPUT_TOKENS),
)


class Session:
    """One agent run: a root span, its tags, its end state and its totals."""

    __slots__ = (
        "__weakref__",
        "_cost",
        "_counts",
        "_end_ns",
        "_ended",
        "_lock",
        "_previous_context",
        "_start_ns",
        "auto_started",
        "context",
        "end_state",
        "end_state_reason",
        "name",
        "session_id",
        "span",
        "tags",
        "trace_id",
    )

    def __init__(
        self,
        span: trace.Span,
        trace_id: int,
        tags: list[str],
        name: str | None,
        previous_context: Context,
        session_id: str | None = None,
    ) -> None:
        self.span = span
        self.trace_id = trace_id
        self.session_id = session_id or uuid_text(trace_id)
        self.tags = tags
        self.name = name
        self.end_state: str | None = None
        self.end_state_reason: str | None = None
        self.auto_started = False
        self.context = context.set_value(
            SESSION_KEY, self, trace.set_span_in_context(span, previous_context)
        )
        self._previous_context = previous_context
        self._counts = [0, 0, 0, 0, 0, 0]
        self._cost: float | None = None
        self._lock = threading.Lock()
        self._ended = False
        self._start_ns = time.time_ns()
        self._end_ns: int | None = None

    def __repr__(self) -> str:
        state = "running" if self.is_running else f"ended {self.end_state}"
        return f"<Session {self.session_id} {state}>"

    @property
    def is_running(self) -> bool:
        return not self._ended

    @property
    def traceparent(self) -> str:
        """W3C ``traceparent`` of the root span, to continue the session elsewhere."""
        span_context = self.span.get_span_context()
        flags = int(span_context.trace_flags) if span_context.is_valid else 1
        return f"00-{self.trace_id:032x}-{span_context.span_id:016x}-{flags:02x}"

    def record(self, event: Any) -> None:
        """Record an event (``ActionEvent``, ``LLMEvent``, ...) in this session."""
        from .spans import record_event

        if self._ended:
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
        counts = self._counts
        end_ns = self._end_ns or time.time_ns()
        return {
            "LLM calls": counts[LLM],
            "Tool calls": counts[TOOL],
            "Actions": counts[ACTION],
            "Errors": counts[ERROR],
            "Duration": format_duration((end_ns - self._start_ns) / 1e9),
            "Cost": f"{self._cost:.6f}" if self._cost else "0.00",
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
                context.attach(previous)

    def patch(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """AgentOps 0.3: a wrapper that runs ``func`` inside this session."""

        def run_in_session(*args: Any, **kwargs: Any) -> Any:
            with self.activate():
                return func(*args, **kwargs)

        return run_in_session

    def create_agent(self, name: Any = None, agent_id: Any = None, **_: Any) -> str:
        """AgentOps: an instant ``create_agent {name}`` span in this session; returns the id."""
        from .decorators import create_agent_span

        agent_id = str(agent_id) if agent_id is not None else str(uuid.uuid4())
        create_agent_span(agent_id, safe_str(name if name is not None else "agent", 200), self)
        return agent_id

    # AgentOps 0.4 code treats a session as a ``TraceContext``: these let it.
    @property
    def trace_context(self) -> Session:
        return self

    @property
    def token(self) -> None:
        return None  # no context token is ever kept (see the module docstring)

    @property
    def is_init_trace(self) -> bool:
        return False

    def __enter__(self) -> Session:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if self._ended:
            return
        if exc is None:
            self.end(EndState.SUCCESS)
        else:
            self.end(EndState.FAIL, f"{exc_type.__name__}: {safe_str(exc)}", exception=exc)

    # -- engine ------------------------------------------------------------

    def count_one(self, kind: int) -> None:
        """``count(kind)`` without usage: what every action, tool call and error adds."""
        with self._lock:
            self._counts[kind] += 1

    def count(
        self, kind: int, input_tokens: Any = None, output_tokens: Any = None, cost: Any = None
    ):
        """Add one event of ``kind`` (LLM, TOOL, ACTION, ERROR) to the totals."""
        with self._lock:
            self._counts[kind] += 1
            counts = self._counts
            if is_token_count(input_tokens):
                counts[INPUT_TOKENS] = min(counts[INPUT_TOKENS] + input_tokens, MAX_TOKENS)
            if is_token_count(output_tokens):
                counts[OUTPUT_TOKENS] = min(counts[OUTPUT_TOKENS] + output_tokens, MAX_TOKENS)
            cost = as_float(cost)
            if cost is not None and cost == cost:
                self._cost = (self._cost or 0.0) + cost

    def end(
        self,
        end_state: Any,
        reason: Any = None,
        exception: BaseException | None = None,
        legacy: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """End the root span with its end state and totals (never blocks on export)."""
        state = end_state if type(end_state) is EndState else parse_end_state(end_state)
        reason = None if reason is None else safe_str(reason)
        if state is None:
            report(
                InvalidEndStateError,
                f"Unknown end state {safe_str(end_state, 200)!r}; use 'Success', 'Fail' or "
                "'Indeterminate' (EndState). The session ends Indeterminate.",
            )
            given = f"end state {safe_str(end_state, 200)!r}"
            state, reason = EndState.INDETERMINATE, f"{given}: {reason}" if reason else given
        with self._lock:
            already = self._ended
            self._ended = True
        if already:
            report(
                SessionEndedError,
                f"Session {self.session_id} was already ended ({self.end_state}); "
                "end each session once.",
            )
            return self.get_analytics()
        self._end_ns = time.time_ns()
        self.end_state, self.end_state_reason = _STATE_TEXT[state], reason
        self._write_end(state, reason, exception, legacy)
        _unregister(self)
        self._leave()
        if settings.log_summary and logger.isEnabledFor(logging.INFO):
            log_summary(
                self.name or self.session_id,
                self.end_state,
                self.get_analytics(),
                self._counts[INPUT_TOKENS],
                self._counts[OUTPUT_TOKENS],
                self.trace_id,
            )
        return self.get_analytics()

    def _write_end(self, state, reason, exception, legacy) -> None:
        span = self.span
        if exception is not None:
            record_exception(span, exception)
        end_attributes: dict[str, Any] = {attr.SESSION_END_STATE: self.end_state}
        if reason is not None:
            end_attributes[attr.SESSION_END_STATE_REASON] = reason
        counts = self._counts  # the six totals of _TOTALS, written out: this runs per session
        end_attributes[attr.SESSION_LLM_CALLS] = counts[LLM]
        end_attributes[attr.SESSION_TOOL_CALLS] = counts[TOOL]
        end_attributes[attr.SESSION_ACTIONS] = counts[ACTION]
        end_attributes[attr.SESSION_ERRORS] = counts[ERROR]
        end_attributes[attr.INPUT_TOKENS] = counts[INPUT_TOKENS]
        end_attributes[attr.OUTPUT_TOKENS] = counts[OUTPUT_TOKENS]
        if self._cost is not None:
            end_attributes[attr.SESSION_COST] = self._cost
        if legacy:
            for key, value in legacy.items():
                if value is not None:
                    end_attributes[attr.LEGACY_PREFIX + safe_str(key, 100)] = attribute_value(value)
        span.set_attributes(end_attributes)
        if state is EndState.SUCCESS:
            span.set_status(_STATUS_OK)
        elif state is EndState.FAIL:
            span.set_status(Status(StatusCode.ERROR, reason))
        span.end(self._end_ns)

    def _leave(self) -> None:
        """Restore what was current before, if the caller's context still holds us."""
        if context.get_value(SESSION_KEY) is self:
            context.attach(_live(self._previous_context))

    def _retag(self, tags: list[str]) -> None:
        if self._ended:
            report(SessionEndedError, f"Session {self.session_id} has ended; tags not changed.")
            return
        self.tags = tags[:MAX_TAGS]
        self.span.set_attribute(attr.SESSION_TAGS, self.tags)


def _live(ctx: Context) -> Context:
    """``ctx``, or the nearest earlier context whose session still runs."""
    session = ctx.get(SESSION_KEY)
    while session is not None and session._ended:
        ctx = session._previous_context
        session = ctx.get(SESSION_KEY)
    return ctx


def start_session(
    tags: Any = None,
    inherited_session_id: Any = None,
    *,
    name: Any = None,
    attributes: Any = None,
) -> Session:
    """Start a session (a new root span) and make it current in the caller's context."""
    tag_list = normalize_tags(tags)
    if settings.default_tags:
        tag_list += [t for t in settings.default_tags if t not in tag_list]
        del tag_list[MAX_TAGS:]
    name = None if name is None else safe_str(name, 200)
    if inherited_session_id is None:  # the usual case, without a call
        trace_id, parent = 0, None
    else:
        trace_id, parent = continuation(inherited_session_id)
    trace_id = trace_id or choose_trace_id()
    previous = context.get_current()
    current = trace.get_current_span(previous).get_span_context()
    links = [Link(current)] if current.is_valid else None
    session_id = uuid_text(trace_id)
    start_attributes: dict[str, Any] = {} if attributes is None else _user_attributes(attributes)
    start_attributes[attr.SESSION_ID] = session_id
    start_attributes[attr.CONVERSATION_ID] = session_id
    if tag_list:
        start_attributes[attr.SESSION_TAGS] = tag_list
    if name:
        start_attributes[attr.SESSION_NAME] = name
    span_name = f"session {name}" if name else "session"
    span = start_root_span(span_name, start_attributes, links, trace_id, parent)
    actual = span.get_span_context()
    if actual.trace_id != trace_id and actual.is_valid:  # a provider that picks its own ids
        trace_id = actual.trace_id
        session_id = uuid_text(trace_id)
        span.set_attributes({attr.SESSION_ID: session_id, attr.CONVERSATION_ID: session_id})
    session = Session(span, trace_id, tag_list, name, previous, session_id)
    with _lock:
        _running[session] = None
        _by_trace[trace_id] = session
    context.attach(session.context)
    _install_exit_handlers()
    return session


def _install_exit_handlers() -> None:
    """``lifecycle.install_exit_handlers``, imported once (lifecycle imports this module)."""
    global _install_exit_handlers
    from .lifecycle import install_exit_handlers

    _install_exit_handlers = install_exit_handlers
    install_exit_handlers()


def _unregister(session: Session) -> None:
    with _lock:
        _running.pop(session, None)
        if _by_trace.get(session.trace_id) is session:
            del _by_trace[session.trace_id]


def normalize_tags(tags: Any) -> list[str]:
    """Tags as a list of unique strings; a bare string is one tag."""
    if tags is None:
        return []
    if isinstance(tags, str):
        return [safe_str(tags, 256)]
    try:
        items = list(itertools.islice(tags, MAX_TAGS + 1))  # an endless iterator is no hang
    except Exception:
        report(InvalidArgumentError, f"tags must be a list of strings, got {type(tags).__name__}.")
        items = [tags]
    if len(items) > MAX_TAGS:
        logger.warning("A session keeps at most %d tags; the others were dropped.", MAX_TAGS)
    return list(dict.fromkeys(safe_str(item, 256) for item in items[:MAX_TAGS]))


def _user_attributes(attributes: Any) -> dict[str, Any]:
    if attributes is None:
        return {}
    if not isinstance(attributes, dict):
        report(InvalidArgumentError, "attributes must be a dict of str to values; ignored.")
        return {}
    return {safe_str(k, 256): attribute_value(v) for k, v in attributes.items()}


def current_session(ctx: Context | None = None) -> Session | None:
    """Design.md section 5: the context's session, else the only running one.

    ``ctx`` is the current context when the caller already holds it.
    """
    session = (context.get_current() if ctx is None else ctx).get(SESSION_KEY)
    if session is not None and not session._ended:
        return session
    if len(_running) == 1:
        with contextlib.suppress(StopIteration, RuntimeError):
            return next(iter(_running))
    return None


def running_count() -> int:
    return len(_running)


def active_sessions() -> list[Session]:
    with _lock:
        return list(_running)


# The session running on a trace id, or None. The span processor asks for every span started and
# ended: the dict's own ``get``, so the question costs no Python frame.
session_for_trace: Callable[[int], Session | None] = _by_trace.get


def forget_inherited_sessions() -> None:
    """In a forked child: the parent's sessions are not ours to end or export."""
    global _lock
    _lock = threading.Lock()
    for session in list(_running):
        session._ended = True
    _running.clear()
    _by_trace.clear()
