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

import logging
import os
import sys
from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor

from . import lifecycle, threads
from .config import AUTO_START_ENV, env_flag, settings
from .package import _instruments
from .processor import attach_processor
from .sessions import start_session
from .tracing import current_provider

logger = logging.getLogger("opentelemetry_instrumentation_agentops")


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
        capture_content: bool | None = None,
        auto_start_session: bool | None = None,
        **_: Any,
    ) -> None:
        if tracer_provider is not None:
            settings.tracer_provider = tracer_provider
        settings.choose(capture_content=None if capture_content is None else bool(capture_content))
        attach_processor(current_provider())
        threads.instrument_threads()
        lifecycle.install_exit_handlers()
        lifecycle.install_sigterm_handler()
        from .compat import redirect_agentops

        redirect_agentops()
        if auto_start_session is None:
            auto_start_session = env_flag(AUTO_START_ENV)
        if auto_start_session and lifecycle.process_session() is None:
            name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
            lifecycle.set_process_session(start_session(name=name or "python"))

    def _uninstrument(self, **kwargs: Any) -> None:
        try:
            from .compat import restore_agentops

            restore_agentops()
            lifecycle.restore_exit()
            threads.uninstrument_threads()
            settings.tracer_provider = None
        except Exception:
            logger.warning("AgentOps uninstrumentation failed", exc_info=True)
