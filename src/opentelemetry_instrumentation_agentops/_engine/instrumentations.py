"""The OpenTelemetry instrumentations of LLM client libraries installed here, and which are on.

They are found through the ``opentelemetry_instrumentor`` entry points, by the library
their distribution declares it instruments (its ``instruments`` extra), one list per
library of ``LIBRARIES``, the official ``opentelemetry-instrumentation-genai-*`` first.
``importlib.metadata`` and ``packaging`` load when first asked, not at import.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, Any

from .._runtime.owner import RUNTIME

if TYPE_CHECKING:
    from importlib import metadata


def _metadata() -> ModuleType:
    return importlib.import_module("importlib.metadata")


ENTRY_POINT_GROUP = "opentelemetry_instrumentor"
OFFICIAL_PREFIX = "opentelemetry-instrumentation-genai-"
CONTRIB_PREFIX = "opentelemetry-instrumentation-"

# The LLM client libraries AgentOps patched: distribution -> (module, this package's extra).
LIBRARIES: MappingProxyType[str, tuple[str, str | None]] = MappingProxyType(
    {
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
)


def candidates() -> dict[str, list[metadata.EntryPoint]]:
    """The instrumentor entry points of each LLM library, in the order they are preferred."""
    found = RUNTIME.llm_calls.candidates
    if found is None:
        found = {}
        for entry_point in _metadata().entry_points(group=ENTRY_POINT_GROUP):
            for library in _instrumented_libraries(entry_point):
                found.setdefault(library, []).append(entry_point)
        for entry_points in found.values():
            entry_points.sort(key=_preference)
        RUNTIME.llm_calls.candidates = found
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


def installed(library: str, entry_point: metadata.EntryPoint) -> bool:
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


def _instrumentor_class(name: str, value: str) -> Any:
    # Loading an entry point reads package metadata: once per entry point, not per session end.
    classes = RUNTIME.llm_calls.classes
    found = classes.get((name, value))
    if found is None:
        found = classes[name, value] = _metadata().EntryPoint(name, value, ENTRY_POINT_GROUP).load()
    return found


def is_instrumented(library: str) -> bool:
    """Whether one of ``library``'s instrumentations is active in this process."""
    for entry_point in candidates().get(library, ()):
        try:
            if _active_instrumentor(entry_point) is not None:
                return True
        except Exception:
            continue
    return False
