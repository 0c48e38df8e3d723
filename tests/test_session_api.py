"""Sessions through the public API: root spans, end states, totals, tags, current session."""

from __future__ import annotations

import uuid

import pytest
from opentelemetry import trace
from opentelemetry.trace import StatusCode

import opentelemetry_instrumentation_agentops as agentops
from opentelemetry_instrumentation_agentops import EndState


def test_start_session_exports_a_root_span_with_its_id(spans):
    session = agentops.start_session(tags=["a", "b"])
    session.end_session("Success")
    root = spans.one("session")
    assert root.parent is None
    assert root.kind is trace.SpanKind.INTERNAL
    assert root.attributes["session.id"] == session.session_id
    assert root.attributes["gen_ai.conversation.id"] == session.session_id
    assert list(root.attributes["agentops.session.tags"]) == ["a", "b"]
    assert uuid.UUID(session.session_id).int == root.context.trace_id == session.trace_id


def test_named_session_span(spans):
    agentops.start_session(name="checkout").end_session()
    assert spans.one("session checkout").parent is None


def test_session_is_a_root_even_inside_a_span_and_links_to_it(spans):
    tracer = trace.get_tracer("app")
    with tracer.start_as_current_span("request") as request:
        session = agentops.start_session()
        session.end_session()
    root = spans.one("session")
    assert root.parent is None
    assert root.context.trace_id != request.get_span_context().trace_id
    assert [link.context.span_id for link in root.links] == [request.get_span_context().span_id]


def test_session_without_a_current_span_has_no_link(spans):
    agentops.start_session().end_session()
    assert not spans.one("session").links


@pytest.mark.parametrize(
    ("given", "state", "status"),
    [
        ("Success", "Success", StatusCode.OK),
        ("success", "Success", StatusCode.OK),
        (EndState.SUCCESS, "Success", StatusCode.OK),
        ("Fail", "Fail", StatusCode.ERROR),
        ("FAIL", "Fail", StatusCode.ERROR),
        ("Error", "Fail", StatusCode.ERROR),
        ("Failure", "Fail", StatusCode.ERROR),
        ("Indeterminate", "Indeterminate", StatusCode.UNSET),
        (StatusCode.OK, "Success", StatusCode.OK),
        (StatusCode.ERROR, "Fail", StatusCode.ERROR),
    ],
)
def test_end_state_becomes_attribute_and_status(spans, given, state, status):
    session = agentops.start_session()
    agentops.end_session(given, "because")
    root = spans.one("session")
    assert root.attributes["agentops.session.end_state"] == state
    assert root.attributes["agentops.session.end_state_reason"] == "because"
    assert root.status.status_code is status
    assert session.end_state == state
    assert session.end_state_reason == "because"
    if status is StatusCode.ERROR:
        assert root.status.description == "because"


def test_unknown_end_state_is_indeterminate_with_the_value_kept(spans, warnings_log):
    agentops.start_session()
    agentops.end_session("Shutdown", "ctrl-c")
    root = spans.one("session")
    assert root.attributes["agentops.session.end_state"] == "Indeterminate"
    assert "Shutdown" in root.attributes["agentops.session.end_state_reason"]
    assert "ctrl-c" in root.attributes["agentops.session.end_state_reason"]
    assert root.status.status_code is StatusCode.UNSET
    assert any("Unknown end state" in m and "Success" in m for m in warnings_log())


def test_end_session_without_reason_sets_no_reason(spans):
    agentops.start_session()
    agentops.end_session()
    root = spans.one("session")
    assert root.attributes["agentops.session.end_state"] == "Success"
    assert "agentops.session.end_state_reason" not in root.attributes


def test_totals_on_the_root(spans):
    session = agentops.start_session()
    agentops.record(agentops.LLMEvent(model="m", prompt_tokens=10, completion_tokens=5, cost=0.5))
    agentops.record(agentops.LLMEvent(model="m", prompt_tokens=1, completion_tokens=2, cost=0.25))
    agentops.record(agentops.ToolEvent(name="search"))
    agentops.record(agentops.ActionEvent(action_type="plan"))
    agentops.record(agentops.ActionEvent(action_type="act"))
    agentops.record(agentops.ErrorEvent(error_type="Boom"))
    analytics = agentops.end_session("Success")
    root = spans.one("session")
    assert root.attributes["agentops.session.llm_calls"] == 2
    assert root.attributes["agentops.session.tool_calls"] == 1
    assert root.attributes["agentops.session.actions"] == 2
    assert root.attributes["agentops.session.errors"] == 1
    assert root.attributes["gen_ai.usage.input_tokens"] == 11
    assert root.attributes["gen_ai.usage.output_tokens"] == 7
    assert root.attributes["agentops.session.cost_usd"] == pytest.approx(0.75)
    assert analytics == session.get_analytics()
    assert analytics["LLM calls"] == 2
    assert analytics["Tool calls"] == 1
    assert analytics["Actions"] == 2
    assert analytics["Errors"] == 1
    assert analytics["Cost"] == "0.750000"
    assert analytics["Duration"].endswith("s")


def test_no_cost_attribute_when_no_cost_is_known(spans):
    agentops.start_session()
    agentops.record(agentops.LLMEvent(model="m"))
    analytics = agentops.end_session()
    assert "agentops.session.cost_usd" not in spans.one("session").attributes
    assert analytics["Cost"] == "0.00"


def test_analytics_keys_match_agentops():
    session = agentops.start_session()
    assert set(session.get_analytics()) == {
        "LLM calls",
        "Tool calls",
        "Actions",
        "Errors",
        "Duration",
        "Cost",
    }


def test_start_session_makes_it_current_and_end_restores_the_previous():
    assert agentops.get_current_session() is None
    outer = agentops.start_session()
    assert agentops.get_current_session() is outer
    inner = agentops.start_session()
    assert agentops.get_current_session() is inner
    inner.end_session()
    assert agentops.get_current_session() is outer
    outer.end_session()
    assert agentops.get_current_session() is None
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_ending_sessions_out_of_order_skips_ended_ones():
    first = agentops.start_session()
    second = agentops.start_session()
    first.end_session()
    assert agentops.get_current_session() is second
    second.end_session()
    assert agentops.get_current_session() is None


def test_spans_inside_a_session_belong_to_its_trace(spans):
    session = agentops.start_session()
    with trace.get_tracer("app").start_as_current_span("work"):
        pass
    session.end_session()
    work = spans.one("work")
    assert work.context.trace_id == session.trace_id
    assert work.parent.span_id == session.span.get_span_context().span_id


def test_context_manager_ends_success(spans):
    with agentops.start_session() as session:
        assert agentops.get_current_session() is session
    assert session.end_state == "Success"
    assert not session.is_running
    assert spans.one("session").status.status_code is StatusCode.OK


def test_context_manager_ends_fail_with_the_exception(spans):
    with pytest.raises(ValueError, match="nope"), agentops.start_session() as session:
        raise ValueError("nope")
    root = spans.one("session")
    assert session.end_state == "Fail"
    assert root.status.status_code is StatusCode.ERROR
    assert "ValueError" in root.attributes["agentops.session.end_state_reason"]
    assert [e.attributes["exception.type"] for e in root.events] == ["ValueError"]


def test_activate_makes_a_session_current_without_ending_it():
    first = agentops.start_session()
    second = agentops.start_session()
    with first.activate():
        assert agentops.get_current_session() is first
    assert agentops.get_current_session() is second
    assert first.is_running
    assert second.is_running


def test_traceparent_names_the_root_span():
    session = agentops.start_session()
    version, trace_id, span_id, flags = session.traceparent.split("-")
    assert version == "00"
    assert int(trace_id, 16) == session.trace_id
    assert int(span_id, 16) == session.span.get_span_context().span_id
    assert int(flags, 16) & 0x01 == 1  # sampled


def test_get_active_sessions_lists_running_sessions_only():
    first = agentops.start_session()
    second = agentops.start_session()
    assert agentops.get_active_sessions() == [first, second]
    first.end_session()
    assert agentops.get_active_sessions() == [second]


def test_end_all_sessions_ends_every_session_indeterminate(spans):
    agentops.start_session()
    agentops.start_session()
    agentops.end_all_sessions()
    roots = spans.named("session")
    assert len(roots) == 2
    assert {r.attributes["agentops.session.end_state"] for r in roots} == {"Indeterminate"}
    assert agentops.get_active_sessions() == []


def test_tags_add_and_set(spans):
    session = agentops.start_session(tags=["a"])
    agentops.add_tags(["b", "a"])
    agentops.add_tags("c")
    assert session.tags == ["a", "b", "c"]
    session.set_tags("only")
    assert session.tags == ["only"]
    session.end_session()
    assert list(spans.one("session").attributes["agentops.session.tags"]) == ["only"]


def test_default_tags_from_environment(monkeypatch, spans):
    monkeypatch.setenv("AGENTOPS_DEFAULT_TAGS", "team-a, prod")
    agentops.init(auto_start_session=False)
    session = agentops.start_session(tags=["x"])
    assert session.tags == ["x", "team-a", "prod"]


def test_end_session_accepts_a_session_first_and_legacy_kwargs(spans):
    session = agentops.start_session()
    agentops.start_session()
    analytics = agentops.end_session(session, video="v.mp4", is_auto_end=False)
    assert analytics["Actions"] == 0
    assert session.end_state == "Success"
    root = next(s for s in spans.named("session") if s.context.trace_id == session.trace_id)
    assert root.attributes["agentops.legacy.video"] == "v.mp4"


def test_end_session_with_session_keyword():
    first = agentops.start_session()
    agentops.start_session()
    agentops.end_session("Fail", session=first)
    assert first.end_state == "Fail"


def test_skip_auto_end_session_ignores_auto_end():
    session = agentops.init(skip_auto_end_session=True)
    assert agentops.end_session("Success", is_auto_end=True) is None
    assert session.is_running
    agentops.end_session("Success")
    assert not session.is_running


def test_session_record_targets_that_session(spans):
    first = agentops.start_session()
    second = agentops.start_session()
    first.record(agentops.ActionEvent(action_type="one"))
    second.record(agentops.ActionEvent(action_type="two"))
    assert spans.one("action one").context.trace_id == first.trace_id
    assert spans.one("action two").context.trace_id == second.trace_id


def test_patch_runs_a_function_inside_the_session(spans):
    first = agentops.start_session()
    agentops.start_session()
    seen = first.patch(agentops.get_current_session)()
    assert seen is first
