"""AgentOps 0.4 programs, written as AgentOps' documentation shows them (agentops 0.4 only).

Each runs with agentops imported (and its decorators applied) after and before
instrumenting; "before" goes through agentops' own wrappers and ``tracer``.
"""

from __future__ import annotations

import pytest

from .scripts import run_program

pytestmark = pytest.mark.compat
END = "agentops.session.end_state"


@pytest.fixture(params=["after", "before"])
def order(request) -> str:
    return request.param


def roots_by_name(run) -> dict[str, dict]:
    roots = run.roots()
    by_name = {r["name"]: r for r in roots}
    assert len(by_name) == len(roots), sorted(r["name"] for r in roots)
    return by_name


def test_manual_trace_control(tmp_path, order):
    """/v2/usage/manual-trace-control and /v2/concepts/traces."""
    run = run_program(
        tmp_path,
        """
        import agentops
        from agentops import start_trace, end_trace, update_trace_metadata, TraceState
        """,
        """
        agentops.init("fake-api-key-not-used", auto_start_session=False)
        trace = start_trace("my-workflow", tags=["production"])
        update_trace_metadata({"stage": "start", "items": 3})
        end_trace(trace, "Success")
        for i, item in enumerate(["a", "b", "c"]):
            item_trace = start_trace(f"item-{i}", tags=[item])
            end_trace(item_trace, "Error" if i == 1 else "Success")
        end_trace(start_trace("unsure"), "Indeterminate")
        end_trace(start_trace("enum"), TraceState.ERROR)
        other = start_trace("other")
        start_trace("current")
        end_trace(end_state="Success")  # the current one only
        assert other.is_running
        end_trace(other, agentops.SUCCESS)
        """,
        order=order,
    )
    run.assert_clean()
    roots = roots_by_name(run)
    expected = {
        "session my-workflow": "Success",
        "session item-0": "Success",
        "session item-1": "Fail",
        "session item-2": "Success",
        "session unsure": "Indeterminate",
        "session enum": "Fail",
        "session other": "Success",
        "session current": "Success",
    }
    assert {name: r["attributes"][END] for name, r in roots.items()} == expected
    workflow = roots["session my-workflow"]["attributes"]
    assert list(workflow["agentops.session.tags"]) == ["production"]
    assert workflow["trace.metadata.stage"] == "start"
    assert workflow["trace.metadata.items"] == 3


def test_context_managers(tmp_path, order):
    """/v2/usage/context-managers: with-blocks, errors, threads, asyncio tasks."""
    run = run_program(
        tmp_path,
        """
        import asyncio
        import threading
        import agentops
        from agentops import start_trace
        """,
        """
        agentops.init(auto_start_session=False)
        with start_trace("cm", tags={"customer": "acme", "user.id": "u-42"}) as trace:
            assert trace.span.is_recording()
        try:
            with start_trace("cm-error"):
                raise ValueError("boom")
        except ValueError:
            pass

        def worker(i):
            with start_trace(f"worker_{i}"):
                pass

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        async def task(i):
            with start_trace(f"task_{i}"):
                await asyncio.sleep(0.01)

        async def main():
            await asyncio.gather(*(task(i) for i in range(3)))

        asyncio.run(main())
        existing = start_trace("existing")
        with existing:
            pass
        """,
        order=order,
    )
    run.assert_clean()
    roots = roots_by_name(run)
    assert roots["session cm"]["attributes"]["customer"] == "acme"
    assert roots["session cm"]["attributes"]["user.id"] == "u-42"  # the user of the session
    assert roots["session cm-error"]["attributes"][END] == "Fail"
    assert roots["session cm-error"]["status"]["code"] == "ERROR"
    for name in ("cm", "worker_0", "worker_1", "worker_2", "task_0", "task_1", "task_2"):
        assert roots[f"session {name}"]["attributes"][END] == "Success", name
    assert roots["session existing"]["attributes"][END] == "Success"


def test_decorators(tmp_path, order):
    """/v2/concepts/decorators, /v2/usage/trace-decorator, /v2/usage/tracking-agents."""
    run = run_program(
        tmp_path,
        """
        import asyncio
        import agentops
        from agentops.sdk.decorators import (
            agent, guardrail, operation, session, task, tool, trace, workflow,
        )

        @agent
        class WeatherAgent:
            def __init__(self):
                self.calls = 0

            @operation
            def get_forecast(self, location):
                return f"sunny in {location}"

        @tool(cost=0.01)
        def search(query):
            return [query]

        @tool
        async def async_search(query):
            return query

        @tool
        def stream(n):
            yield from range(n)

        @guardrail(spec="input")
        def screen(text):
            return True

        @workflow
        def plan_trip(destination):
            forecast = WeatherAgent().get_forecast(destination)
            search(destination)
            asyncio.run(async_search(destination))
            assert list(stream(2)) == [0, 1]
            return forecast

        @task
        def book():
            return True

        @trace(name="customer-workflow", tags=["support"])
        def main():
            screen("hello")
            plan_trip("Paris")
            return book()

        @session
        def answer_question(question):
            return question

        @agentops.trace
        def bare():
            return 1

        @trace(name="failing")
        def failing():
            raise RuntimeError("tool broke")
        """,
        """
        agentops.init("fake-api-key-not-used", auto_start_session=False)
        assert main() is True
        assert answer_question("why?") == "why?"
        assert bare() == 1
        try:
            failing()
        except RuntimeError:
            pass
        """,
        order=order,
    )
    run.assert_clean()
    roots = roots_by_name(run)
    assert set(roots) == {
        "session customer-workflow",
        "session answer_question",
        "session bare",
        "session failing",
    }
    workflow_root = roots["session customer-workflow"]
    assert list(workflow_root["attributes"]["agentops.session.tags"]) == ["support"]
    assert workflow_root["attributes"][END] == "Success"
    assert workflow_root["attributes"]["agentops.session.tool_calls"] == 3
    names = run.in_trace(workflow_root)
    # agentops 0.4 makes @operation an alias of @task: its own wrappers say "task".
    forecast = "operation get_forecast" if order == "after" else "task get_forecast"
    for name in (
        "guardrail screen",
        "workflow plan_trip",
        "create_agent WeatherAgent",
        forecast,
        "execute_tool search",
        "execute_tool async_search",
        "execute_tool stream",
        "task book",
    ):
        assert name in names, (name, names)
    plan = run.one("workflow plan_trip")
    assert run.one("execute_tool search")["parent_span_id"] == plan["span_id"]
    search = run.one("execute_tool search")["attributes"]
    # agentops' own wrapper writes the cost under its own name
    assert 0.01 in (search.get("agentops.tool.cost_usd"), search.get("gen_ai.usage.total_cost"))
    agent_id = run.one("create_agent WeatherAgent")["attributes"]["gen_ai.agent.id"]
    assert run.one(forecast)["attributes"]["gen_ai.agent.id"] == agent_id
    failing = roots["session failing"]
    assert failing["attributes"][END] == "Fail"
    assert [e["name"] for e in failing["events"]] == ["exception"]
    for root in roots.values():  # no content unless the user opts in
        assert not any(k.endswith((".input", ".output")) for k in root["attributes"])


def test_legacy_sessions_on_0_4(tmp_path, order):
    """Legacy 0.4 usage: init() then end_session(...), start_session, CrewAI's patterns."""
    run = run_program(
        tmp_path,
        """
        import agentops
        from agentops import start_session, end_session, track_agent, track_tool
        """,
        """
        agentops.init()
        end_session(end_state='Success')
        start_session(tags=["legacy"])
        end_session("Fail", end_state_reason="because")
        explicit = start_session(tags=["explicit"])
        end_session(explicit, end_state="Success")
        crew = start_session(tags=["crew"])
        crew.end_session(end_state="Indeterminate", crew_id="c-1")
        """,
        order=order,
    )
    run.assert_clean()
    roots = run.roots()
    assert len(roots) == 4
    by_tag = {tuple(r["attributes"].get("agentops.session.tags", ())): r for r in roots}
    assert by_tag[()]["attributes"][END] == "Success"
    legacy = by_tag[("legacy",)]["attributes"]
    assert (legacy[END], legacy["agentops.session.end_state_reason"]) == ("Fail", "because")
    assert by_tag[("explicit",)]["attributes"][END] == "Success"
    crew = by_tag[("crew",)]["attributes"]
    assert crew[END] == "Indeterminate"
    assert crew["agentops.legacy.crew_id"] == "c-1"
