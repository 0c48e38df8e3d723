"""Agno in sessions with OpenInference's tracer, alone and with the official genai-openai
that ``init()`` turns on. Versions: requirements/frameworks.in.

OpenInference's agno tracer writes agno's own run session into ``session.id`` on the
``Agent.arun`` span: the session's id wins, agno's is kept under
``agentops.framework.session.id``.
"""

from __future__ import annotations

import asyncio

import pytest
from agno.agent import Agent
from agno.models.openai import OpenAIChat
from openinference.instrumentation.agno import AgnoInstrumentor
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor as GenAIOpenAI
from support.frameworks import GENAI_OPENAI, check_concurrent_sessions, check_one_session

SCOPE = "openinference.instrumentation.agno"
MIXES = {
    "openinference": ((AgnoInstrumentor,), {SCOPE}),
    "openinference+genai-openai": ((AgnoInstrumentor, GenAIOpenAI), {SCOPE, GENAI_OPENAI}),
}


def lookup_order(order_id: str) -> str:
    """Find an order by its id."""
    return f"order {order_id} shipped yesterday"


async def answer(server, model: str, question: str) -> None:
    agent = Agent(
        model=OpenAIChat(id=model, base_url=server.base_url, api_key="test-key", max_retries=0),
        tools=[lookup_order],
        instructions="Help the customer.",
        telemetry=False,  # agno's own usage report to its servers
    )
    await agent.arun(question)


@pytest.mark.parametrize("mix", MIXES)
def test_one_session_counts_what_the_server_served(server, spans, mix):
    check_one_session(server, spans, *MIXES[mix], lambda *a: asyncio.run(answer(*a)))
    (run,) = spans.named("Agent.arun")
    assert run.attributes["agentops.framework.session.id"] != run.attributes["session.id"]


@pytest.mark.parametrize("mix", MIXES)
def test_two_concurrent_sessions_each_count_their_own_calls(server, mix):
    check_concurrent_sessions(server, MIXES[mix][0], answer)
