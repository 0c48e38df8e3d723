"""Whether sessions reach an exporter: one warning per process when they cannot.

Without a configured TracerProvider (no ``init()``, no ``opentelemetry-instrument``,
no ``trace.set_tracer_provider(...)``), OpenTelemetry's API makes spans that go
nowhere. A session that ends while the provider in use is such a no-op logs one
warning, once per process, saying so and how to fix it. Switching the package
off on purpose (``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=agentops``, or
``OTEL_SDK_DISABLED=true``) is not warned about.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace

from .config import env_flag, settings
from .log import logger, printable
from .tracing import current_provider

_NO_OP_PROVIDERS = (trace.ProxyTracerProvider, trace.NoOpTracerProvider)
_state = {"warned": False}


def exports_nothing(provider: Any) -> bool:
    """Whether ``provider`` is the API's no-op (or the proxy with nothing behind it)."""
    return isinstance(provider, _NO_OP_PROVIDERS)


def warn_if_not_exported(session: Any) -> None:
    """Session-end hook: the once-per-process warning when nothing is exported."""
    # The provider check first: it is the cheap one, and it answers for most sessions.
    if _state["warned"] or not exports_nothing(current_provider()):
        return
    if settings.disabled or env_flag("OTEL_SDK_DISABLED"):
        return
    _state["warned"] = True
    logger.warning(
        "Session %s ended, but no TracerProvider is configured, so nothing is exported. "
        "Call init() before the session starts (it sets up OTLP export), run the program "
        "under opentelemetry-instrument, or set an SDK TracerProvider "
        "(trace.set_tracer_provider) and pass it to AgentOpsInstrumentor().instrument().",
        printable(session.name or session.session_id),
    )


END_HOOKS = (warn_if_not_exported,)
