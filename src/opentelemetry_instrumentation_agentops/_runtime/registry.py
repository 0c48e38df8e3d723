"""The sessions running in this process, by trace, and which one is current.

A session lives in the OpenTelemetry context (``SESSION_KEY``, a contextvar),
never in a module global; this registry only answers the questions that need
the whole process: which sessions still run (design.md section 5, rule 2;
exit handling), and which session a span's trace belongs to (the span
processor). It is keyed by trace id, so several runs of one conversation
(``start_session(session_id=...)``) are told apart. Sessions are duck-typed:
anything with ``trace_id`` and an ``ended`` flag.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from opentelemetry import context
from opentelemetry.context import Context

SESSION_KEY = context.create_key("agentops-session")
AGENT_KEY = context.create_key("agentops-agent")  # (agent id, agent name) while an agent runs

_lock = threading.Lock()
_running: dict[Any, None] = {}  # insertion-ordered set of running sessions
_by_trace: dict[int, Any] = {}


def register(session: Any) -> None:
    with _lock:
        _running[session] = None
        _by_trace[session.trace_id] = session


def unregister(session: Any) -> bool:
    """Forget ``session``; False when it was not running (ended already, or by another thread)."""
    with _lock:
        if _by_trace.get(session.trace_id) is session:
            del _by_trace[session.trace_id]
        return _running.pop(session, False) is None


def session_for_trace(trace_id: int) -> Any:
    """The session running on ``trace_id``, or None (the span processor asks, per span)."""
    return _by_trace.get(trace_id)


def current_session(ctx: Context | None = None) -> Any:
    """Design.md section 5: the context's session if it runs, else the only running one.

    ``ctx`` is the current context when the caller already holds it.
    """
    session = (context.get_current() if ctx is None else ctx).get(SESSION_KEY)
    if session is not None and not session.ended:
        return session
    if len(_running) == 1:
        with contextlib.suppress(StopIteration, RuntimeError):  # ended by another thread
            return next(iter(_running))
    return None


def running_count() -> int:
    return len(_running)


def active_sessions() -> list[Any]:
    with _lock:
        return list(_running)


def forget_inherited_sessions() -> None:
    """In a forked child: the parent's sessions are not ours to end or export."""
    global _lock
    _lock = threading.Lock()  # the parent may have held it while forking
    for session in list(_running):
        session.ended = True
    _running.clear()
    _by_trace.clear()
