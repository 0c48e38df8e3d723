"""Event spans: names, attributes, parents, timestamps, sessionless events."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from opentelemetry import trace
from opentelemetry.trace import StatusCode

import opentelemetry_instrumentation_agentops as agentops


def test_llm_event_span(spans):
    session = agentops.start_session()
    event = agentops.LLMEvent(model="gpt-4o", prompt_tokens=3, completion_tokens=4, cost=0.1)
    agentops.record(event)
    span = spans.one("chat gpt-4o")
    assert span.parent.span_id == session.span.get_span_context().span_id
    assert span.attributes["gen_ai.operation.name"] == "chat"
    assert span.attributes["gen_ai.request.model"] == "gpt-4o"
    assert span.attributes["gen_ai.usage.input_tokens"] == 3
    assert span.attributes["gen_ai.usage.output_tokens"] == 4
    assert span.attributes["agentops.event.id"] == str(event.id)
    assert span.attributes["agentops.event.type"] == "llms"
    assert span.attributes["session.id"] == session.session_id


def test_llm_event_without_model_is_chat(spans):
    agentops.start_session()
    agentops.record(agentops.LLMEvent())
    assert spans.one("chat").attributes["gen_ai.operation.name"] == "chat"


def test_tool_event_span(spans):
    agentops.start_session()
    agentops.record(agentops.ToolEvent(name="search"))
    span = spans.one("execute_tool search")
    assert span.attributes["gen_ai.operation.name"] == "execute_tool"
    assert span.attributes["gen_ai.tool.name"] == "search"
    assert span.attributes["agentops.event.type"] == "tools"


def test_action_event_span(spans):
    agentops.start_session()
    agentops.record(agentops.ActionEvent(action_type="plan"))
    span = spans.one("action plan")
    assert span.attributes["agentops.action.type"] == "plan"
    assert span.attributes["agentops.event.type"] == "actions"


def test_error_event_span_links_to_its_trigger(spans):
    session = agentops.start_session()
    trigger = agentops.ActionEvent(action_type="fetch")
    agentops.record(trigger)
    agentops.record(agentops.ErrorEvent(trigger_event=trigger, exception=KeyError("k")))
    error = spans.one("error KeyError")
    action = spans.one("action fetch")
    assert error.status.status_code is StatusCode.ERROR
    assert error.attributes["error.type"] == "KeyError"
    assert [e.name for e in error.events] == ["exception"]
    assert error.events[0].attributes["exception.type"] == "KeyError"
    assert [link.context.span_id for link in error.links] == [action.context.span_id]
    assert session.get_analytics()["Errors"] == 1


def test_error_event_without_exception(spans):
    agentops.start_session()
    agentops.record(agentops.ErrorEvent(error_type="RateLimit", code="429", details="slow down"))
    span = spans.one("error RateLimit")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["agentops.error.code"] == "429"
    assert span.events[0].attributes["exception.type"] == "RateLimit"


def test_event_times_come_from_its_timestamps(spans):
    agentops.start_session()
    start = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    end = start + timedelta(seconds=2)
    agentops.record(
        agentops.ActionEvent(
            action_type="timed", init_timestamp=start.isoformat(), end_timestamp=end.isoformat()
        )
    )
    span = spans.one("action timed")
    assert span.start_time == int(start.timestamp() * 1e9)
    assert span.end_time - span.start_time == 2_000_000_000


def test_record_fills_end_timestamp_and_session_id():
    session = agentops.start_session()
    event = agentops.ActionEvent(action_type="x")
    agentops.record(event)
    assert event.end_timestamp is not None
    assert event.session_id == session.session_id


def test_event_is_a_child_of_the_current_span_in_the_session(spans):
    session = agentops.start_session()
    with trace.get_tracer("app").start_as_current_span("step") as step:
        agentops.record(agentops.ActionEvent(action_type="inner"))
    inner = spans.one("action inner")
    assert inner.parent.span_id == step.get_span_context().span_id
    assert inner.context.trace_id == session.trace_id


def test_event_under_a_foreign_span_goes_to_the_session_root(spans):
    session = agentops.start_session()
    other = trace.get_tracer("app").start_span(
        "elsewhere", context=trace.set_span_in_context(trace.INVALID_SPAN)
    )
    with trace.use_span(other, end_on_exit=True):
        session.record(agentops.ActionEvent(action_type="routed"))
    routed = spans.one("action routed")
    assert routed.context.trace_id == session.trace_id
    assert routed.parent.span_id == session.span.get_span_context().span_id


def test_event_without_a_session_is_still_exported(spans, warnings_log):
    agentops.record(agentops.ActionEvent(action_type="orphan"))
    orphan = spans.one("action orphan")
    assert orphan.parent is None
    assert "session.id" not in orphan.attributes
    assert any("no running session" in m for m in warnings_log())


def test_positional_event_type_like_agentops_03(spans):
    agentops.start_session()
    agentops.record(agentops.ActionEvent("custom"))
    assert spans.one("action custom").attributes["agentops.event.type"] == "custom"


def test_agent_id_on_an_event_is_exported(spans):
    agentops.start_session()
    agentops.record(agentops.ActionEvent(action_type="x", agent_id="agent-1"))
    assert spans.one("action x").attributes["gen_ai.agent.id"] == "agent-1"
