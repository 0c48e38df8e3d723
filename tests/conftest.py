"""Shared fixtures: one SDK TracerProvider with an in-memory exporter for the whole run.

The global TracerProvider can be set only once per process, so it is set here
and every test starts from an empty exporter, no running session and the
settings the environment gives.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import opentelemetry_instrumentation_agentops as agentops
from opentelemetry_instrumentation_agentops import AgentOpsInstrumentor
from opentelemetry_instrumentation_agentops._api import functions as api
from opentelemetry_instrumentation_agentops._runtime.settings import settings

EXPORTER = InMemorySpanExporter()
PROVIDER = TracerProvider()
PROVIDER.add_span_processor(SimpleSpanProcessor(EXPORTER))
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
    return Spans(EXPORTER)


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
    """No session, no span and the environment's settings before each test."""
    for name in (
        "OTEL_INSTRUMENTATION_AGENTOPS_STRICT",
        "AGENTOPS_DEFAULT_TAGS",
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
    ):
        monkeypatch.delenv(name, raising=False)
    settings.chosen.clear()
    settings.load_env()
    settings.tracer_provider = None
    EXPORTER.clear()
    yield
    logging.getLogger(LOGGER).disabled = True
    try:
        settings.strict = False
        agentops.end_all_sessions()
    finally:
        logging.getLogger(LOGGER).disabled = False
    api._auto_session = None
    settings.chosen.clear()
    settings.load_env()
    settings.tracer_provider = None
    EXPORTER.clear()


@pytest.fixture
def warnings_log(caplog):
    """The package's warnings, as messages."""
    caplog.set_level(logging.WARNING, logger=LOGGER)

    def messages() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == LOGGER]

    return messages


def hex_trace(trace_id: int) -> str:
    return format(trace_id, "032x")
