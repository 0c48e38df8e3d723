"""The backend starts late, then restarts: sessions sent while it is up arrive.

A real Phoenix on fixed ports. The agent keeps one exporter for the whole test: it sends
while nothing listens, Phoenix starts, it sends more (those sessions must arrive), Phoenix
is stopped and started again on the same port (in-memory database: a fresh backend), and
the sessions sent after that must arrive too. Sessions sent while it was down may be lost
(the SDK gives a batch up after the exporter's timeout); nothing else may.
"""

from __future__ import annotations

import contextlib

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from support.network import free_port
from support.phoenix import PhoenixUnavailableError, run_phoenix, wait_for_spans

import opentelemetry_instrumentation_agentops as agentops

from .checks import LEDGER

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]

SESSIONS_PER_PHASE = 10
SPANS_PER_SESSION = 4


@agentops.record_tool("search")
def _search(query: str) -> str:
    agentops.record(agentops.LLMEvent(model="m", prompt_tokens=4, completion_tokens=2))
    return query


def _send(phase: str, provider: TracerProvider) -> dict[str, int]:
    """Run a phase's sessions and hand them to the exporter; their trace ids by name."""
    sent = {}
    for n in range(SESSIONS_PER_PHASE):
        with agentops.start_session(name=f"{phase}-{n}") as session:
            agentops.record(agentops.ActionEvent(action_type="plan"))
            _search("q")
        sent[session.name] = session.trace_id
    provider.force_flush()
    return sent


def _assert_arrived(url: str, sent: dict[str, int]) -> None:
    for name, trace_id in sent.items():
        spans = wait_for_spans(url, trace_id, SPANS_PER_SESSION, timeout=30)
        by_name = {s["name"]: s for s in spans}
        assert set(by_name) == {f"session {name}", "action plan", "execute_tool search", "chat m"}
        root = by_name[f"session {name}"]
        assert root["parent_id"] is None
        assert root["attributes"]["agentops.session.end_state"] == "Success"
        session_ids = {s["attributes"]["session.id"] for s in spans}
        assert session_ids == {root["attributes"]["session.id"]}
        LEDGER["sessions checked"] += 1
        LEDGER["spans checked"] += len(spans)


def test_sessions_arrive_after_the_backend_starts_late_and_after_it_restarts(tmp_path):
    http_port, grpc_port = free_port(), free_port()
    exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{http_port}/v1/traces", timeout=2)
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=200))
    agentops.init(tracer_provider=provider, auto_start_session=False)
    try:
        with contextlib.ExitStack() as stack:
            _send("before-start", provider)  # nothing listens yet
            LEDGER["faults injected"] += 1
            try:
                url = stack.enter_context(run_phoenix(http_port, grpc_port, tmp_path / "first")).url
            except PhoenixUnavailableError as error:
                pytest.fail(str(error), pytrace=False)
            _assert_arrived(url, _send("first-life", provider))
            stack.close()  # Phoenix stops: the exporter's connection dies with it
            LEDGER["faults injected"] += 1
            _send("while-stopped", provider)
            with run_phoenix(http_port, grpc_port, tmp_path / "second") as server:
                _assert_arrived(server.url, _send("second-life", provider))
    finally:
        provider.shutdown()
