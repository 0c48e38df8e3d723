"""The machinery every decorator of the package shares: one span (or session) per call.

A ``Spec`` says what a decorated function's spans look like; ``traced(spec)``
wraps the function with the wrapper that fits it (sync, async, generator,
async generator). Each call asks ``begin(spec, args, kwargs)`` for what it runs
in (``DecoratedCall``, or a session per call for AgentOps 0.4's ``@trace``), made current
while the body runs and finished with the call's outcome:

- returned: the span ends (the result is kept when content capture is on);
- raised an ``Exception``: status ERROR, an exception event, one more error in
  the session, and the exception propagates unchanged;
- left by a ``BaseException`` that is no error (asyncio cancellation,
  ``GeneratorExit``, ``KeyboardInterrupt``, ``SystemExit``): no ERROR status and
  no error counted; the span's ``agentops.call.interrupted_by`` names it.

AgentOps 0.3's ``session=`` keyword (``step(x, session=s)``) picks the session
and never reaches the function, whether or not instrumentation is suppressed.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from opentelemetry import context, trace

from .._runtime.owner import RUNTIME
from .._runtime.registry import AGENT_KEY, SESSION_KEY
from .._runtime.settings import is_instrumentation_enabled, logger
from . import attributes as attr
from .content import capture, safe_str, to_json
from .counting import ERROR
from .escaping import printable
from .event_spans import start_child_span
from .events import new_event_id
from .iteration import TracedAsyncGenerator, TracedGenerator
from .sessions import Session
from .tracer import mark_error

F = TypeVar("F", bound=Callable[..., Any])
AGENT_ID_ATTR = "agentops_agent_id"  # on a @track_agent instance: its agent's id and name
AGENT_NAME_ATTR = "agentops_agent_name"
ACTION_KEYS = (attr.EVENT_PARAMS, attr.EVENT_RETURNS)  # where arguments / results go
TOOL_KEYS = (attr.TOOL_CALL_ARGUMENTS, attr.TOOL_CALL_RESULT)


class Spec:
    """What a decorated function's spans look like; built once per decoration."""

    __slots__ = (
        "agent",
        "arguments_key",
        "attributes",
        "cost",
        "func",
        "kind",
        "name",
        "result_key",
    )

    def __init__(
        self,
        func: Any,
        name: str,
        attributes: dict[str, Any],
        kind: str | None = None,
        keys: tuple[str, str] = ACTION_KEYS,
        agent: tuple[str, str] | None = None,
        cost: Any = None,
    ) -> None:
        self.func = func
        self.name = name
        self.attributes = attributes
        self.kind = kind  # what each call counts as in its session's totals (counting.py)
        self.cost = cost
        self.arguments_key, self.result_key = keys
        self.agent = agent  # (id, name) for agent functions


def session_argument(kwargs: dict) -> Session | None:
    """Take AgentOps 0.3's ``session=<Session>`` out of a call's keywords."""
    if kwargs and isinstance(kwargs.get("session"), Session):
        return kwargs.pop("session")
    return None


class DecoratedCall:
    """One call of a decorated function: its span, its session and the context it runs in."""

    __slots__ = ("context", "session", "span", "spec")

    def __init__(self, spec: Spec, args: tuple, kwargs: dict, session: Session | None) -> None:
        current = context.get_current()  # read once: session, agent and parent all come from it
        session = session or RUNTIME.sessions.current(current)
        attributes = {**spec.attributes, attr.EVENT_ID: new_event_id()}
        agent = spec.agent or agent_of(args, current)
        if agent is not None:
            attributes[attr.AGENT_ID], attributes[attr.AGENT_NAME] = agent
        if RUNTIME.settings.capture_content and spec.func is not None:
            capture(attributes, spec.arguments_key, bound_arguments(spec.func, args, kwargs))
        span, parent = start_child_span(spec.name, attributes, session, current=current)
        ctx = trace.set_span_in_context(span, parent)
        if session is not None and parent.get(SESSION_KEY) is not session:
            ctx = context.set_value(SESSION_KEY, session, ctx)
        if agent is not None:
            RUNTIME.agents_seen = True
            ctx = context.set_value(AGENT_KEY, agent, ctx)
        self.spec, self.span, self.session, self.context = spec, span, session, ctx

    def finish(self, error: BaseException | None = None, result: Any = None) -> None:
        try:
            span, session = self.span, self.session
            failed = isinstance(error, Exception)
            if error is not None and failed:
                mark_error(span, error)
            elif error is not None:  # cancelled or interrupted: how it ended, not an error
                span.set_attribute(attr.INTERRUPTED_BY, type(error).__qualname__)
            elif result is not None and RUNTIME.settings.capture_content:
                span.set_attribute(self.spec.result_key, to_json(result))
            span.end()
            if session is not None and not session.ended:
                spec = self.spec
                if spec.kind is not None:
                    session.totals.count(spec.kind, cost=spec.cost)
                if failed:
                    session.totals.count(ERROR, exception=error)
        except Exception:  # telemetry never breaks the application
            logger.debug("could not end the span of %s", printable(self.spec.name), exc_info=True)


def begin(spec: Spec, args: tuple, kwargs: dict) -> DecoratedCall | None:
    """The call's span, or None when instrumentation is suppressed or a span cannot be made."""
    session = session_argument(kwargs)
    if not is_instrumentation_enabled():
        return None
    try:
        return DecoratedCall(spec, args, kwargs, session)
    except Exception:
        logger.debug("could not start the span of %s", printable(spec.name), exc_info=True)
        return None


def traced(spec: Spec, begin: Callable[[Spec, tuple, dict], Any] = begin) -> Callable[..., Any]:
    """Wrap ``spec.func`` with the wrapper that fits its kind of function.

    ``begin(spec, args, kwargs)`` returns what a call runs in (``.context``,
    ``.finish(error, result)``) or None; ``entities.py`` passes one that starts a session.
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


def agent_of(args: tuple, current: context.Context | None = None) -> tuple[str, str] | None:
    """The ``@track_agent`` instance a method runs on, else the agent of the context, if any."""
    if args:
        agent_id = getattr(args[0], AGENT_ID_ATTR, None)
        if agent_id is not None:
            return str(agent_id), safe_str(getattr(args[0], AGENT_NAME_ATTR, ""), 200)
    agent: Any = (context.get_current() if current is None else current).get(AGENT_KEY)
    return agent


def bound_arguments(func: Callable[..., Any], args: tuple, kwargs: dict) -> dict[str, Any]:
    """A call's arguments by parameter name (without ``self``), for content capture."""
    try:
        bound = inspect.signature(func).bind_partial(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
    except (TypeError, ValueError):
        arguments = {"args": list(args), "kwargs": kwargs}
    arguments.pop("self", None)
    return arguments


def bare_or_called(target: Any, decorate: Callable[[Any, str | None], Any]) -> Any:
    """Serve both ``@deco`` and ``@deco("name")``: ``decorate(func, name)`` does the work."""
    if callable(target) and not isinstance(target, str):
        return decorate(target, None)
    name = target if isinstance(target, str) and target else None
    return lambda func: decorate(func, name)


def label_of(target: Any, name: str | None, default: str) -> str:
    """A span's label: the given name, else the function's or class's name."""
    return safe_str(name or getattr(target, "__name__", default) or default, 200)
