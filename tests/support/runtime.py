"""A fresh runtime and a fresh TracerProvider for each test (``tests/conftest.py`` uses them).

The global TracerProvider can be set once per process, so the one set for the test run
hands every tracer out from the current test's own SDK provider: ``trace.get_tracer()``
in a test, or in code under test, makes spans that no other test sees. The package's
runtime (``RUNTIME``) is reset between tests: every patch and hook undone, every
setting, cache and registry new.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opentelemetry_instrumentation_agentops._runtime.owner import RUNTIME, Runtime


class PerTestTracerProvider(trace.TracerProvider):
    """The process's global TracerProvider in the tests: the current test's SDK provider.

    With ``follow`` set (the framework tier), ``get_tracer()`` answers a ``FollowingTracer``:
    frameworks keep the tracer they got first (strands-agents' tracer, OpenLLMetry's
    LangChain callback handler), which would otherwise stay on the first test's provider,
    shut down, its spans exported nowhere and counted by another processor.
    """

    def __init__(self) -> None:
        self.current, self.exporter = self.fresh()
        self.follow = False

    @staticmethod
    def fresh() -> tuple[TracerProvider, InMemorySpanExporter]:
        provider = TracerProvider(shutdown_on_exit=False)
        exporter = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        return provider, exporter

    def next_test(self) -> None:
        """A new provider and exporter: what the test about to run sees."""
        self.current.shutdown()
        self.current, self.exporter = self.fresh()

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        if self.follow:
            return FollowingTracer(self, args, kwargs)
        return self.current.get_tracer(*args, **kwargs)

    def add_span_processor(self, processor: Any) -> None:
        self.current.add_span_processor(processor)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.current.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self.current.shutdown()


class FollowingTracer(trace.Tracer):
    """A tracer kept across tests that is, at each call, the current test's provider's."""

    def __init__(self, provider: PerTestTracerProvider, args: tuple, kwargs: dict) -> None:
        self.provider, self.args, self.kwargs = provider, args, kwargs

    def now(self) -> trace.Tracer:
        return self.provider.current.get_tracer(*self.args, **self.kwargs)

    def start_span(self, *args: Any, **kwargs: Any) -> trace.Span:
        return self.now().start_span(*args, **kwargs)

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return self.now().start_as_current_span(*args, **kwargs)


def fresh_runtime() -> Runtime:
    """The package's runtime, started afresh: nothing installed, nothing running."""
    RUNTIME.reset()
    return RUNTIME


class Tracer:
    """A tracer a test module holds for its whole run: the current test's, at each call."""

    def __init__(self, *args: Any) -> None:
        self.args = args

    def __getattr__(self, name: str) -> Any:
        return getattr(trace.get_tracer(*self.args), name)
