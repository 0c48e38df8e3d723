"""crewai 0.86 with agentops 0.3.26, as AgentOps' CrewAI guide sets it up (crewai only).

CrewAI calls agentops itself when ``AGENTOPS_API_KEY`` is set: ``@track_agent`` on its
``Agent`` class, ``agentops.record`` for tool use and ``agentops.end_session(...,
is_auto_end=True)`` at the end of ``kickoff()``. Its telemetry makes its own
TracerProvider (exporting to CrewAI's server) the global one when a ``Crew`` is
made. No pipeline is configured here: the redirected ``agentops.init()`` sets up this
package's, before CrewAI can, so the sessions are in the user's pipeline and nothing
goes to AgentOps or CrewAI (the socket guard lets only the fake OpenAI server through).
"""

from __future__ import annotations

import pytest

from examples import fake_openai as fake_openai_module

from .scripts import openai_env, run_program

pytestmark = pytest.mark.compat

CREW = """
import os

import agentops

agentops.init()

from crewai import LLM, Agent, Crew, Task

llm = LLM(model="openai/gpt-4o-mini", base_url=os.environ["OPENAI_BASE_URL"], api_key="sk-fake")
agent = Agent(role="support", goal="answer customers", backstory="a helpful desk", llm=llm)
task = Task(description="Where is my order?", expected_output="an answer", agent=agent)
crew = Crew(agents=[agent], tasks=[task])
print("RESULT", crew.kickoff())
"""


@pytest.fixture
def crew_answers(monkeypatch):
    """The fake server answers in the ReAct form CrewAI's agents parse (not its canned text)."""
    monkeypatch.setattr(
        fake_openai_module,
        "_support_answer",
        lambda messages: "Thought: I now know the final answer\nFinal Answer: it ships today",
    )


def test_a_crew_sends_its_session_to_the_users_pipeline_only(tmp_path, fake_openai, crew_answers):
    env = {**openai_env(fake_openai), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    run = run_program(tmp_path, CREW, provider="none", env=env, timeout=180)
    assert run.report["net"] == [], run.report["net"]  # not AgentOps, not CrewAI's telemetry
    assert run.report["exported_by"] == "opentelemetry.sdk.trace"
    assert "RESULT" in run.output
    (root,) = [r for r in run.roots() if r["name"] == "session"]
    attributes = root["attributes"]
    assert attributes["agentops.session.end_state"] == "Success"  # kickoff's is_auto_end end
    assert attributes["agentops.session.llm_calls"] >= 1
    assert root["resource"].get("service.name") != "crewAI-telemetry"
    assert "create_agent support" in run.in_trace(root)
    assert fake_openai.requests >= 1
