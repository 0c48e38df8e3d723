"""Existing AgentOps programs, unchanged, on this engine and your own backend.

While the instrumentor is active, the installed ``agentops`` package (imported before or
after ``instrument()``) is redirected onto this package: its sessions are ours, exported
through your OpenTelemetry pipeline; ``agentops.init()`` is our ``init()`` (no key, no
connection to AgentOps); both generations' public names work on both. The line is chosen
by the installed version (0.3.x, tested on 0.3.26; 0.4.x, tested on 0.4.21); another
release is redirected only when every internal of ``internals.py`` is there, else it runs
unchanged, with one warning. The redirect's changes are the runtime's patches, held by
``"redirect"``: ``uninstrument()`` gives the original package back.
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
