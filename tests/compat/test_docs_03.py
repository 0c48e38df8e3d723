"""AgentOps 0.3 programs, written as AgentOps' documentation shows them.

They run on agentops 0.3.26, imported after and before instrumenting, and on
agentops 0.4.21 too (the redirect gives 0.4 back the 0.3 names), with the
instrumentor active: their sessions are root spans in the user's pipeline, and
nothing reaches the network.
"""

from __future__ import annotations

import pytest

from .conftest import agentops_version
from .scripts import run_program

pytestmark = pytest.mark.compat
END = "agentops.session.end_state"


# 0.4 has no 0.3 names to import before the redirect adds them: "after" only there.
ORDERS = ["after", "before"] if (agentops_version() or "").startswith("0.3") else ["after"]


@pytest.fixture(params=ORDERS)
def order(request) -> str:
    return request.param


def test_single_session_quickstart(tmp_path, order):
    """docs/v1/quickstart: init, @record_action, @track_agent, end_session('Success')."""
    run = run_program(
        tmp_path,
        """
        import agentops

        @agentops.record_action('sample function being recorded')
        def sample_function(x):
            return x * 2

        @agentops.track_agent(name='my-expert-agent')
        class MyAgent:
            def answer(self):
                return sample_function(21)
        """,
        """
        session = agentops.init('fake-api-key-not-used')
        agent = MyAgent()
        assert agent.answer() == 42
        agentops.end_session('Success')
        """,
        order=order,
    )
    run.assert_clean()
    (root,) = run.roots()
    assert root["name"] == "session"
    assert root["attributes"][END] == "Success"
    assert root["attributes"]["agentops.session.actions"] == 1
    assert run.in_trace(root) == [
        "action sample function being recorded",
        "create_agent my-expert-agent",
        "session",
    ]


def test_multiple_sessions(tmp_path, order):
    """docs/v1/usage/multiple-sessions: two sessions, session.record, session.end_session."""
    run = run_program(
        tmp_path,
        """
        import agentops
        from agentops import ActionEvent
        """,
        """
        agentops.init(auto_start_session=False)
        session_1 = agentops.start_session(tags=["session-1"])
        session_2 = agentops.start_session(tags=["session-2"])
        session_1.record(ActionEvent(action_type="test event"))
        session_2.record(ActionEvent(action_type="other event"))
        answer = session_1.patch(lambda: agentops.get_session(session_1.session_id))()
        assert answer is session_1
        session_1.end_session(end_state="Success")
        session_2.end_session(end_state="Failure")
        """,
        order=order,
    )
    run.assert_clean()
    roots = {tuple(r["attributes"]["agentops.session.tags"]): r for r in run.roots()}
    assert set(roots) == {("session-1",), ("session-2",)}
    assert roots[("session-1",)]["attributes"][END] == "Success"
    assert roots[("session-2",)]["attributes"][END] == "Fail"
    assert run.in_trace(roots[("session-1",)]) == ["action test event", "session"]
    assert run.in_trace(roots[("session-2",)]) == ["action other event", "session"]


def test_recording_events_with_decorators(tmp_path, order):
    """docs/v1/usage/recording-events: @record_action, @record_tool, record(ActionEvent(...))."""
    run = run_program(
        tmp_path,
        """
        import agentops
        from agentops import record_action, record_tool, record, ActionEvent

        @record_action('sample function being record')
        def sample_function(sample_arg=None):
            return 'ok'

        @record_tool('SampleToolName')
        def sample_tool_function(sample_arg=None):
            return 'tool'

        @record_action()
        def unnamed():
            return 1
        """,
        """
        agentops.init()
        sample_function('x')
        sample_tool_function(sample_arg='y')
        unnamed()
        record(ActionEvent("event_type1"))
        agentops.end_session('Success')
        """,
        order=order,
    )
    run.assert_clean()
    (root,) = run.roots()
    attributes = root["attributes"]
    assert attributes[END] == "Success"
    assert (attributes["agentops.session.actions"], attributes["agentops.session.tool_calls"]) == (
        3,
        1,
    )
    assert run.in_trace(root) == [
        "action event_type1",
        "action sample function being record",
        "action unnamed",
        "execute_tool SampleToolName",
        "session",
    ]


def test_decorated_function_in_a_given_session(tmp_path, order):
    """Multi-session: a decorated function called with session=..."""
    run = run_program(
        tmp_path,
        """
        import agentops

        @agentops.record_action('step')
        def step(n):
            return n + 1
        """,
        """
        agentops.init(auto_start_session=False)
        first = agentops.start_session()
        second = agentops.start_session()
        assert step(1, session=second) == 2
        first.end_session('Success')
        second.end_session('Success')
        """,
        order=order,
    )
    run.assert_clean()
    step = run.one("action step")
    second = [r for r in run.roots() if r["trace_id"] == step["trace_id"]]
    assert len(second) == 1 and len(run.roots()) == 2


def test_tracking_agents(tmp_path, order):
    """docs/v1/usage/tracking-agents: named class, runtime name, session=, bare decorator."""
    run = run_program(
        tmp_path,
        """
        import agentops
        from agentops import track_agent

        @track_agent(name='SomeCustomName')
        class MyAgent:
            def __init__(self, session=None):
                self.session = session

        @track_agent()
        class Researcher:
            role = "researcher"

            @agentops.record_action('research')
            def research(self):
                return 'findings'
        """,
        """
        session = agentops.init()
        MyAgent()
        MyAgent(agentops_name='ResearchAgent')
        Researcher().research()
        agentops.end_session('Success')
        """,
        order=order,
    )
    run.assert_clean()
    (root,) = run.roots()
    names = run.in_trace(root)
    assert "create_agent SomeCustomName" in names
    assert "create_agent ResearchAgent" in names
    assert "create_agent researcher" in names
    if order == "after":  # agentops' own pre-made wrapper cannot see the agent (0.3 either)
        research = run.one("action research")
        agent = run.one("create_agent researcher")
        assert research["attributes"]["gen_ai.agent.id"] == agent["attributes"]["gen_ai.agent.id"]


def test_error_events_and_tool_events(tmp_path, order):
    """docs/v1/examples/recording_events: ToolEvent, ErrorEvent(exception=, trigger_event=)."""
    run = run_program(
        tmp_path,
        """
        import agentops
        from agentops import record, ToolEvent, ErrorEvent

        def scrape_website(url):
            tool_event = ToolEvent(name='scrape_website', params={'url': url})
            try:
                raise ConnectionError("site down")
            except Exception as e:
                record(ErrorEvent(exception=e, trigger_event=tool_event))
            tool_event.returns = "cached copy"
            record(tool_event)
            return tool_event.returns

        @agentops.record_action('fails')
        def fails():
            raise ValueError("bad")
        """,
        """
        agentops.init()
        scrape_website('https://example.invalid')
        try:
            fails()
        except ValueError:
            pass
        agentops.end_session("Success")
        """,
        order=order,
    )
    run.assert_clean()
    (root,) = run.roots()
    attributes = root["attributes"]
    assert attributes["agentops.session.errors"] >= 2
    assert attributes["agentops.session.tool_calls"] == 1
    error = run.one("error ConnectionError")
    assert error["status"]["code"] == "ERROR"
    assert run.one("execute_tool scrape_website")["parent_span_id"] == root["span_id"]


def test_analytics_and_tags(tmp_path, order):
    """docs/v1/concepts/sessions: session.record, get_analytics, tags."""
    run = run_program(
        tmp_path,
        """
        import agentops
        from agentops import ActionEvent, LLMEvent
        """,
        """
        session = agentops.init(default_tags=["demo"])
        session.record(ActionEvent("llms"))
        session.record(LLMEvent(model="gpt-4o", prompt_tokens=10, completion_tokens=5, cost=0.5))
        agentops.add_tags(["extra"])
        analytics = session.get_analytics()
        assert analytics["LLM calls"] == 1 and analytics["Actions"] == 1, analytics
        session.end_session("Success")
        """,
        order=order,
    )
    run.assert_clean()
    (root,) = run.roots()
    attributes = root["attributes"]
    assert set(attributes["agentops.session.tags"]) == {"demo", "extra"}
    assert attributes["gen_ai.usage.input_tokens"] == 10
    assert attributes["agentops.session.cost_usd"] == 0.5


def test_end_states_of_0_3(tmp_path, order):
    """Success / Fail / Indeterminate, a reason, and an auto end skipped on request."""
    run = run_program(
        tmp_path,
        "import agentops\n",
        """
        agentops.init(auto_start_session=False, skip_auto_end_session=True)
        for state in ("Success", "Fail", "Indeterminate"):
            agentops.start_session(tags=[state])
            agentops.end_session(state, end_state_reason=f"because {state}")
        kept = agentops.start_session(tags=["kept"])
        agentops.end_session("Success", is_auto_end=True)  # what CrewAI calls
        assert kept.is_running
        agentops.end_session("Success", video="https://example.invalid/v")
        """,
        order=order,
    )
    run.assert_clean()
    by_tag = {r["attributes"]["agentops.session.tags"][0]: r["attributes"] for r in run.roots()}
    for state in ("Success", "Fail", "Indeterminate"):
        assert by_tag[state][END] == state
        assert by_tag[state]["agentops.session.end_state_reason"] == f"because {state}"
    assert by_tag["kept"][END] == "Success"
    assert by_tag["kept"]["agentops.legacy.video"] == "https://example.invalid/v"
