"""The SDK MeterProvider ``init()`` sets up beside the TracerProvider it sets up.

Only when ``init()`` creates the TracerProvider (no provider was configured) and
no MeterProvider is set yet: one set by the application or by
``opentelemetry-instrument`` is never replaced. The exporter follows the
standard ``OTEL_METRICS_EXPORTER`` (comma-separated): ``otlp``, ``console``,
``none``, or the name of any installed ``opentelemetry_metrics_exporter`` entry
point (``prometheus`` with ``opentelemetry-exporter-prometheus``, which serves
``OTEL_EXPORTER_PROMETHEUS_HOST``:``OTEL_EXPORTER_PROMETHEUS_PORT``, default
localhost:9464). Unset, it is ``otlp`` when the traces go over OTLP (the same
endpoint and protocol, from the standard ``OTEL_EXPORTER_OTLP_*`` variables) and
``none`` otherwise, so ``OTEL_TRACES_EXPORTER=none`` alone never leaves metrics
knocking on a collector that is not there. Periodic export follows
``OTEL_METRIC_EXPORT_INTERVAL``; the SDK exports what is left at exit.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from opentelemetry import metrics
from opentelemetry.sdk.resources import Resource

from .config import otlp_protocol
from .log import logger
from .metrics import records_nothing

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics.export import MetricReader

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
