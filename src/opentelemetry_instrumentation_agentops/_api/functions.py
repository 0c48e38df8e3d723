"""The AgentOps-style module-level API: ``init``, ``start_session``, ``end_session``, ...

Module-level calls act on the current session (``RUNTIME.sessions.target()``), or on
the one that ended in this context (they say so). When there is none, or several run
and this context never held one, they do nothing to any session and log one warning
naming the fix (raise in strict mode); ``record`` still exports the event as a span of
its own.
"""

from __future__ import annotations

import weakref
from typing import Any

from .._engine import exits, sessions
from .._engine.content import normalize_tags
from .._engine.escaping import printable
from .._engine.event_spans import record_event
from .._engine.processor import attach_processor
from .._engine.sessions import Session
from .._engine.tracer import current_provider
from .._engine.types import (
    AmbiguousSessionError,
    EndState,
    InvalidArgumentError,
    NoSessionError,
    report,
)
from .._runtime.owner import RUNTIME
from .._runtime.settings import logger
from .._setup import llm_calls
from .._setup.pipeline import configure_default_provider
from .._setup.signals import install_sigterm_handler
from .session import AgentOpsSession

SUPERSEDED_REASON = "superseded by a new init()"
INIT = "init"  # what init() chose and installed is held under this name in the runtime


def init(
    api_key: str | None = None,
    *,
    tags: Any = None,
    default_tags: Any = None,
    auto_start_session: bool = True,
    skip_auto_end_session: bool = False,
    inherited_session_id: Any = None,
    tracer_provider: Any = None,
    exporter: Any = None,
    exporter_endpoint: str | None = None,
    service_name: str | None = None,
    capture_content: bool | None = None,
    strict: bool | None = None,
    instrument_llm_calls: bool = True,
    propagate_session: bool | None = None,
    **legacy: Any,
) -> Session | None:
    """Configure the package; start a session unless ``auto_start_session=False``.

    Idempotent: call it as often as you like. A re-``init`` while the session it
    auto-started still runs ends that one Indeterminate and starts a fresh one,
    so re-running a notebook cell gives a new session. ``api_key`` is accepted
    for AgentOps compatibility and never stored in telemetry.
    ``instrument_llm_calls`` turns on the installed OpenTelemetry instrumentations
    of LLM client libraries. ``propagate_session`` sends the current session's id to
    the services it calls in W3C baggage, and stamps it on spans of requests that
    carry it (off by default: baggage reaches every downstream service).
    """
    if legacy:
        logger.debug("init(): ignoring AgentOps options %s", printable(", ".join(sorted(legacy))))
    settings = RUNTIME.settings
    settings.load_env()
    settings.choose(
        INIT,
        strict=None if strict is None else bool(strict),
        capture_content=None if capture_content is None else bool(capture_content),
        propagate_session=None if propagate_session is None else bool(propagate_session),
    )
    given_tags = default_tags if default_tags is not None else tags
    settings.default_tags = tuple(
        dict.fromkeys(settings.default_tags + tuple(normalize_tags(given_tags)))
    )
    settings.skip_auto_end_session = bool(skip_auto_end_session)
    if api_key is not None:
        settings.api_key = api_key
    if legacy.get("parent_key") is not None:
        settings.parent_key = legacy["parent_key"]
    if tracer_provider is not None and not _can_make_tracers(tracer_provider):
        report(
            InvalidArgumentError,
            f"tracer_provider must be a TracerProvider, got {type(tracer_provider).__name__}; "
            "it was ignored.",
        )
        tracer_provider = None
    if tracer_provider is not None:
        settings.choose(INIT, tracer_provider=tracer_provider)
    elif settings.tracer_provider is None:  # not given to instrument() either
        configure_default_provider(exporter, exporter_endpoint, service_name)
    if settings.propagate_session:  # a tool server starts no session: its spans still stamp
        attach_processor(current_provider())
    llm_calls.instrument_llm_calls(instrument_llm_calls)
    exits.install(INIT)
    install_sigterm_handler(INIT)
    auto = RUNTIME.auto_session
    previous = auto() if auto is not None else None
    if previous is not None and not previous.ended:
        previous.end(EndState.INDETERMINATE, SUPERSEDED_REASON)
    RUNTIME.auto_session = None
    if not auto_start_session:
        return None
    session = start_session(inherited_session_id=inherited_session_id)
    RUNTIME.auto_session = weakref.ref(session)
    return session


def start_session(
    tags: Any = None,
    inherited_session_id: Any = None,
    *,
    name: Any = None,
    attributes: Any = None,
    session_id: Any = None,
    user_id: Any = None,
) -> AgentOpsSession:
    """Start a session (a new root span) and make it current in the caller's context.

    Works without ``init()``. ``session_id="chat-123"`` starts one run of that
    conversation on a fresh trace; ``inherited_session_id``
    (a session UUID or ``session.traceparent``) continues an earlier session's trace.
    ``user_id`` (``user.id`` on the root) is the end user the session serves.
    """
    return sessions.start(  # type: ignore[return-value]
        tags,
        inherited_session_id,
        name=name,
        attributes=attributes,
        session_id=session_id,
        user_id=user_id,
        cls=AgentOpsSession,
    )


def _can_make_tracers(provider: Any) -> bool:
    try:
        return callable(getattr(provider, "get_tracer", None))
    except Exception:  # a proxy or a broken object
        return False


def resolve_session(action: str, method: str) -> Session | None:
    """The session a module-level call acts on, or None after saying why there is none.

    An ended session is returned when the context still holds it: the call acts on it
    (and says it has ended) rather than on another session.
    """
    session = RUNTIME.sessions.target()
    if session is None:
        running = len(RUNTIME.sessions.running)
        if running > 1:
            report(
                AmbiguousSessionError,
                f"Could not {action} - {running} sessions are running and none is current "
                f"in this context. Call session.{method}() on the Session object, or run the "
                "code inside `with session.activate():`.",
            )
        else:
            report(
                NoSessionError,
                f"Could not {action} - no running session. Start one with start_session() "
                "or init(auto_start_session=True).",
            )
    return session


def end_session(
    end_state: Any = None,
    /,
    end_state_reason: str | None = None,
    *,
    session: Session | None = None,
    **legacy: Any,
) -> dict[str, Any] | None:
    """End ``session``, or the current session; returns its analytics.

    ``end_state`` defaults to Success. The first parameter is positional-only so
    every AgentOps calling pattern works: ``end_session("Fail")``,
    ``end_session(end_state="Fail", is_auto_end=True)``, ``end_session(session)``,
    ``end_session(session, end_state="Success")`` and 0.4's
    ``end_session(session_or_status=...)``. Other keywords (``video``, ...) are
    kept on the root span as ``agentops.legacy.*`` attributes.
    """
    if legacy:  # AgentOps' keyword spellings
        end_state = legacy.pop("session_or_status", end_state)
    target = None if end_state is None else as_session(end_state)
    if target is not None:  # AgentOps 0.4: end_session(session, end_state=...)
        session, end_state = target, None
    if legacy:
        end_state = legacy.pop("end_state", end_state)
        if legacy.get("is_auto_end") and RUNTIME.settings.skip_auto_end_session:
            return None
    if end_state is None:
        end_state = EndState.SUCCESS
    if session is not None and as_session(session) is None:
        report(
            InvalidArgumentError,
            f"end_session(session=...) takes a Session, got {type(session).__name__}; "
            "no session was ended.",
        )
        return None
    target = (
        resolve_session("end session", "end_session") if session is None else as_session(session)
    )
    if target is None:
        return None
    return target.end(end_state, end_state_reason, legacy=legacy)


def as_session(value: Any) -> Session | None:
    """``value`` as a Session: itself, or the one an AgentOps 0.4 wrapper holds."""
    if isinstance(value, Session):
        return value
    if value is None or isinstance(value, str):
        return None
    try:
        wrapped = getattr(value, "trace_context", None)  # agentops.legacy.Session
    except Exception:  # a proxy or a broken object: not a session
        return None
    return wrapped if isinstance(wrapped, Session) else None


def record(event: Any) -> None:
    """Record an event in the current session (its own span when there is none)."""
    session = resolve_session("record event", "record")
    if session is None:
        record_event(event, None)
    else:
        session.record(event)  # in its trace, uncounted and with a warning once it has ended


def add_tags(tags: Any) -> None:
    session = resolve_session("add tags", "add_tags")
    if session is not None:
        session.add_tags(tags)


def set_tags(tags: Any) -> None:
    session = resolve_session("set tags", "set_tags")
    if session is not None:
        session.set_tags(tags)


def get_current_session() -> Session | None:
    return RUNTIME.sessions.current()


def get_active_sessions() -> list[Session]:
    return RUNTIME.sessions.active()


def end_all_sessions(
    end_state: Any = EndState.INDETERMINATE, end_state_reason: str | None = None
) -> None:
    for session in RUNTIME.sessions.active():
        session.end(end_state, end_state_reason)
