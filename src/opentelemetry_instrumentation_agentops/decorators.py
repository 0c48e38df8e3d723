"""Decorators: ``@record_action``, ``@record_tool`` and ``@track_agent``.

They work on sync, async, generator and async-generator functions. A call is
one span, a child of the current span in the session's trace (or of the
session's root), current while the function body runs. A generator's span
covers its whole iteration: the span is made current around each step (attach
and detach in the same frame, never a ``with`` block around ``yield``) and ends
on exhaustion, error, ``close()`` or garbage collection. A decorated function
that raises gets status ERROR and an exception event, the session's error count
grows, and the exception propagates unchanged; one cancelled or interrupted
(a ``BaseException`` that is no ``Exception``) is not an error (see
``wrapping.py``).

``@track_agent`` on a class makes one ``create_agent {name}`` span per
instance; the instance's decorated methods, and every span started while they
run (other instrumentations' LLM calls included), carry its ``gen_ai.agent.id``
and ``gen_ai.agent.name``.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from . import attributes as attr
from .events import agent_identity
from .log import logger
from .registry import current_session
from .sessions import Session
from .spans import start_child_span
from .suppression import is_instrumentation_enabled
from .totals import Totals
from .wrapping import (
    AGENT_ID_ATTR,
    AGENT_NAME_ATTR,
    TOOL_KEYS,
    Spec,
    bare_or_called,
    label_of,
    traced,
)


def action_spec(func: Any, label: str) -> Spec:
    """An action's span: ``action {label}``, counted as an action."""
    attributes = {attr.EVENT_TYPE: "actions", attr.ACTION_TYPE: label}
    return Spec(func, f"action {label}", attributes, Totals.add_action)


def tool_spec(func: Any, label: str, cost: Any = None) -> Spec:
    """A tool call's span: ``execute_tool {label}``, counted as a tool call with its cost."""
    attributes = {
        attr.EVENT_TYPE: "tools",
        attr.OPERATION_NAME: attr.OP_EXECUTE_TOOL,
        attr.TOOL_NAME: label,
    }
    count = Totals.add_tool_call if cost is None else lambda totals: totals.add_tool_call(cost)
    return Spec(func, f"execute_tool {label}", attributes, count, TOOL_KEYS)


def agent_spec(func: Any, label: str) -> Spec:
    """An agent function's span: ``invoke_agent {label}`` with a fresh agent identity."""
    agent = agent_identity(label)
    attributes = {
        attr.OPERATION_NAME: attr.OP_INVOKE_AGENT,
        attr.AGENT_ID: agent[0],
        attr.AGENT_NAME: agent[1],
    }
    return Spec(func, f"invoke_agent {label}", attributes, agent=agent)


def record_action(event_name: str | None = None) -> Any:
    """Record each call as an ``action {name}`` span (AgentOps' ActionEvent)."""
    return bare_or_called(
        event_name, lambda func, name: traced(action_spec(func, label_of(func, name, "action")))
    )


def record_tool(tool_name: str | None = None) -> Any:
    """Record each call as an ``execute_tool {name}`` span (AgentOps' ToolEvent)."""
    return bare_or_called(
        tool_name, lambda func, name: traced(tool_spec(func, label_of(func, name, "tool")))
    )


def track_agent(name: str | None = None) -> Any:
    """Track an agent: a class (one ``create_agent`` span per instance) or a function."""

    def decorate(target: Any, given: str | None) -> Any:
        if inspect.isclass(target):
            return _track_agent_class(target, given)
        return traced(agent_spec(target, label_of(target, given, "agent")))

    return bare_or_called(name, decorate)


def _track_agent_class(cls: type, name: str | None) -> type:
    original_init = cls.__init__

    @functools.wraps(original_init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        given = kwargs.pop("agentops_name", None)
        original_init(self, *args, **kwargs)
        try:
            agent_id, agent_name = agent_identity(
                given or name or getattr(self, "role", None) or cls.__name__
            )
            # object.__setattr__: a pydantic model (crewai's Agent) refuses unknown fields
            object.__setattr__(self, AGENT_ID_ATTR, agent_id)
            object.__setattr__(self, AGENT_NAME_ATTR, agent_name)
            session = kwargs.get("session")  # AgentOps 0.3: MyAgent(..., session=s)
            create_agent_span(
                agent_id, agent_name, session if isinstance(session, Session) else None
            )
        except Exception:
            logger.warning(
                "Failed to track an agent with the @track_agent decorator.", exc_info=True
            )

    cls.__init__ = __init__  # type: ignore[misc]
    return cls


def create_agent_span(agent_id: str, agent_name: str, session: Session | None = None) -> None:
    """An instant ``create_agent {name}`` span in ``session``, else the current session."""
    if not is_instrumentation_enabled():
        return
    attributes = {
        attr.OPERATION_NAME: attr.OP_CREATE_AGENT,
        attr.AGENT_ID: agent_id,
        attr.AGENT_NAME: agent_name,
    }
    span, _ = start_child_span(
        f"create_agent {agent_name}", attributes, session or current_session()
    )
    span.end()
