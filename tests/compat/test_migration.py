"""A migrating user loses nothing and nothing reaches AgentOps (issue 12, through the redirect).

Each program runs with ``AGENTOPS_API_KEY`` set and a socket guard: every connection
other than to the test's fake OpenAI server is recorded and refused.
"""

from __future__ import annotations

import pytest

from .scripts import AGENTOPS_API_KEY, openai_env, run_program

pytestmark = pytest.mark.compat
END = "agentops.session.end_state"
KEY = {"AGENTOPS_API_KEY": AGENTOPS_API_KEY}

# Every documented call of each line (0.3's docs/v1, 0.4's docs/v2), one program each.
DOCUMENTED = {
    "0.3": """
        import agentops
        from agentops import ActionEvent, ErrorEvent, LLMEvent, ToolEvent
        from agentops import record_action, record_tool, track_agent

        @record_action("act")
        def act():
            return 1

        @record_tool("look")
        def look():
            return 2

        @track_agent(name="helper")
        class Helper:
            pass

        agentops.set_api_key(agentops.get_api_key())
        agentops.set_parent_key("22222222-2222-4222-8222-222222222222")
        session = agentops.init(default_tags=["all"])
        act(); look(); Helper()
        agentops.record(ActionEvent(action_type="a"))
        agentops.record(LLMEvent(model="m", prompt_tokens=1, completion_tokens=2))
        agentops.record(ToolEvent(name="t"))
        agentops.record(ErrorEvent(error_type="E", details="d"))
        agentops.add_tags(["more"]); agentops.set_tags(["set"])
        agentops.create_agent("made")
        assert agentops.get_session(session.session_id) is session
        print(session.get_analytics())
        other = agentops.start_session(tags=["other"])
        other.record(ActionEvent(action_type="b"))
        other.end_session("Success")
        agentops.end_session("Success")
        agentops.start_session()
        agentops.end_all_sessions()
        agentops.stop_instrumenting()
    """,
    "0.4": """
        import agentops
        from agentops import agent, operation, session, task, tool, trace, workflow, guardrail

        @agent
        class Helper:
            @operation
            def work(self):
                return 1

        @tool(cost=0.25)
        def look():
            return 2

        @task
        def plan():
            return 3

        @workflow
        def flow():
            return plan()

        @guardrail
        def check():
            return True

        @trace(name="traced")
        def traced():
            return look()

        @session
        def old_session():
            return 4

        agentops.init(auto_start_session=False, tags=["all"])
        context = agentops.start_trace("documented", tags=["x"])
        Helper().work(); look(); flow(); check()
        agentops.update_trace_metadata({"stage": "one"})
        agentops.end_trace(context, "Success")
        traced(); old_session()
        with agentops.start_trace("block"):
            look()
        legacy = agentops.start_session(tags=["legacy"])
        agentops.end_session(legacy)
        result = agentops.validate_trace_spans(trace_context=context, check_llm=False)
        agentops.print_validation_summary(result)
        try:
            agentops.validate_trace_spans(trace_context=context)
        except agentops.ValidationError as error:
            print("no LLM call:", error)
        agentops.end_all_sessions()
    """,
}


def test_every_documented_call_sends_nothing_to_agentops(tmp_path, agentops_line):
    run = run_program(tmp_path, DOCUMENTED[agentops_line], env=KEY)
    run.assert_clean()
    assert len(run.roots()) >= 2
    assert all(r["attributes"].get(END) for r in run.roots()), [r["name"] for r in run.roots()]


def test_agentops_logger_keeps_printing(tmp_path, agentops_line):
    run = run_program(
        tmp_path,
        """
        import agentops
        agentops.init(auto_start_session=False)
        agentops.logger.warning("An error occurred in the agent")
        agentops.logger.info("Some progress")
        agentops.logger.debug("Not shown at INFO")
        """,
        env=KEY,
    )
    run.assert_clean()
    assert "\U0001f587 AgentOps: An error occurred in the agent" in run.output
    assert "\U0001f587 AgentOps: Some progress" in run.output
    assert "Not shown at INFO" not in run.output


TOTALS = {
    "0.3": """
        import agentops
        from agentops import LLMEvent, record_tool

        @record_tool("fetch")
        def fetch():
            raise RuntimeError("tool down")

        session = agentops.init()
        agentops.record(LLMEvent(model="gpt-4o", prompt_tokens=3, completion_tokens=4, cost=0.5))
        try:
            fetch()
        except RuntimeError:
            agentops.end_session("Fail", "the tool failed")
    """,
    "0.4": """
        import agentops

        @agentops.tool(cost=0.05)
        def search():
            return "found"

        @agentops.trace(name="failing")
        def failing():
            search()
            agentops.record(agentops.LLMEvent(model="gpt-4o", cost=0.5))
            raise ValueError("the agent failed")

        agentops.init(auto_start_session=False)
        try:
            failing()
        except ValueError:
            pass
    """,
}


def test_totals_count_the_failure_and_every_cost(tmp_path, agentops_line):
    run = run_program(tmp_path, TOTALS[agentops_line], env=KEY)
    run.assert_clean()
    (root,) = run.roots()
    attributes = root["attributes"]
    assert attributes[END] == "Fail"
    assert attributes["agentops.session.errors"] == 1
    expected = 0.5 if agentops_line == "0.3" else 0.55
    assert attributes["agentops.session.cost_usd"] == pytest.approx(expected)


def test_init_sets_up_the_pipeline_when_none_is_configured(tmp_path, agentops_line):
    """The redirected agentops.init() is this package's: it makes an SDK provider global."""
    run = run_program(
        tmp_path,
        """
        import agentops
        agentops.init()
        agentops.record(agentops.ActionEvent(action_type="step"))
        agentops.end_session("Success")
        """,
        provider="none",
        env=KEY,
    )
    run.assert_clean()
    assert run.report["exported_by"] == "opentelemetry.sdk.trace", run.report
    (root,) = run.roots()
    assert root["attributes"][END] == "Success"
    assert run.in_trace(root) == ["action step", "session"]
    assert "nothing is exported" not in run.output


def test_a_provider_whose_truth_test_raises_still_gets_the_sessions(tmp_path, agentops_line):
    """Defect c: agentops.init() never calls bool() on the provider given to instrument()."""
    run = run_program(
        tmp_path,
        """
        import agentops
        from opentelemetry.sdk.trace import TracerProvider

        class Falsy(TracerProvider):
            def __bool__(self):
                raise RuntimeError("a provider's truth test is not yours to call")

        falsy = Falsy()
        falsy.add_span_processor(SimpleSpanProcessor(FileSpanExporter(SPAN_FILE)))
        _INSTRUMENTOR.uninstrument()
        _INSTRUMENTOR.instrument(tracer_provider=falsy)
        agentops.init()
        agentops.end_session("Success")
        """,
        provider="explicit",
        env=KEY,
    )
    run.assert_clean()
    assert run.report["global_provider"] == "ProxyTracerProvider"
    (root,) = run.roots()
    assert root["attributes"][END] == "Success"


def test_llm_calls_are_recorded_without_any_setup(tmp_path, agentops_line, fake_openai):
    """init() turns on the [openai] extra's instrumentation: no code of the user's does."""
    run = run_program(
        tmp_path,
        """
        import agentops
        from openai import OpenAI

        agentops.init()
        OpenAI().chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}]
        )
        agentops.end_session("Success")
        """,
        env=openai_env(fake_openai),
    )
    run.assert_clean()
    (root,) = run.roots()
    assert root["attributes"]["agentops.session.llm_calls"] == 1
    assert "chat gpt-4o-mini" in run.in_trace(root)
