"""``AgentOpsInstrumentor``: sessions for ``opentelemetry-instrument`` and one-line setup.

``instrument()`` with no arguments does what auto-instrumentation does: it adds
the session span processor to the provider in use, propagates the OTel context
into ``threading.Thread`` and ``ThreadPoolExecutor`` work (through
``opentelemetry-instrumentation-threading``), installs the exit and SIGTERM
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
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from opentelemetry import context
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor
from opentelemetry.instrumentation.threading import ThreadingInstrumentor
from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from . import lifecycle
from .config import AUTO_START_ENV, env_flag, settings
from .package import _instruments
from .processor import attach_processor
from .sessions import start_session
from .tracing import current_provider

logger = logging.getLogger("opentelemetry_instrumentation_agentops")


class AgentOpsInstrumentor(BaseInstrumentor):
    """Sessions as OpenTelemetry root spans, for every span of the agent run."""

    _threading_by_us = False

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
        threading_instrumentor = ThreadingInstrumentor()
        if not threading_instrumentor.is_instrumented_by_opentelemetry:
            threading_instrumentor.instrument()
            AgentOpsInstrumentor._threading_by_us = True
        if hasattr(ThreadPoolExecutor, _START_WORKERS):
            wrap_function_wrapper(ThreadPoolExecutor, _START_WORKERS, _start_in_empty_context)
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
            unwrap(ThreadPoolExecutor, _START_WORKERS)
            if AgentOpsInstrumentor._threading_by_us:
                ThreadingInstrumentor().uninstrument()
                AgentOpsInstrumentor._threading_by_us = False
            settings.tracer_provider = None
        except Exception:
            logger.warning("AgentOps uninstrumentation failed", exc_info=True)


_START_WORKERS = "_adjust_thread_count"  # where ThreadPoolExecutor starts its worker threads


def _start_in_empty_context(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    """Start pool workers outside the submitter's context.

    The threading instrumentation gives a thread the context of its ``start()`` for its
    whole life. A pool worker outlives the ``submit()`` that started it, so it would keep
    that call's session (and span) alive until the pool shuts down. Tasks are unaffected:
    each still runs in the context of its own ``submit()``.
    """
    token = context.attach(context.Context())
    try:
        return wrapped(*args, **kwargs)
    finally:
        context.detach(token)
