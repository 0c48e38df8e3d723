"""The sessions running in this process, by trace, and which one is current.

A session lives in the OpenTelemetry context (``SESSION_KEY``, a contextvar); the
registry only answers what needs the whole process: which sessions still run (rule 2 of
"which session is current", for contexts that never held one; exit handling) and which
session a span's trace belongs to (the span processor). It is keyed by trace id, so
several runs of one conversation are told apart.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Generic, Protocol, TypeVar

from opentelemetry import context
from opentelemetry.context import Context

SESSION_KEY = context.create_key("agentops-session")
AGENT_KEY = context.create_key("agentops-agent")  # (agent id, agent name) while an agent runs


class Registered(Protocol):
    """What the registry reads of a session (the engine's ``Registered`` has more)."""

    trace_id: int
    ended: bool


S = TypeVar("S", bound=Registered)


class SessionRegistry(Generic[S]):
    """The running sessions: an insertion-ordered set, and a map by trace id."""

    __slots__ = ("by_trace", "lock", "running")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: dict[S, None] = {}
        self.by_trace: dict[int, S] = {}  # read without the lock, per span

    def register(self, session: S) -> None:
        with self.lock:
            self.running[session] = None
            self.by_trace[session.trace_id] = session

    def unregister(self, session: S) -> bool:
        """Forget ``session``; False when it was not running (ended already, or elsewhere)."""
        with self.lock:
            if self.by_trace.get(session.trace_id) is session:
                del self.by_trace[session.trace_id]
            return self.running.pop(session, False) is None

    def current(self, ctx: Context | None = None) -> S | None:
        """The session current in the context: ``get_current_session()``'s answer.

        The context's own session while it runs, None once it has ended; the only
        running session when the context never held one. ``ctx`` is the current context
        when the caller already holds it.
        """
        session: Any = (context.get_current() if ctx is None else ctx).get(SESSION_KEY)
        if session is not None:
            return None if session.ended else session
        return self._only()

    def target(self, ctx: Context | None = None) -> S | None:
        """The session module-level calls act on: the context's own, ended or not.

        A context that held a session keeps acting on it after it ended (the caller
        warns), so a stale context never reaches another user's session; only a
        context that never held one gets the only running session.
        """
        session: Any = (context.get_current() if ctx is None else ctx).get(SESSION_KEY)
        return session if session is not None else self._only()

    def _only(self) -> S | None:
        """The only running session, if exactly one runs."""
        running = self.running
        if len(running) == 1:
            with contextlib.suppress(StopIteration, RuntimeError):  # ended by another thread
                return next(iter(running))
        return None

    def active(self) -> list[S]:
        with self.lock:
            return list(self.running)

    def forget_all(self) -> None:
        """In a forked child: the parent's sessions are not ours to end or export."""
        self.lock = threading.Lock()  # the parent may have held it while forking
        for session in list(self.running):
            session.ended = True
        self.running.clear()
        self.by_trace.clear()
