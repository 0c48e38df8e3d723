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
instance; while any of the class's own methods runs, its agent is current, so
the instance's decorated methods and every span started meanwhile (other
instrumentations' LLM calls included) carry its ``gen_ai.agent.id`` and
``gen_ai.agent.name``.
"""

from __future__ import annotations

import functools
import inspect
from contextvars import Token
from typing import Any

from opentelemetry import context
from opentelemetry.context import Context

from .._engine import attributes as attr
from .._engine.conventions import TOOL_CALL
from .._engine.counting import ACTION
from .._engine.event_spans import start_child_span
from .._engine.events import agent_identity
from .._engine.sessions import Session
from .._engine.wrapping import (
    AGENT_ID_ATTR,
    AGENT_NAME_ATTR,
    TOOL_KEYS,
    Spec,
    agent_of,
    bare_or_called,
    label_of,
    traced,
)
from .._runtime.owner import RUNTIME
from .._runtime.registry import AGENT_KEY
from .._runtime.settings import is_instrumentation_enabled, logger


def action_spec(func: Any, label: str) -> Spec:
    """An action's span: ``action {label}``, counted as an action."""
    attributes = {attr.EVENT_TYPE: "actions", attr.ACTION_TYPE: label}
    return Spec(func, f"action {label}", attributes, ACTION)


def tool_spec(func: Any, label: str, cost: Any = None) -> Spec:
    """A tool call's span: ``execute_tool {label}``, counted as a tool call with its cost."""
    attributes = {
        attr.EVENT_TYPE: "tools",
        attr.OPERATION_NAME: attr.OP_EXECUTE_TOOL,
        attr.TOOL_NAME: label,
    }
    return Spec(func, f"execute_tool {label}", attributes, TOOL_CALL, TOOL_KEYS, cost=cost)


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
    original_init = cls.__init__  # type: ignore[misc]

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
    _run_methods_as_agent(cls)
    return cls


def _run_methods_as_agent(cls: type) -> None:
    """Make the instance's agent current while any of the class's own methods runs.

    AgentOps 0.3 found the agent of an LLM call by walking the call stack; here the agent is
    put in the context, so every span started inside (an OpenAI instrumentation's chat span
    included) carries it (the span processor stamps it). Dunder methods, static and class
    methods and generators are left as they are.
    """
    for name, member in list(vars(cls).items()):
        if name.startswith("__") or not inspect.isfunction(member):
            continue
        if inspect.isgeneratorfunction(member) or inspect.isasyncgenfunction(member):
            continue  # the context of a suspended generator is not the method's to hold
        try:
            setattr(cls, name, _as_agent(member))
        except Exception:  # a class that refuses new attributes keeps its methods
            logger.debug("could not run %s.%s as its agent", cls.__name__, name, exc_info=True)


def _as_agent(method: Any) -> Any:
    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def async_agent_method(self: Any, *args: Any, **kwargs: Any) -> Any:
            token = _enter_agent(self)
            try:
                return await method(self, *args, **kwargs)
            finally:
                if token is not None:
                    context.detach(token)

        return async_agent_method

    @functools.wraps(method)
    def agent_method(self: Any, *args: Any, **kwargs: Any) -> Any:
        token = _enter_agent(self)
        try:
            return method(self, *args, **kwargs)
        finally:
            if token is not None:
                context.detach(token)

    return agent_method


def _enter_agent(instance: Any) -> Token[Context] | None:
    """Attach a context naming ``instance``'s agent; None when there is nothing to attach."""
    if not is_instrumentation_enabled():
        return None
    agent = agent_of((instance,))
    if agent is None or context.get_value(AGENT_KEY) == agent:
        return None
    RUNTIME.agents_seen = True
    return context.attach(context.set_value(AGENT_KEY, agent))


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
        f"create_agent {agent_name}", attributes, session or RUNTIME.sessions.current()
    )
    span.end()
