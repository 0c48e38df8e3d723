"""The SDK pipeline ``init()`` sets up when the application has none: traces and metrics.

It is created only while the global TracerProvider is still the API's proxy: a
provider set by the application or by ``opentelemetry-instrument`` is never
replaced. The exporters follow the standard ``OTEL_*`` variables (default: OTLP
over HTTP to localhost:4318). A MeterProvider comes with it, unless one is set:
``OTEL_METRICS_EXPORTER`` (``otlp``, ``console``, ``none`` or any installed
``opentelemetry_metrics_exporter`` entry point such as ``prometheus``) chooses its
readers; unset, it is ``otlp`` when the traces go over OTLP and ``none`` otherwise.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from opentelemetry import metrics, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

from .._engine.metrics import records_nothing
from .._engine.sampling import sampler_from_env
from .._runtime.settings import env_flag, logger, otlp_protocol

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics.export import MetricReader


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


EXPORTER_ENV = "OTEL_METRICS_EXPORTER"
ENTRY_POINT_GROUP = "opentelemetry_metrics_exporter"


def configure_default_meter_provider(
    resource: Resource, endpoint: str | None = None, traces_over_otlp: bool = True
) -> Any:
    """Set a global SDK MeterProvider if none is set; the one in use, or None. Never raises."""
    if not records_nothing(metrics.get_meter_provider()):
        return metrics.get_meter_provider()
    try:
        return _configure(resource, endpoint, traces_over_otlp)
    except Exception:  # metrics must never cost the application its traces
        logger.warning("The MeterProvider could not be set up; no metrics.", exc_info=True)
        return None


def _configure(resource: Resource, endpoint: str | None, traces_over_otlp: bool) -> Any:
    default = "otlp" if traces_over_otlp else "none"
    names = [n.strip().lower() for n in os.environ.get(EXPORTER_ENV, default).split(",")]
    readers = []
    for name in dict.fromkeys(n for n in names if n and n != "none"):
        try:
            readers.append(reader_for(name, endpoint))
        except Exception:  # a missing or broken exporter: the others still run
            logger.warning(
                "%s=%s: no metric exporter could be made; it is left out.",
                EXPORTER_ENV,
                name,
                exc_info=True,
            )
    if not readers:
        return None
    # The SDK's metrics load here, when init() sets a pipeline up: not at the package's import.
    from opentelemetry.sdk.metrics import MeterProvider

    provider = MeterProvider(resource=resource, metric_readers=readers)
    metrics.set_meter_provider(provider)
    return provider


def reader_for(name: str, endpoint: str | None = None) -> MetricReader:
    """The metric reader ``OTEL_METRICS_EXPORTER`` names: an exporter is read periodically."""
    from opentelemetry.sdk.metrics.export import (
        ConsoleMetricExporter,
        MetricReader,
        PeriodicExportingMetricReader,
    )

    if name == "otlp":
        exporter: Any = otlp_exporter(endpoint)
    elif name == "console":
        exporter = ConsoleMetricExporter()
    else:
        from importlib.metadata import entry_points  # loaded when an exporter is looked up

        found = next(iter(entry_points(group=ENTRY_POINT_GROUP, name=name)), None)
        if found is None:
            raise LookupError(f"no {ENTRY_POINT_GROUP} entry point named {name!r} is installed")
        exporter = found.load()()
    if isinstance(exporter, MetricReader):  # a pull exporter such as Prometheus'
        return exporter
    return PeriodicExportingMetricReader(exporter)


def otlp_exporter(endpoint: str | None = None) -> Any:
    """OTLP over the protocol the standard variables choose (default http/protobuf)."""
    # Imported on use, as the traces' exporter is: only the protocol chosen is loaded.
    if otlp_protocol("metrics") == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

        return OTLPMetricExporter(endpoint=endpoint)
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
        OTLPMetricExporter as HTTPMetricExporter,
    )

    if endpoint and not endpoint.rstrip("/").endswith("/v1/metrics"):
        endpoint = endpoint.rstrip("/").removesuffix("/v1/traces") + "/v1/metrics"
    return HTTPMetricExporter(endpoint=endpoint)
