"""AgentOps 0.4 names and the 0.3 extras of this package (no agentops needed)."""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace

import pytest
from opentelemetry.trace import StatusCode
from support.runtime import setting

import opentelemetry_instrumentation_agentops as agentops

END = "agentops.session.end_state"
REASON = "agentops.session.end_state_reason"


def span_id(session) -> int:
    return session.span.get_span_context().span_id


# -- start_trace / end_trace ---------------------------------------------------


def test_start_trace_is_a_session_usable_as_trace_context(spans):
    trace_context = agentops.start_trace("my-workflow", tags=["batch", "nightly"])
    assert isinstance(trace_context, agentops.Session)
    assert isinstance(trace_context, agentops.TraceContext)
    assert agentops.get_current_session() is trace_context
    assert trace_context.trace_context is trace_context
    assert trace_context.token is None and trace_context.is_init_trace is False
    agentops.end_trace(trace_context, "Success")
    root = spans.one("session my-workflow")
    assert root.parent is None
    assert list(root.attributes["agentops.session.tags"]) == ["batch", "nightly"]
    assert root.attributes[END] == "Success"
    assert root.status.status_code is StatusCode.OK


def test_default_trace_name_is_a_plain_session(spans):
    agentops.end_trace(agentops.start_trace())
    assert spans.one("session").attributes[END] == "Success"


def test_dict_tags_become_root_attributes(spans):
    agentops.end_trace(agentops.start_trace("t", tags={"customer": "acme", "tier": 2}))
    root = spans.one("session t")
    assert root.attributes["customer"] == "acme"
    assert root.attributes["tier"] == 2
    assert "agentops.session.tags" not in root.attributes


def test_trace_context_manager_success_and_fail(spans):
    with agentops.start_trace("ok") as trace_context:
        assert agentops.get_current_session() is trace_context
    with pytest.raises(ValueError), agentops.start_trace("boom"):
        raise ValueError("bad input")
    assert spans.one("session ok").attributes[END] == "Success"
    failed = spans.one("session boom")
    assert failed.attributes[END] == "Fail"
    assert failed.status.status_code is StatusCode.ERROR
    assert [e.name for e in failed.events] == ["exception"]


@pytest.mark.parametrize(
    ("end_state", "expected"),
    [
        ("Success", "Success"),
        ("Error", "Fail"),
        ("Indeterminate", "Indeterminate"),
        (agentops.TraceState.SUCCESS, "Success"),
        (agentops.TraceState.ERROR, "Fail"),
        (agentops.TraceState.UNSET, "Indeterminate"),
        (agentops.SUCCESS, "Success"),
        (StatusCode.OK, "Success"),
        (StatusCode.ERROR, "Fail"),
        (StatusCode.UNSET, "Indeterminate"),
    ],
)
def test_end_trace_states(spans, end_state, expected):
    agentops.end_trace(agentops.start_trace("t"), end_state)
    assert spans.one("session t").attributes[END] == expected


def test_free_string_end_state_is_indeterminate_with_the_value_kept(spans, warnings_log):
    agentops.end_trace(agentops.start_trace("t"), "Shutdown")
    root = spans.one("session t")
    assert root.attributes[END] == "Indeterminate"
    assert "Shutdown" in root.attributes[REASON]


def test_trace_state_prints_like_agentops():
    assert str(agentops.TraceState.SUCCESS) == "SUCCESS"
    assert agentops.TraceState.ERROR.to_status_code() is StatusCode.ERROR


def test_end_trace_without_argument_ends_the_current_session_only(spans):
    other = agentops.start_session()
    with other.activate():
        pass
    current = agentops.start_trace("current")
    agentops.end_trace(end_state="Success")
    assert not current.is_running
    assert other.is_running, "end_trace() must not end every session as AgentOps 0.4 did"
    other.end_session()


def test_end_trace_of_something_else_warns_and_ends_nothing(spans, warnings_log):
    session = agentops.start_trace("t")
    assert agentops.end_trace(object(), "Success") is None
    assert session.is_running
    assert any("end_trace() takes the session" in m for m in warnings_log())


def test_end_trace_accepts_a_wrapper_holding_the_session(spans):
    session = agentops.start_trace("t")
    agentops.end_trace(SimpleNamespace(trace_context=session), "Fail")  # agentops.legacy.Session
    assert session.end_state == "Fail"


# -- update_trace_metadata -------------------------------------------------------


def test_update_trace_metadata_on_the_current_session(spans, warnings_log):
    session = agentops.start_trace("t")
    metadata = {
        "customer": "acme",
        "attempt": 3,
        "trace.metadata.stage": "done",
        "models": ["gpt-4o", "gpt-4o-mini"],
        "mixed": [1, "a"],
        "tags": ["vip"],
        "skipped": {"nested": True},
        "none": None,
    }
    assert agentops.update_trace_metadata(metadata) is True
    assert agentops.update_trace_metadata({"region": "eu"}, prefix="business") is True
    session.end_session()
    attributes = spans.one("session t").attributes
    assert attributes["trace.metadata.customer"] == "acme"
    assert attributes["trace.metadata.attempt"] == 3
    assert attributes["trace.metadata.stage"] == "done"
    assert list(attributes["trace.metadata.models"]) == ["gpt-4o", "gpt-4o-mini"]
    assert attributes["trace.metadata.mixed"] == '[1, "a"]'
    assert attributes["business.region"] == "eu"
    assert "vip" in attributes["agentops.session.tags"]
    assert not any("skipped" in k or "none" in k for k in attributes)
    assert any("dict value was skipped" in m for m in warnings_log())


def test_update_trace_metadata_without_a_session_is_false(warnings_log):
    assert agentops.update_trace_metadata({"a": 1}) is False
    assert agentops.update_trace_metadata("not a dict") is False


# -- 0.4 decorators ----------------------------------------------------------------


def test_trace_decorator_starts_a_session_per_call(spans):
    @agentops.trace
    def answer(question):
        assert agentops.get_current_session() is not None
        return question.upper()

    @agentops.trace(name="customer-workflow", tags=["support"])
    def workflow():
        return 1

    assert answer("hi") == "HI"
    assert answer("again") == "AGAIN"
    assert workflow() == 1
    assert agentops.get_current_session() is None, "the session ends with the call"
    roots = spans.named("session answer")
    assert len(roots) == 2 and all(r.parent is None for r in roots)
    assert {r.attributes[END] for r in roots} == {"Success"}
    named = spans.one("session customer-workflow")
    assert list(named.attributes["agentops.session.tags"]) == ["support"]


def test_trace_decorator_fails_its_session_when_the_function_raises(spans):
    @agentops.session
    def broken():
        raise KeyError("missing")

    with pytest.raises(KeyError):
        broken()
    root = spans.one("session broken")
    assert root.attributes[END] == "Fail"
    assert root.events[0].name == "exception"


def test_entity_decorators_are_named_by_convention(spans):
    @agentops.tool(cost=0.01)
    def search(q):
        return [q]

    @agentops.workflow
    def plan_trip():
        return search("paris")

    @agentops.task(name="book")
    def book():
        return True

    @agentops.operation
    def check():
        return True

    @agentops.guardrail(spec="input")
    def screen():
        return True

    @agentops.agent(name="ResearchAgent", attributes={"team": "red"})
    def research():
        return plan_trip()

    @agentops.trace(name="research-workflow")
    def main():
        return research(), book(), check(), screen()

    main()
    root = spans.one("session research-workflow")
    agent_span = spans.one("invoke_agent ResearchAgent")
    workflow_span = spans.one("workflow plan_trip")
    tool_span = spans.one("execute_tool search")
    assert agent_span.parent.span_id == root.context.span_id
    assert workflow_span.parent.span_id == agent_span.context.span_id
    assert tool_span.parent.span_id == workflow_span.context.span_id
    assert tool_span.attributes["agentops.tool.cost_usd"] == 0.01
    assert tool_span.attributes["gen_ai.tool.name"] == "search"
    assert tool_span.attributes["gen_ai.agent.name"] == "ResearchAgent"
    assert workflow_span.attributes["agentops.span.kind"] == "workflow"
    assert spans.one("task book").attributes["agentops.span.kind"] == "task"
    assert spans.one("operation check")
    assert spans.one("guardrail screen").attributes["agentops.guardrail.spec"] == "input"
    assert root.attributes["agentops.session.tool_calls"] == 1


def test_agent_class_creates_an_agent_per_instance(spans):
    session = agentops.start_session()

    @agentops.agent
    class WeatherAgent:
        def __init__(self, city):
            self.city = city

        @agentops.operation
        def get_forecast(self):
            return f"sunny in {self.city}"

    agent = WeatherAgent("Paris")
    assert agent.get_forecast() == "sunny in Paris"
    session.end_session()
    created = spans.one("create_agent WeatherAgent")
    forecast = spans.one("operation get_forecast")
    assert forecast.attributes["gen_ai.agent.id"] == created.attributes["gen_ai.agent.id"]


def test_other_decorators_on_a_class_trace_its_init(spans):
    agentops.start_session()

    @agentops.workflow(name="pipeline")
    class Pipeline:
        def __init__(self, steps):
            self.steps = steps

    assert Pipeline(3).steps == 3
    assert spans.one("workflow pipeline")


def test_entity_decorators_on_async_and_generators(spans):
    session = agentops.start_session()

    @agentops.tool
    async def fetch():
        return 1

    @agentops.task
    def stream():
        yield from range(3)

    @agentops.trace
    async def run():
        return await fetch()

    assert asyncio.run(run()) == 1
    with session.activate():
        assert list(stream()) == [0, 1, 2]
    session.end_session()
    run_root = spans.one("session run")
    assert spans.one("execute_tool fetch").parent.span_id == run_root.context.span_id
    assert spans.one("task stream").parent.span_id == span_id(session)


def test_trace_decorator_on_a_generator_covers_its_iteration(spans):
    @agentops.trace
    def numbers():
        yield 1
        assert agentops.get_current_session() is not None
        yield 2

    assert list(numbers()) == [1, 2]
    assert spans.one("session numbers").attributes[END] == "Success"


def test_decorator_given_a_name_positionally(spans):
    @agentops.tool("lookup")
    def find():
        return 0

    agentops.start_session()
    find()
    assert spans.one("execute_tool lookup")


# -- end_session in every AgentOps calling pattern --------------------------------


def test_end_session_with_a_session_and_an_end_state_keyword(spans):
    session = agentops.start_session()
    agentops.end_session(session, end_state="Fail", end_state_reason="broke")
    assert (session.end_state, session.end_state_reason) == ("Fail", "broke")


def test_end_session_session_or_status_keyword(spans):
    first, second = agentops.start_session(), agentops.start_session()
    agentops.end_session(session_or_status=first, end_state="Success")
    with second.activate():
        agentops.end_session(session_or_status="Fail")
    assert (first.end_state, second.end_state) == ("Success", "Fail")


def test_end_session_default_is_success_and_extras_are_legacy_attributes(spans):
    agentops.start_session()
    agentops.end_session(video="https://example.invalid/v.mp4", crew="c1")
    root = spans.one("session")
    assert root.attributes[END] == "Success"
    assert root.attributes["agentops.legacy.video"] == "https://example.invalid/v.mp4"
    assert root.attributes["agentops.legacy.crew"] == "c1"


def test_is_auto_end_respects_skip_auto_end_session():
    session = agentops.init(auto_start_session=True, skip_auto_end_session=True)
    assert agentops.end_session(end_state="Success", is_auto_end=True) is None
    assert session.is_running
    agentops.end_session("Success")
    assert not session.is_running


# -- 0.3 extras ----------------------------------------------------------------------


def test_record_function_is_record_action(spans):
    agentops.start_session()

    @agentops.record_function("legacy-step")
    def step():
        return 1

    step()
    assert spans.one("action legacy-step")


def test_track_tool_is_record_tool(spans):
    agentops.start_session()
    agentops.track_tool("t")(lambda: 1)()
    assert spans.one("execute_tool t")


def test_create_agent_in_the_current_or_given_session(spans):
    first = agentops.start_session()
    agent_id = agentops.create_agent("planner")
    second = agentops.start_session()
    given = agentops.create_agent("coder", agent_id="a-1", session=second)
    assert uuid.UUID(agent_id) and given == "a-1"
    planner, coder = spans.one("create_agent planner"), spans.one("create_agent coder")
    assert planner.context.trace_id == first.trace_id
    assert coder.context.trace_id == second.trace_id
    assert coder.attributes["gen_ai.agent.id"] == "a-1"


def test_create_agent_without_a_session_is_still_exported(spans, warnings_log):
    agentops.create_agent("loner")
    assert spans.one("create_agent loner").parent is None


def test_track_agent_class_given_a_session_keyword(spans):
    first, second = agentops.start_session(), agentops.start_session()

    @agentops.track_agent(name="Custom")
    class Agent:
        def __init__(self, session=None):
            self.session = session

    Agent(session=second)
    assert spans.one("create_agent Custom").context.trace_id == second.trace_id
    assert first.is_running


def test_api_keys_are_kept_in_memory_and_never_exported(spans, monkeypatch):
    monkeypatch.delenv("AGENTOPS_API_KEY", raising=False)
    assert agentops.get_api_key() is None
    session = agentops.init("sk-secret-1", parent_key="pk-secret")
    assert agentops.get_api_key() == "sk-secret-1"
    agentops.set_api_key("sk-secret-2")
    agentops.set_parent_key("pk-2")
    assert agentops.get_api_key() == "sk-secret-2" and setting("parent_key") == "pk-2"
    session.end_session()
    exported = repr([dict(s.attributes) for s in spans.all()])
    assert "secret" not in exported


def test_get_session_by_id_string_or_uuid():
    session = agentops.start_session()
    assert agentops.get_session(session.session_id) is session
    assert agentops.get_session(uuid.UUID(session.session_id)) is session
    session.end_session()
    assert agentops.get_session(session.session_id) is None


def test_session_create_agent_and_patch(spans):
    session = agentops.start_session()
    agent_id = session.create_agent("writer")
    assert session.patch(lambda: agentops.get_current_session())() is session
    session.end_session()
    assert spans.one("create_agent writer").attributes["gen_ai.agent.id"] == agent_id


def test_events_made_by_agentops_itself_are_read_by_duck_typing(spans):
    """agentops' own event objects (from code decorated before the redirect)."""

    class ToolEvent:  # the shape of agentops 0.3's dataclass
        def __init__(self):
            self.event_type = "tools"
            self.name = "scrape"
            self.params = {"url": "u"}
            self.returns = None
            self.init_timestamp = "2024-05-01T10:00:00+00:00"
            self.end_timestamp = "2024-05-01T10:00:02+00:00"
            self.agent_id = None
            self.id = uuid.uuid4()
            self.logs = None

    class LegacyActionEvent:  # what agentops 0.4's ActionEvent() returns
        init_timestamp = "2024-05-01T10:00:00+00:00"
        end_timestamp = None

    session = agentops.start_session()
    session.record(ToolEvent())
    agentops.record(LegacyActionEvent())
    session.end_session()
    tool = spans.one("execute_tool scrape")
    assert (tool.end_time - tool.start_time) == 2_000_000_000
    assert spans.one("action")
    assert session.get_analytics()["Tool calls"] == 1
