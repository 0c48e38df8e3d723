"""Programs from AgentOps' own repository, run unchanged, offline, with the instrumentor active.

Each is read from ``../shared/agentops-programs/<tag>/<path>`` beside the project, or from the
git directory ``AGENTOPS_REPO`` (``programs.py``), never copied here; a missing one fails its
test. Each runs in a fresh interpreter against the fake OpenAI server of ``examples/``, with
``AGENTOPS_API_KEY`` set and a socket guard that lets it reach only that server. The
project's ``[openai]`` extra is installed beside agentops, as a migrating user would.
"""

from __future__ import annotations

import pytest

from .programs import agentops_program
from .scripts import openai_env, run_program

pytestmark = pytest.mark.compat
END = "agentops.session.end_state"
LLM_CALLS = "agentops.session.llm_calls"


def llm_spans(run, root) -> list[dict]:
    return [
        s
        for s in run.spans
        if s["trace_id"] == root["trace_id"]
        and s["attributes"].get("gen_ai.operation.name") == "chat"
        and s["parent_span_id"] is not None
    ]


def test_multi_session_llm_gives_two_sessions_each_with_its_llm_call(tmp_path, fake_openai):
    """0.3.26 tests/core_manual_tests/multi_session_llm.py: session.patch and session=."""
    program = agentops_program("0.3.26", "tests/core_manual_tests/multi_session_llm.py")
    run = run_program(tmp_path, program, env=openai_env(fake_openai))
    run.assert_clean()
    roots = {tuple(r["attributes"]["agentops.session.tags"]): r for r in run.roots()}
    assert set(roots) == {("multi-session-test-1",), ("multi-session-test-2",)}
    for root in roots.values():
        assert root["attributes"][END] == "Success"
        assert root["attributes"][LLM_CALLS] == 1
        assert len(llm_spans(run, root)) == 1, run.in_trace(root)
        assert root["attributes"]["gen_ai.usage.input_tokens"] > 0
    assert fake_openai.requests == 2
    assert "session" not in fake_openai.received[1]  # the keyword never reached the client
    first = roots[("multi-session-test-1",)]
    assert "action test event" in run.in_trace(first)


def test_multi_agent_example_attributes_llm_calls_to_their_agent(tmp_path, fake_openai):
    """0.3.26 examples/multi_agent_example.ipynb: two @track_agent classes calling OpenAI."""
    program = agentops_program("0.3.26", "examples/multi_agent_example.ipynb")
    end = "agentops.end_session('Success')\n"
    run = run_program(tmp_path, program, end, env=openai_env(fake_openai))
    run.assert_clean()
    (root,) = run.roots()
    assert root["attributes"][LLM_CALLS] == 3
    agents = {
        s["attributes"]["gen_ai.agent.name"]: s["attributes"]["gen_ai.agent.id"]
        for s in run.spans
        if s["name"].startswith("create_agent ")
    }
    assert set(agents) == {"qa", "engineer"}
    calls = sorted(llm_spans(run, root), key=lambda s: s["start"])
    assert len(calls) == 3
    engineer, qa, untracked = (c["attributes"] for c in calls)
    assert engineer.get("gen_ai.agent.id") == agents["engineer"]
    assert qa.get("gen_ai.agent.id") == agents["qa"]
    assert "gen_ai.agent.id" not in untracked
