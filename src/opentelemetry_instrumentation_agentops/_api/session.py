"""The session the public API hands out: the engine's ``Session`` plus AgentOps' own methods.

The engine (``sessions.Session``) knows nothing of AgentOps' generations. Code
written for them calls a few more methods on a session, kept here:

- 0.3: ``session.patch(func)`` (a wrapper that runs ``func`` inside the session)
  and ``session.create_agent(name, agent_id=None)`` (an instant
  ``create_agent {name}`` span; returns the agent id);
- 0.4 treats a session as a ``TraceContext``: ``.trace_context`` (itself),
  ``.token`` (None: no context token is ever kept) and ``.is_init_trace``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._engine.events import agent_identity
from .._engine.sessions import Session
from .decorators import create_agent_span


class AgentOpsSession(Session):
    """A session, with the methods AgentOps 0.3 and 0.4 code calls on one."""

    __slots__ = ()

    def patch(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """AgentOps 0.3: a wrapper that runs ``func`` inside this session."""

        def run_in_session(*args: Any, **kwargs: Any) -> Any:
            with self.activate():
                return func(*args, **kwargs)

        return run_in_session

    def create_agent(self, name: Any = None, agent_id: Any = None, **_: Any) -> str:
        """AgentOps 0.3: an instant ``create_agent {name}`` span in this session; its id."""
        agent_id, agent_name = agent_identity(name, agent_id)
        create_agent_span(agent_id, agent_name, self)
        return agent_id

    @property
    def trace_context(self) -> AgentOpsSession:
        return self

    @property
    def token(self) -> None:
        return None  # no context token is ever kept (see sessions.py)

    @property
    def is_init_trace(self) -> bool:
        return False
