"""``AgentOpsInstrumentor``: sessions for ``opentelemetry-instrument`` and one-line setup.

``instrument()`` with no arguments does what auto-instrumentation does: it adds
the session span processor to the provider in use, propagates the OTel context
into ``threading.Thread`` and ``ThreadPoolExecutor`` work (module ``threads``),
installs the exit and SIGTERM
handling, redirects the ``agentops`` package onto this engine when it is
installed, and, with ``OTEL_INSTRUMENTATION_AGENTOPS_AUTO_START_SESSION=true``,
starts one session for the whole process, named after the script and ended at
exit: Success, or Fail on an uncaught exception or a non-zero ``sys.exit``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor

from ._api.functions import start_session
from ._compat.redirect import redirect_agentops, restore_agentops
from ._engine import exits, metrics
from ._engine.processor import attach_processor
from ._engine.sessions import Session
from ._engine.tracer import current_provider
from ._engine.types import EndState
from ._runtime.settings import AUTO_START_ENV, env_flag, logger, settings
from ._setup import threads
from .package import _instruments


class AgentOpsInstrumentor(BaseInstrumentor):
    """Sessions as OpenTelemetry root spans, for every span of the agent run."""

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        try:
            self._setup(**kwargs)
        except Exception:  # never break the application, nor the other instrumentors
            logger.warning("AgentOps instrumentation failed to start", exc_info=True)

    def _setup(
        self,
        tracer_provider: Any = None,
        meter_provider: Any = None,
        capture_content: bool | None = None,
        auto_start_session: bool | None = None,
        **_: Any,
    ) -> None:
        if tracer_provider is not None:
            settings.tracer_provider = tracer_provider
        if meter_provider is not None:
            metrics.use_meter_provider(meter_provider)
        settings.choose(capture_content=None if capture_content is None else bool(capture_content))
        # Each part on its own: a broken provider or a failing patch disables that part only.
        _guarded("add the session span processor", lambda: attach_processor(current_provider()))
        _guarded("propagate the context into threads", threads.instrument_threads)
        _guarded("install the exit handlers", exits.install_exit_handlers)
        _guarded("install the SIGTERM handler", exits.install_sigterm_handler)
        _guarded("redirect agentops", redirect_agentops)
        if auto_start_session is None:
            auto_start_session = env_flag(AUTO_START_ENV)
        if auto_start_session:
            _guarded("start the process session", _start_process_session)

    def _uninstrument(self, **kwargs: Any) -> None:
        _guarded("give agentops back", restore_agentops)
        _guarded("restore sys.exit", _restore_exit)
        _guarded("stop propagating the context into threads", threads.uninstrument_threads)
        settings.tracer_provider = None
        settings.meter_provider = None


def _guarded(what: str, step: Callable[[], Any]) -> None:
    try:
        step()
    except Exception:  # never break the application, nor the other instrumentors
        logger.warning("AgentOps instrumentation could not %s", what, exc_info=True)


# -- the process-wide session (OTEL_INSTRUMENTATION_AGENTOPS_AUTO_START_SESSION) ---------------

_process_session: Session | None = None
_exit_status: Any = None
_original_exit = sys.exit


def _start_process_session() -> None:
    """One session for the whole process, named after the script, ended at exit."""
    global _process_session
    if _process_session is not None and not _process_session.ended:
        return
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
    _process_session = start_session(name=name or "python")
    exits.run_before_exit(_end_process_session)
    if sys.exit is _original_exit:  # wrapped to learn the exit status
        sys.exit = _exit


def _restore_exit() -> None:
    if sys.exit is _exit:
        sys.exit = _original_exit


def _exit(status: Any = None) -> None:
    global _exit_status
    _exit_status = status
    _original_exit(status)


def _end_process_session() -> bool:
    """At exit: Success, or Fail on a non-zero ``sys.exit`` status."""
    session = _process_session
    if session is None or session.ended:
        return False
    if _exit_status is None or _exit_status == 0:
        session.end(EndState.SUCCESS, "the process exited normally")
    else:
        session.end(EndState.FAIL, f"the process exited with status {_exit_status!r}")
    return True
