"""``AgentOpsInstrumentor``: sessions for ``opentelemetry-instrument`` and one-line setup.

``instrument()`` adds the session span processor to the provider in use, propagates
the OTel context into threads and thread pools, installs the exit and SIGTERM
handling, stamps log records with the session (``_setup/logs.py``), redirects the
``agentops`` package onto this engine when it is installed, and, with
``auto_start_session`` (or ``OTEL_INSTRUMENTATION_AGENTOPS_AUTO_START_SESSION``),
starts one session for the whole process, named after the script and ended at exit:
Success, or Fail on an uncaught exception or a non-zero ``sys.exit``. With
``propagate_session`` (or ``OTEL_INSTRUMENTATION_AGENTOPS_BAGGAGE``), sessions cross
services in W3C baggage (``_engine/baggage.py``). Everything it
installs is held by ``"instrument"`` in the runtime, so ``uninstrument()`` undoes it
all, ends that session, and leaves what ``init()`` chose in place.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor

from ._api.functions import start_session
from ._compat.redirect import redirect_agentops, restore_agentops
from ._engine import exits
from ._engine.processor import attach_processor
from ._engine.tracer import current_provider
from ._runtime.owner import RUNTIME
from ._runtime.settings import AUTO_START_ENV, env_flag, logger
from ._setup import logs, threads
from ._setup.signals import install_sigterm_handler
from .package import _instruments

INSTRUMENT = "instrument"  # what instrument() installs is held under this name in the runtime
UNINSTRUMENTED_REASON = "the instrumentor was uninstrumented before the process exited"


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
        logger_provider: Any = None,
        capture_content: bool | None = None,
        auto_start_session: bool | None = None,
        propagate_session: bool | None = None,
        **_: Any,
    ) -> None:
        RUNTIME.settings.choose(
            INSTRUMENT,
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            logger_provider=logger_provider,
            capture_content=None if capture_content is None else bool(capture_content),
            propagate_session=None if propagate_session is None else bool(propagate_session),
        )
        # Each part on its own: a broken provider or a failing patch disables that part only.
        _guarded("add the session span processor", lambda: attach_processor(current_provider()))
        _guarded("propagate the context into threads", lambda: threads.instrument(INSTRUMENT))
        _guarded("install the exit handlers", lambda: exits.install(INSTRUMENT))
        _guarded("install the SIGTERM handler", lambda: install_sigterm_handler(INSTRUMENT))
        _guarded("stamp log records with the session", lambda: logs.instrument(INSTRUMENT))
        _guarded("redirect agentops", lambda: redirect_agentops(INSTRUMENT))
        if auto_start_session is None:
            auto_start_session = env_flag(AUTO_START_ENV)
        if auto_start_session:
            _guarded("start the process session", _start_process_session)

    def _uninstrument(self, **kwargs: Any) -> None:
        _guarded(
            "end the process session", lambda: exits.end_process_session(UNINSTRUMENTED_REASON)
        )
        _guarded("give agentops back", restore_agentops)
        _guarded("undo what it installed", lambda: exits.release(INSTRUMENT))
        RUNTIME.settings.forget(INSTRUMENT)


def _guarded(what: str, step: Callable[[], Any]) -> None:
    try:
        step()
    except Exception:  # never break the application, nor the other instrumentors
        logger.warning("AgentOps instrumentation could not %s", what, exc_info=True)


def _start_process_session() -> None:
    """One session for the whole process, named after the script, ended at exit."""
    running = RUNTIME.process_session
    if running is not None and not running.ended:
        return
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
    RUNTIME.process_session = start_session(name=name or "python")
    RUNTIME.patches.set(INSTRUMENT, sys, "exit", _exit_over)  # to learn the exit status


def _exit_over(original: Callable[..., Any]) -> Callable[..., Any]:
    def exit(status: Any = None) -> None:
        RUNTIME.exit_status = status
        original(status)

    return exit
