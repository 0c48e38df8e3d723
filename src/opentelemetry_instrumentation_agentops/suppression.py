"""``is_instrumentation_enabled()``, without loading ``opentelemetry.instrumentation`` at import.

Every wrapper of the package checks it, as the contrib instrumentations do. Importing
``opentelemetry.instrumentation.utils`` brings wrapt and more (about half of this package's
import time, benchmarks/RESULTS.md): it is loaded at the first check instead, so that
``import opentelemetry_instrumentation_agentops`` stays cheap for programs that only record.
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType


@functools.cache
def _utils() -> ModuleType:
    return importlib.import_module("opentelemetry.instrumentation.utils")


def is_instrumentation_enabled() -> bool:
    """False inside ``suppress_instrumentation()``: the package then makes no span."""
    return _utils().is_instrumentation_enabled()
