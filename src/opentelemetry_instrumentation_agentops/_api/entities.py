"""AgentOps 0.4's decorators: ``@trace``, ``@session``, ``@agent``, ``@tool``, ``@workflow``, ...

Bare or called, on sync, async, generator and async-generator functions. ``@trace``,
``@session`` and ``@track_endpoint`` start a session per call; ``@agent`` traces
``invoke_agent {name}`` (on a class, one ``create_agent`` span per instance); ``@tool``
``execute_tool {name}``, counted with its ``cost``; the others ``{kind} {name}``. Their
options become span attributes; arguments and results are recorded only when content
capture is on.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry import context

from .._engine import attributes as attr
from .._engine import sessions, usage
from .._engine.content import attribute_value, capture
from .._engine.escaping import printable
from .._engine.redaction import REDACTED, hides
from .._engine.sessions import Session
from .._engine.wrapping import Spec, bare_or_called, bound_arguments, traced
from .._runtime.owner import RUNTIME
from .._runtime.settings import is_instrumentation_enabled, logger
from .decorators import agent_spec, tool_spec, track_agent
from .session import AgentOpsSession

SESSION_KINDS = frozenset({"session", "trace", "track_endpoint", "http"})


def entity_spec(
    kind: str, label: str, func: Any = None, extra: Any = None, cost: Any = None
) -> Spec:
    """The span of one call of a ``kind`` entity (shared with the agentops redirect)."""
    if kind == "agent":
        spec = agent_spec(func, label)
    elif kind == "tool":
        spec = tool_spec(func, label, cost)
    else:
        spec = Spec(func, f"{kind} {label}", {})
    spec.attributes[attr.ENTITY_KIND] = kind
    spec.attributes.update(extra or {})
    return spec


def entity_attributes(
    version: Any = None,
    tags: Any = None,
    cost: Any = None,
    spec: Any = None,
    attributes: Any = None,
) -> dict[str, Any]:
    """Span attributes for the options of a 0.4 decorator."""
    result: dict[str, Any] = {}
    for key, value in (
        (attr.ENTITY_VERSION, version),
        (attr.ENTITY_TAGS, list(tags) if isinstance(tags, (list, tuple)) else tags),
        (attr.TOOL_COST, cost),
        (attr.GUARDRAIL_SPEC, spec),
    ):
        if value is not None:
            result[key] = attribute_value(value)
    if isinstance(attributes, dict):
        result.update(
            {str(k): REDACTED if hides(k, v) else attribute_value(v) for k, v in attributes.items()}
        )
    return result


class SessionCall:
    """One call of a session decorator: the context it runs in, and how it ends."""

    __slots__ = ("context", "session")

    def __init__(self, session: Session) -> None:
        self.session = session
        self.context = session.context

    @property
    def span(self) -> Any:
        return self.session.span

    def finish(self, error: BaseException | None = None, result: Any = None) -> None:
        session = self.session
        if session.ended:  # the body ended it itself
            return
        try:
            if result is not None and RUNTIME.settings.capture_content:
                attributes: dict[str, Any] = {}
                capture(attributes, attr.EVENT_RETURNS, result)
                session.span.set_attributes(attributes)
            session.finish(error)
        except Exception:  # telemetry never breaks the application
            logger.debug("could not end the session of %s", session, exc_info=True)


def start_session_call(
    name: str, tags: Any = None, attributes: Any = None, arguments: Any = None
) -> SessionCall:
    """Start a session for one call without making it current in the caller's context."""
    previous = context.get_current()
    session = sessions.start(tags, name=name, attributes=attributes, cls=AgentOpsSession)
    context.attach(previous)  # current only while the call runs (the wrapper attaches it)
    if arguments is not None and RUNTIME.settings.capture_content:
        captured: dict[str, Any] = {}
        capture(captured, attr.EVENT_PARAMS, arguments)
        session.span.set_attributes(captured)
    return SessionCall(session)


def session_begin(tags: Any, attributes: dict[str, Any]) -> Callable[..., Any]:
    """A ``begin`` for ``wrapping.traced`` that starts a session per call."""

    def begin(spec: Spec, args: tuple, kwargs: dict) -> SessionCall | None:
        if not is_instrumentation_enabled():
            return None
        try:
            arguments = None if spec.func is None else bound_arguments(spec.func, args, kwargs)
            return start_session_call(spec.name, tags, attributes, arguments)
        except Exception:
            logger.debug("could not start the session of %s", printable(spec.name), exc_info=True)
            return None

    return begin


def _decorate(kind: str, target: Any, name: Any, options: dict[str, Any]) -> Any:
    label = name if isinstance(name, str) and name else getattr(target, "__name__", kind)
    if kind == "agent":
        return track_agent(label)(target)
    if inspect.isclass(target):
        target.__init__ = _decorate(kind, target.__init__, label, options)  # type: ignore[method-assign]
        return target
    if not callable(target):
        logger.warning("@%s decorates functions and classes, not %r.", kind, type(target))
        return target
    tags = options.pop("tags", None)
    if kind in SESSION_KINDS:
        if isinstance(tags, Mapping):  # 0.4: a dict of tags is a set of attributes
            options["attributes"] = {**tags, **(options.get("attributes") or {})}
            tags = None
        attributes = entity_attributes(**options)
        return traced(Spec(target, label, attributes), session_begin(tags, attributes))
    extra = entity_attributes(tags=tags, **options)
    return traced(entity_spec(kind, label, target, extra, options.get("cost")))


def _entity_decorator(kind: str) -> Callable[..., Any]:
    def decorator(
        wrapped: Any = None,
        *,
        name: str | None = None,
        version: Any = None,
        tags: Any = None,
        cost: Any = None,
        spec: Any = None,
        attributes: dict[str, Any] | None = None,
        capture_request: bool = True,
        capture_response: bool = True,
        **_: Any,
    ) -> Any:
        if cost is not None:  # counted at every call: checked once, here
            cost = usage.cost(cost, f"@{kind}(cost=...)", strict=True)
        options = dict(version=version, tags=tags, cost=cost, spec=spec, attributes=attributes)
        if wrapped is not None and not isinstance(wrapped, str) and not callable(wrapped):
            return _decorate(kind, wrapped, name, options)  # it warns: not a function
        return bare_or_called(  # @kind, @kind("name") or @kind(name=..., ...)
            name if wrapped is None else wrapped,
            lambda target, label: _decorate(kind, target, label or name, dict(options)),
        )

    decorator.__name__ = decorator.__qualname__ = kind
    decorator.__doc__ = f"AgentOps 0.4's ``@{kind}``, bare or called (see the module docstring)."
    return decorator


trace = _entity_decorator("trace")
session = _entity_decorator("session")
track_endpoint = _entity_decorator("track_endpoint")
agent = _entity_decorator("agent")
tool = _entity_decorator("tool")
workflow = _entity_decorator("workflow")
task = _entity_decorator("task")
operation = _entity_decorator("operation")
guardrail = _entity_decorator("guardrail")
