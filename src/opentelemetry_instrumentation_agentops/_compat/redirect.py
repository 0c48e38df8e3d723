"""Existing AgentOps programs, unchanged, on this engine and your own backend.

While :class:`AgentOpsInstrumentor` is active, the installed ``agentops``
package is redirected onto this package, whether it was imported before or
after ``instrument()``. Which redirect applies is chosen by
``importlib.metadata.version("agentops")``: the 0.3.x line (tested on 0.3.26)
or the 0.4.x line (tested on 0.4.21). Any other version logs one warning: one
of those lines is still redirected when every agentops internal the redirect
touches (the table in ``internals.py``) is there, and is left unchanged
otherwise, as is any other line:

- its sessions are this package's sessions: root spans exported through your
  OpenTelemetry pipeline (``opentelemetry-instrument``'s, or the provider given
  to ``instrument()``), with the same children, end states and totals;
- ``agentops.init()`` is this package's ``init()``: it needs no API key,
  contacts no AgentOps server (nor PyPI), sets up the SDK pipeline only when
  none is configured, turns on the installed LLM client instrumentations,
  patches no builtin and writes no ``agentops.log``; agentops' logger prints;
- both generations' public names work on both: 0.3's ``start_session``,
  ``end_session``, ``record``, ``record_action``, ``record_tool``,
  ``track_agent``, events, and 0.4's ``start_trace``, ``end_trace``,
  ``update_trace_metadata`` and decorators (``agentops.sdk.decorators`` too);
- code that took references earlier (``from agentops import X`` before
  ``instrument()``, functions and classes decorated at import time, framework
  integrations such as CrewAI's) is reached through agentops' own call-time
  lookups (its ``Client`` in 0.3, its ``tracer`` in 0.4).

``uninstrument()`` gives the original package back. Inside
``suppress_instrumentation()`` the redirected functions run agentops' own code.
Differences from AgentOps are deliberate: ``end_trace()`` without a trace ends
the current session only, and a decorated ``@trace`` function that raises ends
its session Fail (0.4 said Indeterminate).
"""

from __future__ import annotations

from importlib import metadata
from types import MappingProxyType
from typing import Any

from packaging.version import InvalidVersion, Version

from .._runtime.owner import RUNTIME
from .._runtime.settings import logger
from . import internals, v03, v04
from .shared import REDIRECT, Redirector

# agentops line -> (the version it was tested on, the module that redirects it)
LINES = MappingProxyType({"0.3": ("0.3.26", v03), "0.4": ("0.4.21", v04)})
IMPORT_HOOK = "agentops: import hook"


def redirect_agentops(holder: str) -> None:
    """Point the ``agentops`` package at this engine, now or when it is imported."""
    RUNTIME.patches.after_import(holder, IMPORT_HOOK, "agentops", _on_import)


def restore_agentops() -> None:
    """Give the original ``agentops`` package back."""
    with RUNTIME.redirect.lock:
        RUNTIME.patches.release(REDIRECT)
        RUNTIME.redirect.clear()


def is_redirected() -> bool:
    return RUNTIME.patches.holds(REDIRECT)


def _on_import(module: Any) -> None:
    with RUNTIME.redirect.lock:
        if is_redirected():
            return
        try:
            line = choose_line()
            if line is None:
                return
            _warn_if_initialized(line, module)
            line.redirect(module, Redirector())
            logger.debug("agentops redirected onto opentelemetry_instrumentation_agentops")
        except Exception:  # never break the import, nor the application
            logger.warning("Could not redirect agentops; it runs unchanged.", exc_info=True)
            restore_agentops()


def choose_line() -> Any:
    """The redirect module for the installed agentops, or None (after saying why)."""
    try:
        installed = metadata.version("agentops")
        line = ".".join(str(part) for part in Version(installed).release[:2])
    except (metadata.PackageNotFoundError, InvalidVersion):
        logger.debug("an agentops module without a known version: not redirected")
        return None
    tested = ", ".join(version for version, _ in LINES.values())
    if line not in LINES:
        _version_warning(
            f"agentops {installed} is not a version this package redirects (tested on "
            f"{tested}): it runs unchanged, and sends what it records to AgentOps."
        )
        return None
    version, module = LINES[line]
    if installed == version:
        return module
    absent = internals.missing(line)
    if absent:
        _version_warning(
            f"agentops {installed} was not redirected: this package was tested on {version}, "
            f"and this release lacks {', '.join(absent)}. It runs unchanged, and sends what "
            "it records to AgentOps."
        )
        return None
    _version_warning(
        f"agentops {installed} is redirected, but this package was tested on {version} "
        f"(the {line}.x line): every agentops internal it touches is present."
    )
    return module


def _version_warning(message: str) -> None:
    if RUNTIME.once("agentops version"):
        logger.warning(message)


def _warn_if_initialized(line: Any, module: Any) -> None:
    try:
        initialized = line.already_initialized(module)
    except Exception:
        initialized = False
    if initialized and RUNTIME.once("agentops initialized"):
        logger.warning(
            "agentops.init() ran before the instrumentor: what it set up (its exporter, "
            "providers, patched print) stays. Instrument before calling agentops.init()."
        )
