"""Fixtures of the reliability suite, and the figures it prints at the end of the run."""

from __future__ import annotations

import logging
import resource
from collections.abc import Iterator

import pytest

from .checks import FULL, LEDGER, LOGGER, SUBPROCESS_PEAK_KB


class _DetachErrors(logging.Handler):
    """Counts "Failed to detach context" records, from any logger."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "Failed to detach context" in record.getMessage():
            self.count += 1


@pytest.fixture
def detach_errors() -> Iterator[_DetachErrors]:
    """How many times OpenTelemetry logged "Failed to detach context" during the test."""
    handler = _DetachErrors()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


@pytest.fixture
def quiet() -> Iterator[None]:
    """The package's warnings off: fuzzing misuse would log thousands of them."""
    logger = logging.getLogger(LOGGER)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not LEDGER:
        return
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    write = terminalreporter.write_line
    terminalreporter.section("reliability figures")
    write(f"scale: {'full (AGENTOPS_RELIABILITY_FULL=1)' if FULL else 'default (CI)'}")
    for key in sorted(LEDGER):
        write(f"{key}: {LEDGER[key]:,}")
    write(f"peak RSS of the test process: {own / 1024:.0f} MiB")
    if SUBPROCESS_PEAK_KB:
        name, peak = max(SUBPROCESS_PEAK_KB.items(), key=lambda item: item[1])
        write(f"peak RSS of an agent process: {peak / 1024:.0f} MiB ({name})")
