"""LLM calls: ``init()`` turns on the installed OpenTelemetry instrumentations of LLM clients.

AgentOps recorded LLM calls by itself (``init(instrument_llm_calls=True)``, its
default). So does ``init()`` here, with OpenTelemetry's own instrumentations:

- they are found through the ``opentelemetry_instrumentor`` entry points, by the
  library their distribution declares it instruments (its ``instruments`` extra),
  for the LLM client libraries of ``LIBRARIES`` that are installed at a version
  the instrumentation supports;
- one per library: the official ``opentelemetry-instrumentation-genai-*`` first,
  then the other ``opentelemetry-instrumentation-*`` ones, then the rest;
- never when an instrumentation of that library is already active (as under
  ``opentelemetry-instrument``), nor one named in
  ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS``.

The extras bring them: ``pip install opentelemetry-instrumentation-agentops[openai]``
(also ``[anthropic]``, ``[openai-agents]``). ``init(instrument_llm_calls=False)`` or
``OTEL_INSTRUMENTATION_AGENTOPS_INSTRUMENT_LLM_CALLS=false`` turns it off.

AgentOps 0.3's ``client.chat.completions.create(..., session=s)`` works too (OpenAI
chat completions and responses, Anthropic messages; sync, async and streaming):
the keyword is removed before the client sees it and the call runs in session
``s``, so its LLM span lands in that session's trace. Call ``init()`` after
instrumenting the client yourself, so the session is current before the
instrumentation's span starts.

A session that ends with no LLM call while an LLM client library is imported
and no instrumentation of it is active logs one hint, once per process, naming
the extra to install.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .config import DISABLED_ENV, INSTRUMENT_LLM_CALLS_ENV, env_flag, settings
from .log import logger, printable
from .sessions import Session
from .suppression import is_instrumentation_enabled

if TYPE_CHECKING:
    from importlib import metadata

# importlib.metadata, wrapt and packaging are loaded by the functions that need them, the first
# time init() turns LLM instrumentations on: importing this package stays cheap (benchmarks,
# import row).


def _metadata() -> ModuleType:
    return importlib.import_module("importlib.metadata")


ENTRY_POINT_GROUP = "opentelemetry_instrumentor"
OFFICIAL_PREFIX = "opentelemetry-instrumentation-genai-"
CONTRIB_PREFIX = "opentelemetry-instrumentation-"

# The LLM client libraries AgentOps patched: distribution -> (module, this package's extra).
LIBRARIES: dict[str, tuple[str, str | None]] = {
    "openai": ("openai", "openai"),
    "anthropic": ("anthropic", "anthropic"),
    "openai-agents": ("agents", "openai-agents"),
    "litellm": ("litellm", None),
    "cohere": ("cohere", None),
    "groq": ("groq", None),
    "mistralai": ("mistralai", None),
    "google-genai": ("google.genai", None),
    "ai21": ("ai21", None),
    "ollama": ("ollama", None),
}

# The calls that take AgentOps 0.3's session= keyword: (module, class, method, is async).
SESSION_CALLS: dict[str, tuple[tuple[str, str, str, bool], ...]] = {
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

_lock = threading.Lock()
_state: dict[str, Any] = {
    "hinted": False,
    "wanted": True,
    "candidates": None,
    "hooked": set(),
}
_session_wrapped: list[tuple[Any, str, Any]] = []  # (class, method, original) for restore()


def instrument_llm_calls(enabled: bool = True) -> list[str]:
    """Turn on one instrumentation per installed LLM library; the entry points turned on.

    Never raises: an instrumentation that fails to load or to instrument is skipped.
    """
    enabled = bool(enabled) and env_flag(INSTRUMENT_LLM_CALLS_ENV, default=True)
    _state["wanted"] = enabled
    if not enabled:
        return []
    turned_on = []
    with _lock:
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
            if module in sys.modules:
                _wrap_session_calls(sys.modules[module])
            elif module not in _state["hooked"]:  # wrapt cannot remove a hook: one each
                _state["hooked"].add(module)
                importlib.import_module("wrapt").register_post_import_hook(
                    _wrap_session_calls, module
                )
    if turned_on:
        logger.debug("init(): LLM call instrumentations turned on: %s", ", ".join(turned_on))
    return turned_on


def candidates() -> dict[str, list[metadata.EntryPoint]]:
    """The instrumentor entry points of each LLM library, in the order they are preferred."""
    found = _state["candidates"]
    if found is None:
        found = {}
        for entry_point in _metadata().entry_points(group=ENTRY_POINT_GROUP):
            for library in _instrumented_libraries(entry_point):
                found.setdefault(library, []).append(entry_point)
        for entry_points in found.values():
            entry_points.sort(key=_preference)
        _state["candidates"] = found
    return found


def _requirements(dist: Any) -> Iterator[Any]:
    """The parsed requirements of a distribution (``packaging`` Requirement objects)."""
    requirements = importlib.import_module("packaging.requirements")
    for line in (dist.requires or []) if dist is not None else []:
        try:
            yield requirements.Requirement(line)
        except requirements.InvalidRequirement:
            continue


def _canonical(name: str) -> str:
    return importlib.import_module("packaging.utils").canonicalize_name(name)


def _instrumented_libraries(entry_point: metadata.EntryPoint) -> list[str]:
    """The LLM libraries an entry point's distribution declares it instruments."""
    libraries = []
    for requirement in _requirements(getattr(entry_point, "dist", None)):
        marker = requirement.marker
        if marker is None or not marker.evaluate({"extra": "instruments"}):
            continue
        if marker.evaluate({"extra": ""}):  # not specific to the instruments extra
            continue
        name = _canonical(requirement.name)
        if name in LIBRARIES:
            libraries.append(name)
    return libraries


def _preference(entry_point: metadata.EntryPoint) -> tuple[int, str]:
    dist = _canonical(entry_point.dist.name) if entry_point.dist is not None else ""
    if dist.startswith(OFFICIAL_PREFIX):
        rank = 0
    elif dist.startswith(CONTRIB_PREFIX):
        rank = 1
    else:
        rank = 2
    return rank, dist


def _installed(library: str, entry_point: metadata.EntryPoint) -> bool:
    """Whether ``library`` is installed at a version the instrumentation supports."""
    for requirement in _requirements(entry_point.dist):
        if _canonical(requirement.name) != library:
            continue
        try:
            return requirement.specifier.contains(_metadata().version(library), prereleases=True)
        except _metadata().PackageNotFoundError:
            return False
    return False


def _active_instrumentor(entry_point: metadata.EntryPoint) -> Any:
    """The entry point's instrumentor when it is already loaded and active, else None."""
    # The module from the value by hand: EntryPoint.module runs a regular expression each time.
    if entry_point.value.partition(":")[0].strip() not in sys.modules:  # never loaded: inactive
        return None
    instrumentor = _instrumentor_class(entry_point.name, entry_point.value)()  # a singleton
    return instrumentor if instrumentor.is_instrumented_by_opentelemetry else None


@functools.cache
def _instrumentor_class(name: str, value: str) -> Any:
    # Loading an entry point reads package metadata: once per entry point, not per session end.
    return _metadata().EntryPoint(name, value, ENTRY_POINT_GROUP).load()


def is_instrumented(library: str) -> bool:
    """Whether one of ``library``'s instrumentations is active in this process."""
    for entry_point in candidates().get(library, ()):
        try:
            if _active_instrumentor(entry_point) is not None:
                return True
        except Exception:
            continue
    return False


def _instrument_one(library: str, entry_points: list[metadata.EntryPoint]) -> str | None:
    if is_instrumented(library):
        return None
    disabled = {n.strip() for n in os.environ.get(DISABLED_ENV, "").split(",")}
    for entry_point in entry_points:
        if entry_point.name in disabled or not _installed(library, entry_point):
            continue
        instrumentor = entry_point.load()()
        options = {}
        if settings.tracer_provider is not None:  # else the instrumentation uses the global one
            options["tracer_provider"] = settings.tracer_provider
        instrumentor.instrument(**options)
        if instrumentor.is_instrumented_by_opentelemetry:
            return f"{entry_point.name} ({entry_point.dist.name})"
    return None


# -- AgentOps 0.3's session= keyword on LLM client calls -------------------------------------


def _in_session(session: Any) -> Any:
    """The context a call runs in: its session when given one and not suppressed."""
    if isinstance(session, Session) and is_instrumentation_enabled():
        return session.activate()
    return _NO_SESSION


class _NoSession:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: Any) -> bool:
        return False


_NO_SESSION = _NoSession()


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


_SESSION_WRAPPERS = (_sync_call, _async_call)


def _is_ours(method: Any) -> bool:
    """Whether ``method`` is our session= wrapper (outermost, so it sees the keyword first)."""
    return getattr(method, "_self_wrapper", None) in _SESSION_WRAPPERS


def _wrap_session_calls(module: Any) -> None:
    """Wrap the session= calls of the library whose top module was just imported."""
    library = next((k for k, v in LIBRARIES.items() if v[0] == module.__name__), None)
    for module_name, class_name, method, is_async in SESSION_CALLS.get(library or "", ()):
        try:
            owner = getattr(importlib.import_module(module_name), class_name, None)
            current = None if owner is None else vars(owner).get(method)
            if current is None or _is_ours(current):
                continue  # absent in this version, or our wrapper is already outermost
            _session_wrapped.append((owner, method, current))
            wrapper = _async_call if is_async else _sync_call
            setattr(
                owner, method, importlib.import_module("wrapt").FunctionWrapper(current, wrapper)
            )
        except Exception:  # a library version we do not know: leave it alone
            logger.debug("could not wrap %s.%s.%s", module_name, class_name, method, exc_info=True)


def restore_session_calls() -> None:
    """Remove the session= wrappers (tests, and ``uninstrument`` of the caller's choosing)."""
    while _session_wrapped:
        owner, method, original = _session_wrapped.pop()
        try:
            setattr(owner, method, original)
        except Exception:
            logger.debug("could not restore %r.%s", owner, method, exc_info=True)


# -- the hint when a session made no LLM call ------------------------------------------------


def hint_if_no_llm_call(session: Any) -> None:
    """Session-end hook: one hint per process when LLM calls may have gone unrecorded."""
    if _state["hinted"] or session.totals.llm_calls or not _state["wanted"]:
        return
    for library, (module, extra) in LIBRARIES.items():
        # is_instrumented() is cheap: its instrumentor classes are loaded once each.
        if module not in sys.modules or is_instrumented(library):
            continue
        _state["hinted"] = True
        install = (
            f"pip install 'opentelemetry-instrumentation-agentops[{extra}]'"
            if extra
            else f"install an OpenTelemetry instrumentation of {library}"
        )
        logger.warning(
            "Session %s recorded no LLM call, and %s is imported with no OpenTelemetry "
            "instrumentation of it active: its calls are not traced. To record them, %s "
            "and call init() (or instrument %s yourself).",
            printable(session.name or session.session_id),
            module,
            install,
            library,
        )
        return


END_HOOKS: tuple[Callable[[Any], None], ...] = (hint_if_no_llm_call,)
