"""Shared fixtures: each test gets a fresh runtime and a fresh SDK TracerProvider.

The global TracerProvider can be set only once per process: the one set here hands out
the current test's provider (``support/runtime.py``), so every test starts with a new
provider and exporter, no running session, nothing installed and the settings the
environment gives.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from support.runtime import PerTestTracerProvider, end_everything, fresh_runtime

from opentelemetry_instrumentation_agentops import AgentOpsInstrumentor

PROVIDER = PerTestTracerProvider()
trace.set_tracer_provider(PROVIDER)
LOGGER = "opentelemetry_instrumentation_agentops"


class Spans:
    """The finished spans, with the lookups tests need."""

    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self.exporter = exporter

    def all(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.all() if s.name == name]

    def one(self, name: str) -> ReadableSpan:
        found = self.named(name)
        assert len(found) == 1, f"expected one span {name!r}, got {[s.name for s in self.all()]}"
        return found[0]

    def roots(self) -> list[ReadableSpan]:
        return [s for s in self.all() if s.parent is None]

    def of_trace(self, trace_id: int) -> list[ReadableSpan]:
        return [s for s in self.all() if s.context.trace_id == trace_id]

    def root_of(self, session) -> ReadableSpan:
        """The exported root span of ``session``."""
        (root,) = [s for s in self.of_trace(session.trace_id) if s.parent is None]
        return root

    def clear(self) -> None:
        self.exporter.clear()


@pytest.fixture
def spans() -> Spans:
    return Spans(PROVIDER.exporter)


@pytest.fixture
def instrumented() -> Iterator[AgentOpsInstrumentor]:
    """The AgentOps instrumentor on for the test (and off after, unless the test turned it off)."""
    instrumentor = AgentOpsInstrumentor()
    instrumentor.instrument()
    yield instrumentor
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()


@pytest.fixture
def openai_instrumented() -> Iterator[None]:
    """The OpenAI instrumentation on for the test: chat spans of the real ``openai`` client."""
    # Imported here: the compat environments load this file without the OpenAI instrumentation.
    from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor

    instrumentor = OpenAIInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        # An earlier test's init() turned it on, maybe on that test's own provider: afresh here.
        instrumentor.uninstrument()
    instrumentor.instrument()
    yield
    instrumentor.uninstrument()


@pytest.fixture(autouse=True)
def clean_state(monkeypatch):
    """A fresh runtime and provider, no session, and the environment's settings, per test."""
    for name in (
        "OTEL_INSTRUMENTATION_AGENTOPS_STRICT",
        "AGENTOPS_DEFAULT_TAGS",
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
    ):
        monkeypatch.delenv(name, raising=False)
    PROVIDER.next_test()
    fresh_runtime()
    # An empty OTel context: a session an earlier test ended in this thread's context is
    # remembered there (module-level calls act on it), and must not reach this test.
    token = context.attach(Context())
    yield
    end_everything()
    context.detach(token)


@pytest.fixture
def warnings_log(caplog):
    """The package's warnings, as messages."""
    caplog.set_level(logging.WARNING, logger=LOGGER)

    def messages() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == LOGGER]

    return messages


def hex_trace(trace_id: int) -> str:
    return format(trace_id, "032x")
