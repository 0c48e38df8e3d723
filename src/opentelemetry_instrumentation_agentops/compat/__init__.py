"""Existing AgentOps programs, unchanged, on this engine and your own backend.

While :class:`AgentOpsInstrumentor` is active, the installed ``agentops``
package (0.3.x or 0.4.x; checked on 0.3.26 and 0.4.21) is redirected onto this
package, whether it was imported before or after ``instrument()``:

- its sessions are this package's sessions: root spans exported through your
  OpenTelemetry pipeline (``opentelemetry-instrument``'s, or the provider given
  to ``instrument()``), with the same children, end states and totals;
- ``agentops.init()`` needs no API key, contacts no AgentOps server (nor PyPI),
  sets no global provider, patches no builtin and writes no ``agentops.log``;
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

import logging
import sys
import threading
from typing import Any

import wrapt

from . import common, tracing, v03, v04
from .patcher import Patcher

logger = logging.getLogger("opentelemetry_instrumentation_agentops")

_lock = threading.RLock()
_patcher = Patcher()
_state = {"active": False, "hooked": False, "warned": False}


def redirect_agentops() -> None:
    """Point the ``agentops`` package at this engine, now or when it is imported."""
    with _lock:
        _state["active"] = True
        if not _state["hooked"]:  # wrapt has no way to remove a hook: one per process
            _state["hooked"] = True
            wrapt.register_post_import_hook(_on_import, "agentops")  # runs now if imported
        elif "agentops" in sys.modules:
            _on_import(sys.modules["agentops"])


def restore_agentops() -> None:
    """Give the original ``agentops`` package back."""
    with _lock:
        _state["active"] = False
        _patcher.restore()
        common.reset()
        tracing.reset()


def is_redirected() -> bool:
    return bool(_patcher)


def _on_import(module: Any) -> None:
    with _lock:
        if not _state["active"] or _patcher:
            return
        try:
            line = next((line for line in (v04, v03) if line.detect(module)), None)
            if line is None:
                logger.debug("agentops %s is not a version this package redirects", module)
                return
            _warn_if_initialized(line, module)
            line.redirect(module, _patcher)
            logger.debug("agentops redirected onto opentelemetry_instrumentation_agentops")
        except Exception:  # never break the import, nor the application
            logger.warning("Could not redirect agentops; it runs unchanged.", exc_info=True)
            _patcher.restore()


def _warn_if_initialized(line: Any, module: Any) -> None:
    try:
        initialized = line.already_initialized(module)
    except Exception:
        initialized = False
    if initialized and not _state["warned"]:
        _state["warned"] = True
        logger.warning(
            "agentops.init() ran before the instrumentor: what it set up (its exporter, "
            "providers, patched print) stays. Instrument before calling agentops.init()."
        )
