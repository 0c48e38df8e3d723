"""Reading the session metrics back: an SDK MeterProvider with an in-memory reader."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

SCOPE = "opentelemetry_instrumentation_agentops"
# The duration histogram's buckets, in seconds, as docs/metrics.rst gives them.
DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


class Metrics:
    """What an in-memory reader collected from this package's scope, by instrument name."""

    def __init__(self) -> None:
        self.reader = InMemoryMetricReader()
        self.provider = MeterProvider(metric_readers=[self.reader])

    def collect(self) -> dict[str, Any]:
        """``{name: metric}`` (the data points are in ``metric.data.data_points``)."""
        data = self.reader.get_metrics_data()
        found: dict[str, Any] = {}
        for resource_metrics in data.resource_metrics if data is not None else ():
            for scope_metrics in resource_metrics.scope_metrics:
                if scope_metrics.scope.name == SCOPE:
                    found.update((m.name, m) for m in scope_metrics.metrics)
        return found

    def points(self, name: str) -> dict[frozenset, Any]:
        """The data points of one instrument, by their attribute set."""
        metric = self.collect().get(name)
        if metric is None:
            return {}
        return {frozenset(p.attributes.items()): p for p in metric.data.data_points}
