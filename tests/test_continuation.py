"""One session across two processes (design.md section 9).

Process A starts a session and hands over ``session.traceparent`` (or its
``session_id``); process B continues it with ``start_session(inherited_session_id=...)``.
Each process exports to its own JSON-lines file through a ``BatchSpanProcessor``.
"""

from __future__ import annotations

import pytest
from support.span_file import last_json, read_spans, run_script
from support.spans import one

import opentelemetry_instrumentation_agentops as agentops

SESSION_ID = "session.id"

PROCESS_A = """
trace.set_tracer_provider(make_provider())
import opentelemetry_instrumentation_agentops as agentops

session = agentops.start_session(name="a")
print(json.dumps({"traceparent": session.traceparent, "session_id": session.session_id}))
session.end_session("Success")
"""

PROCESS_B = """
trace.set_tracer_provider(make_provider())
import opentelemetry_instrumentation_agentops as agentops

session = agentops.start_session(
    name="b", inherited_session_id=os.environ["INHERITED_SESSION_ID"]
)
agentops.record(agentops.ActionEvent(action_type="continue"))
print(json.dumps({"session_id": session.session_id}))
agentops.end_session("Success")
"""


def run(tmp_path, name: str, body: str, **env: str) -> tuple[dict, list[dict]]:
    """Run one process; what it printed (last line, JSON) and the spans it exported."""
    span_file = tmp_path / f"{name}.jsonl"
    result = run_script(tmp_path, body, span_file=span_file, name=f"{name}.py", **env)
    assert result.returncode == 0, result.stderr
    return last_json(result.stdout), read_spans(span_file)


@pytest.fixture
def process_a(tmp_path) -> tuple[dict, dict]:
    """Process A's printed handover and its exported session root."""
    handover, spans = run(tmp_path, "a", PROCESS_A)
    root = one(spans, "session a")
    assert root["parent_span_id"] is None
    return handover, root


def test_traceparent_continues_the_session_as_child_of_the_remote_root(tmp_path, process_a):
    handover, a_root = process_a
    printed, spans = run(tmp_path, "b", PROCESS_B, INHERITED_SESSION_ID=handover["traceparent"])
    b_root = one(spans, "session b")
    assert printed["session_id"] == handover["session_id"]
    assert b_root["trace_id"] == a_root["trace_id"]
    assert b_root["attributes"][SESSION_ID] == a_root["attributes"][SESSION_ID]
    assert b_root["attributes"][SESSION_ID] == handover["session_id"]
    assert b_root["parent_span_id"] == a_root["span_id"]
    assert b_root["parent_is_remote"] is True
    action = one(spans, "action continue")
    assert action["trace_id"] == a_root["trace_id"]
    assert action["parent_span_id"] == b_root["span_id"]
    assert action["attributes"][SESSION_ID] == handover["session_id"]


def test_session_uuid_continues_the_session_as_a_root(tmp_path, process_a):
    handover, a_root = process_a
    printed, spans = run(tmp_path, "b", PROCESS_B, INHERITED_SESSION_ID=handover["session_id"])
    b_root = one(spans, "session b")
    assert printed["session_id"] == handover["session_id"]
    assert b_root["trace_id"] == a_root["trace_id"]
    assert b_root["attributes"][SESSION_ID] == handover["session_id"]
    assert b_root["parent_span_id"] is None
    assert b_root["span_id"] != a_root["span_id"]
    action = one(spans, "action continue")
    assert action["trace_id"] == a_root["trace_id"]
    assert action["parent_span_id"] == b_root["span_id"]


def test_sampled_out_session_stays_sampled_out_when_continued(tmp_path):
    # Same sampler in both processes, dropping every new trace: B must follow A's
    # decision carried in the traceparent, so the session is dropped as a whole.
    sampler = {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"}
    handover, a_spans = run(tmp_path, "a", PROCESS_A, **sampler)
    assert a_spans == []
    env = {**sampler, "INHERITED_SESSION_ID": handover["traceparent"]}
    printed, b_spans = run(tmp_path, "b", PROCESS_B, **env)
    assert printed["session_id"] == handover["session_id"]
    assert b_spans == [], "B exported part of a session A's sampler dropped"
    flags = int(handover["traceparent"].rsplit("-", 1)[1], 16)
    assert flags & 0x01 == 0, handover["traceparent"]  # the W3C "sampled" bit is off


def test_invalid_inherited_id_warns_and_starts_a_fresh_session(spans, warnings_log):
    session = agentops.start_session(inherited_session_id="not-an-id")
    session.end_session("Success")
    (message,) = [m for m in warnings_log() if "not-an-id" in m]
    assert "traceparent" in message
    assert "UUID" in message
    root = spans.one("session")
    assert root.parent is None
    assert root.context.trace_id == session.trace_id != 0
    assert root.attributes[SESSION_ID] == session.session_id
