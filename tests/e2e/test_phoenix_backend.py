"""Smoke tests of the Phoenix e2e backend itself, with a plain OpenTelemetry SDK.

They prove the fixture and helpers work (OTLP/HTTP and OTLP/gRPC intake, span query, project
routing, sessions) before any test of the instrumentation relies on them.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Status, StatusCode

from .phoenix import (
    INSTALL_COMMAND,
    PhoenixServer,
    PhoenixUnavailableError,
    get_sessions,
    phoenix_server,
    project_id,
    wait_for_spans,
)


def _exporter(kind: str, phoenix: PhoenixServer) -> SpanExporter:
    if kind == "http":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=phoenix.otlp_http_endpoint)
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
        OTLPSpanExporter as GrpcExporter,
    )

    return GrpcExporter(endpoint=phoenix.grpc_endpoint, insecure=True)


def _provider(exporter: SpanExporter, project: str | None = None) -> TracerProvider:
    # Phoenix routes spans by this resource attribute; it stores no other resource attribute.
    attributes = {"service.name": "agentops-e2e"}
    if project:
        attributes["openinference.project.name"] = project
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["http", "grpc"])
def test_round_trip(phoenix: PhoenixServer, kind: str) -> None:
    provider = _provider(_exporter(kind, phoenix))
    tracer = provider.get_tracer("e2e")
    with tracer.start_as_current_span("parent", attributes={"e2e.kind": kind}) as parent:
        trace_id = parent.get_span_context().trace_id
        with tracer.start_as_current_span("child") as child:
            child.add_event("step", {"n": 1})
            child.set_status(Status(StatusCode.ERROR, "boom"))
    assert provider.force_flush(10_000)
    provider.shutdown()

    spans = wait_for_spans(phoenix.url, trace_id, 2)
    by_name = {s["name"]: s for s in spans}
    assert set(by_name) == {"parent", "child"}
    parent_json, child_json = by_name["parent"], by_name["child"]
    assert parent_json["context"]["trace_id"] == format(trace_id, "032x")
    assert parent_json["parent_id"] is None
    assert child_json["parent_id"] == parent_json["context"]["span_id"]
    assert parent_json["attributes"] == {"e2e.kind": kind}
    assert child_json["status_code"] == "ERROR"
    assert child_json["status_message"] == "boom"
    assert [(e["name"], e["attributes"]) for e in child_json["events"]] == [("step", {"n": 1})]


@pytest.mark.e2e
def test_sessions_group_traces_by_session_id(phoenix: PhoenixServer) -> None:
    # A project of its own keeps the session list exact even on a shared PHOENIX_URL server.
    project = f"e2e-sessions-{uuid.uuid4().hex[:8]}"
    session_id = str(uuid.uuid4())
    provider = _provider(_exporter("http", phoenix), project)
    tracer = provider.get_tracer("e2e")
    trace_ids = []
    for _ in range(2):  # two traces (say, a session continued elsewhere) with one session.id
        with tracer.start_as_current_span("session", attributes={"session.id": session_id}) as root:
            trace_ids.append(format(root.get_span_context().trace_id, "032x"))
            with tracer.start_as_current_span(
                "chat gpt-4o-mini", attributes={"session.id": session_id}
            ):
                pass
    with tracer.start_as_current_span("no-session") as other:
        other_trace = format(other.get_span_context().trace_id, "032x")
    assert provider.force_flush(10_000)
    provider.shutdown()

    for trace_id in trace_ids:
        wait_for_spans(phoenix.url, trace_id, 2, project=project)
    wait_for_spans(phoenix.url, other_trace, 1, project=project)

    pid = project_id(phoenix.url, project)
    sessions = get_sessions(phoenix.url, project)
    assert [s["session_id"] for s in sessions] == [session_id]
    (session,) = sessions
    assert session["project_id"] == pid
    assert sorted(t["trace_id"] for t in session["traces"]) == sorted(trace_ids)
    assert session["start_time"] <= session["end_time"]
    assert {"id", "token_count_prompt", "token_count_completion", "token_count_total"} <= set(
        session
    )
    with pytest.raises(LookupError):
        project_id(phoenix.url, f"missing-{uuid.uuid4().hex}")


def test_missing_binary_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PHOENIX_URL", raising=False)
    with (
        pytest.raises(PhoenixUnavailableError) as excinfo,
        phoenix_server(phoenix_bin=tmp_path / "no-phoenix"),
    ):
        pass
    assert INSTALL_COMMAND in str(excinfo.value)
    assert str(tmp_path / "no-phoenix") in str(excinfo.value)
