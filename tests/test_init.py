"""init(): idempotent, fresh sessions on re-init, legacy options, providers."""

from __future__ import annotations

import logging

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import opentelemetry_instrumentation_agentops as agentops


def test_init_auto_starts_a_session_and_end_session_finds_it(spans):
    session = agentops.init()
    assert isinstance(session, agentops.Session)
    assert agentops.get_current_session() is session
    analytics = agentops.end_session("Success")
    assert analytics is not None
    assert spans.one("session").attributes["agentops.session.end_state"] == "Success"


def test_init_without_auto_start_returns_none():
    assert agentops.init(auto_start_session=False) is None
    assert agentops.get_active_sessions() == []


def test_re_init_supersedes_the_auto_started_session(spans):
    first = agentops.init()
    second = agentops.init()
    assert first is not second
    assert not first.is_running
    assert first.end_state == "Indeterminate"
    assert "superseded" in first.end_state_reason
    assert agentops.get_current_session() is second
    assert second.span.parent is None


def test_notebook_story_every_rerun_gives_one_new_session(spans):
    ids = []
    for _ in range(3):  # a notebook whose cells are run again and again
        session = agentops.init(auto_start_session=True)
        agentops.record(agentops.ActionEvent(action_type="cell"))
        assert agentops.end_session("Success") is not None
        ids.append(session.session_id)
    roots = spans.named("session")
    assert len(set(ids)) == 3
    assert len(roots) == 3
    assert all(r.parent is None for r in roots)
    assert {r.attributes["agentops.session.end_state"] for r in roots} == {"Success"}
    assert all(r.attributes["agentops.session.actions"] == 1 for r in roots)


def test_init_does_not_end_a_manually_started_session():
    manual = agentops.start_session()
    agentops.init(auto_start_session=False)
    assert manual.is_running


def test_legacy_kwargs_are_accepted_and_ignored(caplog):
    caplog.set_level(logging.DEBUG, logger="opentelemetry_instrumentation_agentops")
    session = agentops.init(
        "11111111-1111-4111-8111-111111111111",
        endpoint="https://api.agentops.ai",
        max_wait_time=1000,
        instrument_llm_calls=False,
        parent_key="x",
    )
    assert session.is_running
    ignored = [r.getMessage() for r in caplog.records if "ignoring" in r.getMessage()]
    assert len(ignored) == 1
    assert "endpoint" in ignored[0]


def test_api_key_never_reaches_telemetry(spans, caplog):
    caplog.set_level(logging.DEBUG)
    key = "11111111-1111-4111-8111-111111111111"
    agentops.init(key)
    agentops.record(agentops.ActionEvent(action_type="x"))
    agentops.end_session()
    for span in spans.all():
        assert key not in repr(dict(span.attributes))
        assert key not in repr(dict(span.resource.attributes))
    assert key not in caplog.text


def test_init_with_tracer_provider_sends_sessions_there(spans):
    own_exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(own_exporter))
    agentops.init(tracer_provider=provider)
    agentops.end_session()
    assert [s.name for s in own_exporter.get_finished_spans()] == ["session"]
    assert spans.named("session") == []


def test_init_never_replaces_a_configured_provider():
    before = trace.get_tracer_provider()
    agentops.init(auto_start_session=False, exporter_endpoint="http://127.0.0.1:9")
    assert trace.get_tracer_provider() is before


def test_start_session_works_without_init(spans):
    session = agentops.start_session()
    agentops.record(agentops.ActionEvent(action_type="x"))
    session.end_session()
    assert spans.one("action x").context.trace_id == session.trace_id


def test_init_default_tags_apply_to_later_sessions():
    agentops.init(default_tags=["d"], auto_start_session=False)
    assert agentops.start_session(tags=["t"]).tags == ["t", "d"]


def test_init_tags_are_the_legacy_default_tags():
    session = agentops.init(tags=["legacy"])
    assert session.tags == ["legacy"]


def test_init_keeps_options_the_instrumentor_was_given(spans):
    from opentelemetry_instrumentation_agentops import AgentOpsInstrumentor

    AgentOpsInstrumentor().instrument(capture_content=True)
    try:
        agentops.init()
        agentops.record(agentops.LLMEvent(model="m", prompt="kept"))
    finally:
        AgentOpsInstrumentor().uninstrument()
    assert spans.one("chat m").attributes["gen_ai.input.messages"] == '"kept"'
