"""Fixtures for the metrics tests: an SDK MeterProvider read in memory, given to the package
(``support.runtime.use_meter_provider``: the process-wide global MeterProvider stays unset, as
most tests need it).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.runtime import use_meter_provider

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
