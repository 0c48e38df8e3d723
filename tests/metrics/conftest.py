"""Fixtures for the metrics tests: an SDK MeterProvider read in memory, given as ``instrument()``
would give it (the process-wide global MeterProvider stays unset, as most tests need it).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from opentelemetry_instrumentation_agentops._runtime.owner import RUNTIME

from .reader import Metrics


@pytest.fixture
def recorded() -> Iterator[Metrics]:
    """Sessions record on a fresh SDK MeterProvider, read by an in-memory reader."""
    found = Metrics()
    use_meter_provider(found.provider)
    try:
        yield found
    finally:
        use_meter_provider(None)
        found.provider.shutdown()


def use_meter_provider(provider: object) -> None:
    """Record on ``provider``, as ``instrument(meter_provider=...)`` would have it."""
    RUNTIME.settings.meter_provider = provider
