"""The SDK pipeline ``init()`` sets up when the application has none.

It is created only while the global provider is still the API's proxy: a
provider set by the application or by ``opentelemetry-instrument`` is never
replaced. The exporter follows the standard ``OTEL_*`` variables (default:
OTLP over HTTP to localhost:4318). A MeterProvider comes with it
(``meter_provider.py``), for the session metrics.
"""

from __future__ import annotations

import os
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

from .config import env_flag, otlp_protocol
from .log import logger
from .meter_provider import configure_default_meter_provider
from .sampling import sampler_from_env


def is_configured() -> bool:
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def configure_default_provider(
    exporter: Any = None, endpoint: str | None = None, service_name: str | None = None
) -> Any:
    """The global provider, after creating an SDK one if none is configured yet."""
    if is_configured():
        if exporter is not None or endpoint is not None:
            logger.warning(
                "A TracerProvider is already configured, so init() did not add the given "
                "exporter; add it to your provider, or pass tracer_provider= instead."
            )
        return trace.get_tracer_provider()
    if env_flag("OTEL_SDK_DISABLED"):
        return trace.get_tracer_provider()
    resource = Resource.create({SERVICE_NAME: service_name} if service_name else {})
    provider = TracerProvider(resource=resource, sampler=sampler_from_env())
    from_env = exporter is None
    exporter = exporter if exporter is not None else exporter_from_env(endpoint)
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    # Metrics beside the traces; over OTLP by default only when the traces go over OTLP.
    over_otlp = from_env and exporter is not None and not isinstance(exporter, ConsoleSpanExporter)
    configure_default_meter_provider(resource, endpoint, over_otlp)
    return trace.get_tracer_provider()


def exporter_from_env(endpoint: str | None = None) -> Any:
    """The exporter the standard variables ask for: otlp (default), console or none."""
    names = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").lower()
    if "none" in names:
        return None
    if "console" in names and "otlp" not in names:
        return ConsoleSpanExporter()
    if otlp_protocol("traces") == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=endpoint)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HTTPSpanExporter,
    )

    if endpoint and not endpoint.rstrip("/").endswith("/v1/traces"):
        endpoint = endpoint.rstrip("/") + "/v1/traces"
    return HTTPSpanExporter(endpoint=endpoint)
