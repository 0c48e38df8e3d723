"""``init()`` turns on the installed OpenTelemetry instrumentations of LLM client libraries.

One per library (``_engine/instrumentations.py`` finds them), never one of a library
that is instrumented already (as under ``opentelemetry-instrument``) nor one named in
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS``; ``init(instrument_llm_calls=False)`` or
``OTEL_INSTRUMENTATION_AGENTOPS_INSTRUMENT_LLM_CALLS=false`` turns it off.

AgentOps 0.3's ``client.chat.completions.create(..., session=s)`` works too (OpenAI chat
completions and responses, Anthropic messages; sync, async and streaming): the keyword
is removed before the client sees it and the call runs in session ``s``. The wrappers
are the runtime's patches, held by ``"init"``, outermost so they see the keyword first.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .._engine.instrumentations import LIBRARIES, candidates, installed, is_instrumented
from .._engine.sessions import Session
from .._runtime.owner import RUNTIME
from .._runtime.settings import (
    DISABLED_ENV,
    INSTRUMENT_LLM_CALLS_ENV,
    env_flag,
    is_instrumentation_enabled,
    logger,
)

if TYPE_CHECKING:
    from importlib import metadata

# The calls that take AgentOps 0.3's session= keyword: (module, class, method, is async).
SESSION_CALLS: MappingProxyType[str, tuple[tuple[str, str, str, bool], ...]] = MappingProxyType(
    {
        "openai": (
            ("openai.resources.chat.completions", "Completions", "create", False),
            ("openai.resources.chat.completions", "AsyncCompletions", "create", True),
            ("openai.resources.responses", "Responses", "create", False),
            ("openai.resources.responses", "AsyncResponses", "create", True),
        ),
        "anthropic": (
            ("anthropic.resources.messages", "Messages", "create", False),
            ("anthropic.resources.messages", "AsyncMessages", "create", True),
        ),
    }
)


def instrument_llm_calls(enabled: bool = True) -> list[str]:
    """Turn on one instrumentation per installed LLM library; the entry points turned on.

    Never raises: an instrumentation that fails to load or to instrument is skipped.
    """
    enabled = bool(enabled) and env_flag(INSTRUMENT_LLM_CALLS_ENV, default=True)
    state = RUNTIME.llm_calls
    state.wanted = enabled
    if not enabled:
        return []
    turned_on = []
    with state.lock:
        for library, entry_points in candidates().items():
            try:
                name = _instrument_one(library, entry_points)
            except Exception:  # never break init(), nor the application
                logger.debug("could not instrument %s", library, exc_info=True)
                continue
            if name is not None:
                turned_on.append(name)
        for library in SESSION_CALLS:
            # Now if the library is imported (the instrumentations above import it), so the
            # session= wrapper sits outside their wrappers; else when it is imported.
            module = LIBRARIES[library][0]
            RUNTIME.patches.after_import(
                "init", ("session= calls of", module), module, _wrap_session_calls
            )
    if turned_on:
        logger.debug("init(): LLM call instrumentations turned on: %s", ", ".join(turned_on))
    return turned_on


def _instrument_one(library: str, entry_points: list[metadata.EntryPoint]) -> str | None:
    if is_instrumented(library):
        return None
    disabled = {n.strip() for n in os.environ.get(DISABLED_ENV, "").split(",")}
    for entry_point in entry_points:
        if entry_point.name in disabled or not installed(library, entry_point):
            continue
        instrumentor = entry_point.load()()
        options = {}
        provider = RUNTIME.settings.tracer_provider
        if provider is not None:  # else the instrumentation uses the global one
            options["tracer_provider"] = provider
        instrumentor.instrument(**options)
        if instrumentor.is_instrumented_by_opentelemetry:
            dist = entry_point.dist
            return f"{entry_point.name} ({dist.name if dist is not None else '?'})"
    return None


# -- AgentOps 0.3's session= keyword on LLM client calls -------------------------------------


def _in_session(session: Any) -> Any:
    """The context a call runs in: its session when given one and not suppressed."""
    if isinstance(session, Session) and is_instrumentation_enabled():
        return session.activate()
    return contextlib.nullcontext()


def _sync_call(wrapped: Any, instance: Any, args: tuple, kwargs: dict) -> Any:
    if "session" not in kwargs:
        return wrapped(*args, **kwargs)
    session = kwargs.pop("session")  # the client never sees it, whatever it is
    with _in_session(session):
        return wrapped(*args, **kwargs)


def _async_call(wrapped: Any, instance: Any, args: tuple, kwargs: dict) -> Any:
    if "session" not in kwargs:
        return wrapped(*args, **kwargs)
    session = kwargs.pop("session")

    async def in_session() -> Any:  # current while the call (and its span) runs
        with _in_session(session):
            return await wrapped(*args, **kwargs)

    return in_session()


def _wrap_session_calls(module: Any) -> None:
    """Wrap the session= calls of the library whose top module was just imported."""
    library = next((k for k, v in LIBRARIES.items() if v[0] == module.__name__), None)
    patches = RUNTIME.patches
    for module_name, class_name, method, is_async in SESSION_CALLS.get(library or "", ()):
        try:
            owner = getattr(importlib.import_module(module_name), class_name, None)
            if owner is None or method not in vars(owner):
                continue  # absent in this version
            key = patches.key(owner, method)
            if patches.active(key):
                if vars(owner)[method] is patches.value(key):
                    continue  # ours is the outermost wrapper already
                patches.discard(key)  # another wrapper came on top since: ours goes outside
            patches.wrap("init", owner, method, _async_call if is_async else _sync_call)
        except Exception:  # a library version we do not know: leave it alone
            logger.debug("could not wrap %s.%s.%s", module_name, class_name, method, exc_info=True)
