"""agentops 0.4's call-time layer: its ``tracer`` singleton and decorator helpers.

Functions decorated with agentops 0.4 before the redirect keep agentops'
wrapper, which looks up, at each call, the ``tracer`` (a ``TracingCore``) and
the helpers of ``agentops.sdk.decorators.factory``. Redirected here:

- ``TracingCore``: ``initialized`` is always true, ``start_trace``/``end_trace``
  start and end this package's sessions, ``make_span``/``get_tracer`` make its
  spans, ``initialize*`` do nothing.
- the factory's helpers: entity spans named as this package names them
  (``execute_tool {name}``, ``invoke_agent {name}``, ``{kind} {name}``); a
  decorated class gets an instant span when instantiated (``create_agent
  {name}`` for ``@agent``) instead of a span attached to the object's lifetime;
  inputs and outputs are recorded only when content capture is on.
- ``agentops.legacy``'s "current session" global, so a stale legacy
  ``end_session()`` ends the current session.
- ``Client.init``/``Client.configure``: this package's ``init``.

Frame inspection (``frames.py``) is used twice here, each use commented.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from contextvars import Token
from typing import Any

from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from .._api import functions
from .._api.decorators import create_agent_span
from .._api.entities import entity_attributes, entity_spec, session_begin
from .._api.legacy import start_trace
from .._engine import attributes as attr
from .._engine.content import capture
from .._engine.events import agent_identity
from .._engine.iteration import TracedAsyncGenerator, TracedGenerator
from .._engine.tracer import get_tracer
from .._engine.types import EndState, parse_end_state
from .._engine.wrapping import AGENT_ID_ATTR, AGENT_NAME_ATTR, Spec, begin
from .._runtime.owner import RUNTIME
from .._runtime.settings import logger
from . import frames, shared
from .internals import FACTORY_HELPERS

LEGACY = attr.LEGACY_PREFIX


def capture_originals(module: Any) -> None:
    factory = importlib.import_module("agentops.sdk.decorators.factory")
    core = importlib.import_module("agentops.sdk.core")
    RUNTIME.redirect.originals["end_trace_code"] = getattr(module.end_trace, "__code__", None)
    RUNTIME.redirect.originals["factory_file"] = (
        factory.create_entity_decorator.__code__.co_filename
    )
    RUNTIME.redirect.originals["end_trace"] = vars(core.TracingCore)["end_trace"]


def redirect(patcher: shared.Redirector, init: Callable[..., Any]) -> None:
    """Redirect the call-time layer; ``init`` is the redirected ``agentops.init``."""
    core = importlib.import_module("agentops.sdk.core")
    client = importlib.import_module("agentops.client.client")
    factory = importlib.import_module("agentops.sdk.decorators.factory")
    legacy = importlib.import_module("agentops.legacy")
    for name, value in vars(_TracingCore).items():
        if not name.startswith("__"):
            patcher.set(core.TracingCore, name, value)
    patcher.set(client.Client, "init", lambda self, **options: init(**options))
    patcher.set(client.Client, "configure", lambda self, **options: shared.configure(**options))
    ours = {
        "_create_as_current_span": create_as_current_span,
        "_record_entity_input": record_entity_input,
        "_record_entity_output": record_entity_output,
        "_process_sync_generator": process_sync_generator,
        "_process_async_generator": process_async_generator,
    }
    for name in FACTORY_HELPERS:
        patcher.set(factory, name, ours[name])
    patcher.set(legacy, "_current_trace_context", CurrentSession())
    patcher.set(legacy, "_current_session", None)
    RUNTIME.redirect.originals["legacy"] = legacy


class _TracingCore:
    """What agentops' ``TracingCore`` does while redirected (copied onto the class)."""

    initialized = property(lambda self: True)

    def start_trace(self, trace_name: Any = "session", tags: Any = None, **_: Any) -> Any:
        return start_trace(trace_name, tags)

    def end_trace(self, trace_context: Any = None, end_state: Any = None) -> None:
        try:
            # Frame inspection (frames.py): who called tells agentops.end_trace() (the current
            # session) from the legacy end_all_sessions() (every one), and a decorated
            # function that raised (from the factory) from other callers.
            _end_trace(self, trace_context, end_state, frames.caller_code())
        except Exception:
            logger.debug("could not end %r", trace_context, exc_info=True)
        finally:
            _rearm()

    def get_tracer(self, name: str = "agentops") -> trace.Tracer:
        return get_tracer()

    def make_span(
        self, operation_name: Any, span_kind: Any, version: Any = None, attributes: Any = None
    ) -> tuple[Any, Any, None]:
        call = _begin_entity(str(operation_name), str(span_kind), version, attributes, True)
        if call is None:
            return trace.INVALID_SPAN, context.get_current(), None
        RUNTIME.redirect.calls[call.span] = call
        return call.span, call.context, None  # no token: the generator helpers attach

    def get_active_traces(self) -> dict[str, Any]:
        return {f"{s.trace_id:x}": s for s in functions.get_active_sessions()}

    def get_active_trace_count(self) -> int:
        return len(functions.get_active_sessions())

    def initialize(self, *args: Any, **kwargs: Any) -> None:
        return None

    update_config = initialize
    initialize_from_config = classmethod(lambda cls, *args, **kwargs: None)


def _end_trace(core: Any, target: Any, end_state: Any, caller: Any) -> None:
    if end_state is None:
        end_state = EndState.SUCCESS
    if target is None:
        if caller is RUNTIME.redirect.originals.get(
            "end_trace_code"
        ):  # agentops.end_trace(): the current one
            functions.end_session(end_state)
        else:  # legacy end_all_sessions(): all of them, as 0.4 did
            functions.end_all_sessions(end_state)
        return
    recorded: dict[str, Any] = {}  # what legacy end_session() set: agentops.legacy.*
    if isinstance(target, CurrentSession):
        recorded = dict(target.span.attributes)
        session = functions.resolve_session("end session", "end_session")
    else:
        session = functions.as_session(target)
        if session is None:  # a trace agentops started itself, before the redirect
            RUNTIME.redirect.originals["end_trace"](core, target, end_state)
            return
        recorded = dict(getattr(session.span, "attributes", None) or {})  # already on it
    if session is None:
        return
    reason = recorded.pop(f"{LEGACY}end_state_reason", None)
    if (
        str(recorded.get(f"{LEGACY}is_auto_end")) == "True"
        and RUNTIME.settings.skip_auto_end_session
    ):
        return
    error = sys.exc_info()[1]
    if (
        error is not None
        and getattr(caller, "co_filename", None) == RUNTIME.redirect.originals.get("factory_file")
        and parse_end_state(end_state) is not EndState.SUCCESS
    ):  # a decorated function raised: its session failed
        session.__exit__(type(error), error, error.__traceback__)
        return
    extra = {}
    if isinstance(target, CurrentSession):
        extra = {k[len(LEGACY) :]: v for k, v in recorded.items() if k.startswith(LEGACY)}
    session.end(end_state, reason, legacy=extra)


class _Recorder:
    """The ``span`` of ``CurrentSession``: keeps what legacy code sets on it."""

    def __init__(self) -> None:
        self.attributes: dict[str, Any] = {}

    def set_attribute(self, key: str, value: Any) -> None:
        self.attributes[key] = value

    def is_recording(self) -> bool:
        return True


class CurrentSession:
    """Stands in ``agentops.legacy._current_trace_context``: "the current session"."""

    token = None
    is_init_trace = False

    def __init__(self) -> None:
        self.span = _Recorder()


def _rearm() -> None:
    """A fresh stand-in after each end: legacy code clears the global only when it is its own."""
    legacy = RUNTIME.redirect.originals.get("legacy")
    if legacy is not None:
        legacy._current_trace_context = CurrentSession()


def _begin_entity(
    name: str, kind: str, version: Any, attributes: Any, sessions: bool, instance: Any = None
) -> Any:
    """A call of an entity span (or of a session, for 0.4's SESSION kind)."""
    extra = entity_attributes(version=version, attributes=attributes)
    if sessions and kind == "session":
        return session_begin(None, extra)(Spec(None, name, extra), (), {})
    args = (instance,) if instance is not None else ()  # its @agent id reaches the span
    return begin(entity_spec(kind, name, None, extra), args, {})


class _EntitySpan:
    """What ``_create_as_current_span`` returns: a span current inside ``with``."""

    def __init__(self, call: Any) -> None:
        self.call = call
        self.token: Token[Context] | None = None

    def __enter__(self) -> Any:
        if self.call is None:
            return trace.INVALID_SPAN
        self.token = context.attach(self.call.context)
        return self.call.span

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if self.call is not None:
            if self.token is not None:
                context.detach(self.token)
            self.call.finish(exc)
            self.call = None


def create_as_current_span(
    operation_name: Any, span_kind: Any, version: Any = None, attributes: Any = None
) -> _EntitySpan:
    # Frame inspection (frames.py): the decorated class's instance (``self``) or the bound
    # instance (``instance``) exists only in the factory wrapper's locals.
    caller = frames.caller()
    name, kind = str(operation_name), str(span_kind)
    code = None if caller is None else caller.f_code
    if code is None or code.co_filename != RUNTIME.redirect.originals.get("factory_file"):
        return _EntitySpan(_begin_entity(name, kind, version, attributes, False))
    if code.co_name in ("__init__", "__aenter__"):  # a decorated class's instance
        _instance_span(name, kind, frames.caller_local(caller, "self"))
        return _EntitySpan(None)
    instance = frames.caller_local(caller, "instance")
    return _EntitySpan(_begin_entity(name, kind, version, attributes, False, instance))


def _instance_span(name: str, kind: str, instance: Any) -> None:
    """An instant span for a new instance; never a span held for the object's lifetime."""
    if not is_instrumentation_enabled():
        return
    if kind != "agent":
        call = _begin_entity(name, kind, None, None, False)
        if call is not None:
            call.finish()
        return
    agent_id, name = agent_identity(name)
    try:  # so its methods' spans carry the agent
        setattr(instance, AGENT_ID_ATTR, agent_id)
        setattr(instance, AGENT_NAME_ATTR, name)
    except Exception:
        pass
    create_agent_span(agent_id, name)


def _content_key(span: Any, entity_kind: str, tool_key: str, other_key: str) -> str | None:
    if not RUNTIME.settings.capture_content or not getattr(span, "is_recording", lambda: False)():
        return None
    return tool_key if entity_kind == "tool" else other_key


def record_entity_input(span: Any, args: Any, kwargs: Any, entity_kind: str = "entity") -> None:
    key = _content_key(span, entity_kind, attr.TOOL_CALL_ARGUMENTS, attr.EVENT_PARAMS)
    if key is not None:
        captured: dict[str, Any] = {}
        capture(captured, key, {"args": list(args or ()), "kwargs": dict(kwargs or {})})
        span.set_attributes(captured)


def record_entity_output(span: Any, result: Any, entity_kind: str = "entity") -> None:
    key = _content_key(span, entity_kind, attr.TOOL_CALL_RESULT, attr.EVENT_RETURNS)
    if key is not None:
        captured: dict[str, Any] = {}
        capture(captured, key, result)
        span.set_attributes(captured)


def process_sync_generator(span: Any, generator: Any) -> Any:
    call = RUNTIME.redirect.calls.pop(span, None)
    return generator if call is None else TracedGenerator(generator, call)


def process_async_generator(span: Any, context_token: Any, generator: Any) -> Any:
    call = RUNTIME.redirect.calls.pop(span, None)
    return generator if call is None else TracedAsyncGenerator(generator, call)
