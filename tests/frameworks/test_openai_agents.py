"""The OpenAI Agents SDK in sessions, with OpenInference's and the official instrumentation.

The agent answers on the fake server's chat completions API: one model call that asks for
the tool, the tool, one model call that answers. Versions: scripts/frameworks.sh.
"""

from __future__ import annotations

import asyncio

import agents
import openai
import pytest
from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor as OpenInference
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor as GenAIOpenAI
from opentelemetry.instrumentation.genai.openai_agents import OpenAIAgentsInstrumentor as Official
from support.frameworks import (
    MODELS,
    QUESTIONS,
    counted,
    instrumented,
    scopes,
    served,
    session_ids,
)

import opentelemetry_instrumentation_agentops as agentops

OI, OFFICIAL = "openinference.instrumentation.openai_agents", Official.__module__
GENAI_OPENAI = "opentelemetry.instrumentation.genai.openai"
# name: (instrumentors, their scopes, whether they trace model calls)
MIXES = {
    "openinference": ((OpenInference,), {OI}, True),
    "official": ((Official,), {OFFICIAL}, False),  # workflow, agent and tool spans only
    "openinference+genai-openai": ((OpenInference, GenAIOpenAI), {OI, GENAI_OPENAI}, True),
    "official+genai-openai": ((Official, GenAIOpenAI), {OFFICIAL, GENAI_OPENAI}, True),
}


@agents.function_tool
def lookup_order(order_id: str) -> str:
    """Find an order by its id."""
    return f"order {order_id} shipped yesterday"


def support_agent(server, model: str) -> agents.Agent:
    client = openai.AsyncOpenAI(base_url=server.base_url, api_key="test-key", max_retries=0)
    chat = agents.OpenAIChatCompletionsModel(model=model, openai_client=client)
    return agents.Agent(
        name="support", instructions="Help the customer.", tools=[lookup_order], model=chat
    )


@pytest.fixture(autouse=True, scope="module")
def no_export_to_openai():
    """The SDK's default trace processor uploads to OpenAI: off, the instrumentors add theirs."""
    agents.set_trace_processors([])


async def run_in_session(server, model: str, question: str):
    with agentops.start_session(name=f"agents {model}") as session:
        await agents.Runner.run(support_agent(server, model), question)
    return session


@pytest.mark.parametrize("mix", MIXES)
def test_one_session_counts_what_the_server_served(server, spans, mix):
    factories, expected, traces_llm = MIXES[mix]
    with instrumented(factories):
        session = asyncio.run(run_in_session(server, MODELS[0], QUESTIONS[0]))
    assert served(server, MODELS[0])[:2] == (2, 1)
    assert scopes(spans, session) == expected
    assert counted(session) == served(server, MODELS[0], llm=traces_llm)
    assert session_ids(spans, session) == {session.session_id}


@pytest.mark.parametrize("mix", MIXES)
def test_two_concurrent_sessions_each_count_their_own_calls(server, mix):
    factories, _, traces_llm = MIXES[mix]

    async def both():
        return await asyncio.gather(
            *(run_in_session(server, m, q) for m, q in zip(MODELS, QUESTIONS, strict=True))
        )

    with instrumented(factories):
        sessions = asyncio.run(both())
    for session, model in zip(sessions, MODELS, strict=True):
        assert counted(session) == served(server, model, llm=traces_llm), model
