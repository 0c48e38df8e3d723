"""Decorators: ``@record_action``, ``@record_tool`` and ``@track_agent``.

They work on sync, async, generator and async-generator functions. A call is
one span, a child of the current span in the session's trace (or of the
session's root), current while the function body runs. A generator's span
covers its whole iteration: the span is made current around each step (attach
and detach in the same frame, never a ``with`` block around ``yield``) and ends
on exhaustion, error, ``close()`` or garbage collection. A decorated function
that raises gets status ERROR and an exception event, the session's error count
grows, and the exception propagates unchanged.
"""

from __future__ import annotations

import functools
import inspect
import logging
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from opentelemetry import context, trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.trace import Status, StatusCode

from . import attributes as attr
from .config import settings
from .content import capture, safe_str
from .events import new_event_id
from .iteration import TracedAsyncGenerator, TracedGenerator
from .sessions import ACTION, ERROR, SESSION_KEY, TOOL, Session, current_session
from .spans import AGENT_KEY, start_child_span
from .tracing import record_exception

logger = logging.getLogger("opentelemetry_instrumentation_agentops")
F = TypeVar("F", bound=Callable[..., Any])
AGENT_ID_ATTR = "agentops_agent_id"
AGENT_NAME_ATTR = "agentops_agent_name"


class _Spec:
    """What a decorated function's spans look like; built once per decoration."""

    __slots__ = ("agent", "arguments_key", "attributes", "func", "kind", "name", "result_key")

    def __init__(self, func, name, attributes, kind, arguments_key, result_key, agent=None):
        self.func = func
        self.name = name
        self.attributes = attributes
        self.kind = kind
        self.arguments_key = arguments_key
        self.result_key = result_key
        self.agent = agent  # (id, name) for @track_agent functions


class _Call:
    """One traced call: its span, its session and the context it runs in."""

    __slots__ = ("context", "session", "span", "spec")

    def __init__(self, spec: _Spec, args: tuple, kwargs: dict) -> None:
        given = kwargs.get("session") if kwargs else None
        session = kwargs.pop("session") if isinstance(given, Session) else None
        current = context.get_current()  # read once: session, agent and parent all come from it
        session = session or current_session(current)
        attributes = {**spec.attributes, attr.EVENT_ID: new_event_id()}
        agent = spec.agent or _agent_of(args, current)
        if agent is not None:
            attributes[attr.AGENT_ID], attributes[attr.AGENT_NAME] = agent
        if settings.capture_content and spec.func is not None:
            capture(attributes, spec.arguments_key, _bound_arguments(spec.func, args, kwargs))
        span, parent = start_child_span(spec.name, attributes, session, current=current)
        ctx = trace.set_span_in_context(span, parent)
        if session is not None and parent.get(SESSION_KEY) is not session:
            ctx = context.set_value(SESSION_KEY, session, ctx)
        if agent is not None:
            ctx = context.set_value(AGENT_KEY, agent, ctx)
        self.spec, self.span, self.session, self.context = spec, span, session, ctx

    def finish(self, error: BaseException | None = None, result: Any = None) -> None:
        try:
            span, session = self.span, self.session
            if error is not None:
                record_exception(span, error)
                span.set_status(
                    Status(StatusCode.ERROR, f"{type(error).__name__}: {safe_str(error)}")
                )
                span.set_attribute(attr.ERROR_TYPE, type(error).__qualname__)
            elif result is not None and settings.capture_content:
                span.set_attribute(self.spec.result_key, _json(result))
            span.end()
            if session is not None and not session._ended:
                if self.spec.kind is not None:
                    session.count_one(self.spec.kind)
                if error is not None:
                    session.count_one(ERROR)
        except Exception:  # telemetry never breaks the application
            logger.debug("could not end the span of %s", self.spec.name, exc_info=True)


def _begin(spec: _Spec, args: tuple, kwargs: dict) -> _Call | None:
    if not is_instrumentation_enabled():
        return None
    try:
        return _Call(spec, args, kwargs)
    except Exception:
        logger.debug("could not start the span of %s", spec.name, exc_info=True)
        return None


def _traced(spec: _Spec, begin: Callable[..., Any] = _begin) -> Callable[..., Any]:
    """Wrap ``spec.func`` with the wrapper that fits its kind of function.

    ``begin(spec, args, kwargs)`` returns what a call runs in (``.context``,
    ``.finish(error, result)``) or None; ``legacy.py`` passes one that starts a session.
    """
    func = spec.func
    if inspect.isasyncgenfunction(func):

        @functools.wraps(func)
        def async_gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            call = begin(spec, args, kwargs)
            agen = func(*args, **kwargs)
            return agen if call is None else TracedAsyncGenerator(agen, call)

        return async_gen_wrapper
    if inspect.isgeneratorfunction(func):

        @functools.wraps(func)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            call = begin(spec, args, kwargs)
            gen = func(*args, **kwargs)
            return gen if call is None else TracedGenerator(gen, call)

        return gen_wrapper
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            call = begin(spec, args, kwargs)
            if call is None:
                return await func(*args, **kwargs)
            token = context.attach(call.context)
            try:
                result = await func(*args, **kwargs)
            except BaseException as error:
                call.finish(error)
                raise
            finally:
                context.detach(token)
            call.finish(result=result)
            return result

        return async_wrapper

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        call = begin(spec, args, kwargs)
        if call is None:
            return func(*args, **kwargs)
        token = context.attach(call.context)
        try:
            result = func(*args, **kwargs)
        except BaseException as error:
            call.finish(error)
            raise
        finally:
            context.detach(token)
        call.finish(result=result)
        return result

    return wrapper


def _agent_of(args: tuple, current: context.Context | None = None) -> tuple[str, str] | None:
    """The ``@track_agent`` instance a method runs on, else the agent of the context, if any."""
    if args:
        agent_id = getattr(args[0], AGENT_ID_ATTR, None)
        if agent_id is not None:
            return str(agent_id), safe_str(getattr(args[0], AGENT_NAME_ATTR, ""), 200)
    return (context.get_current() if current is None else current).get(AGENT_KEY)


def _bound_arguments(func: Callable[..., Any], args: tuple, kwargs: dict) -> dict[str, Any]:
    try:
        bound = inspect.signature(func).bind_partial(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
    except (TypeError, ValueError):
        arguments = {"args": list(args), "kwargs": kwargs}
    arguments.pop("self", None)
    return arguments


def _json(value: Any) -> str:
    from .content import to_json

    return to_json(value)


def _decorator(
    name: Any, describe: Callable[[str], tuple[str, dict[str, Any], int | None]], keys: tuple
) -> Any:
    """Serve both ``@deco`` and ``@deco(name)``."""

    def decorate(func: F) -> F:
        label = safe_str(name if isinstance(name, str) and name else func.__name__, 200)
        span_name, attributes, kind = describe(label)
        return _traced(_Spec(func, span_name, attributes, kind, *keys))  # type: ignore[return-value]

    if callable(name) and not isinstance(name, str):
        func, name = name, None
        return decorate(func)
    return decorate


ACTION_KEYS = (attr.EVENT_PARAMS, attr.EVENT_RETURNS)  # where arguments / results go
TOOL_KEYS = (attr.TOOL_CALL_ARGUMENTS, attr.TOOL_CALL_RESULT)


def action_span(label: str) -> tuple[str, dict[str, Any], int | None]:
    """Name, attributes and counter of an action's span (also used by ``legacy.py``)."""
    return f"action {label}", {attr.EVENT_TYPE: "actions", attr.ACTION_TYPE: label}, ACTION


def tool_span(label: str) -> tuple[str, dict[str, Any], int | None]:
    """Name, attributes and counter of a tool call's span (also used by ``legacy.py``)."""
    attributes = {
        attr.EVENT_TYPE: "tools",
        attr.OPERATION_NAME: attr.OP_EXECUTE_TOOL,
        attr.TOOL_NAME: label,
    }
    return f"execute_tool {label}", attributes, TOOL


def agent_spec(func: Any, label: str) -> _Spec:
    """The spec of an agent function: ``invoke_agent {label}`` with a fresh agent id."""
    agent = (str(uuid.uuid4()), safe_str(label, 200))
    attributes = {
        attr.OPERATION_NAME: attr.OP_INVOKE_AGENT,
        attr.AGENT_ID: agent[0],
        attr.AGENT_NAME: agent[1],
    }
    return _Spec(func, f"invoke_agent {label}", attributes, None, *ACTION_KEYS, agent)


def record_action(event_name: str | None = None) -> Any:
    """Record each call as an ``action {name}`` span (AgentOps' ActionEvent)."""
    return _decorator(event_name, action_span, ACTION_KEYS)


def record_tool(tool_name: str | None = None) -> Any:
    """Record each call as an ``execute_tool {name}`` span (AgentOps' ToolEvent)."""
    return _decorator(tool_name, tool_span, TOOL_KEYS)


def track_agent(name: str | None = None) -> Any:
    """Track an agent: a class (one ``create_agent`` span per instance) or a function."""

    def decorate(target: Any) -> Any:
        label = name if isinstance(name, str) and name else getattr(target, "__name__", "agent")
        label = safe_str(label, 200)
        if inspect.isclass(target):
            return _track_agent_class(target, name if isinstance(name, str) else None)
        return _traced(agent_spec(target, label))

    if callable(name) and not isinstance(name, str):
        target, name = name, None
        return decorate(target)
    return decorate


def _track_agent_class(cls: type, name: str | None) -> type:
    original_init = cls.__init__

    @functools.wraps(original_init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        given = kwargs.pop("agentops_name", None)
        original_init(self, *args, **kwargs)
        try:
            agent_name = given or name or getattr(self, "role", None) or cls.__name__
            agent_id = str(uuid.uuid4())
            setattr(self, AGENT_ID_ATTR, agent_id)
            setattr(self, AGENT_NAME_ATTR, safe_str(agent_name, 200))
            session = kwargs.get("session")  # AgentOps 0.3: MyAgent(..., session=s)
            session = session if isinstance(session, Session) else None
            create_agent_span(agent_id, safe_str(agent_name, 200), session)
        except Exception:
            logger.warning(
                "Failed to track an agent with the @track_agent decorator.", exc_info=True
            )

    cls.__init__ = __init__  # type: ignore[misc]
    return cls


def create_agent_span(agent_id: str, agent_name: str, session: Session | None = None) -> None:
    """An instant ``create_agent {name}`` span in the current session."""
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
