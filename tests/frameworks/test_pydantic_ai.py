"""Pydantic AI in sessions with its own OpenTelemetry instrumentation
(``Agent.instrument_all``), alone and with the official genai-openai that ``init()`` turns
on. Versions: requirements/frameworks.in.
"""

from __future__ import annotations

import asyncio

import openai
import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor as GenAIOpenAI
from pydantic_ai import Agent, InstrumentationSettings
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider
from support.frameworks import GENAI_OPENAI, check_concurrent_sessions, check_one_session

SCOPE = "pydantic-ai"


class Native:
    """Pydantic AI's instrumentation, turned on and off like an instrumentor."""

    def instrument(self, tracer_provider=None) -> None:
        provider = tracer_provider or trace.get_tracer_provider()
        Agent.instrument_all(InstrumentationSettings(tracer_provider=provider))

    def uninstrument(self) -> None:
        Agent.instrument_all(False)


MIXES = {
    "native": ((Native,), {SCOPE}),
    "native+genai-openai": ((Native, GenAIOpenAI), {SCOPE, GENAI_OPENAI}),
}


def lookup_order(order_id: str) -> str:
    """Find an order by its id."""
    return f"order {order_id} shipped yesterday"


async def answer(server, model: str, question: str) -> None:
    client = openai.AsyncOpenAI(base_url=server.base_url, api_key="test-key", max_retries=0)
    chat = OpenAIChatModel(model, provider=OpenAIProvider(openai_client=client))
    agent = Agent(chat, instructions="Help the customer.", tools=[lookup_order])
    await agent.run(question)


@pytest.mark.parametrize("mix", MIXES)
def test_one_session_counts_what_the_server_served(server, spans, mix):
    check_one_session(server, spans, *MIXES[mix], lambda *a: asyncio.run(answer(*a)))


@pytest.mark.parametrize("mix", MIXES)
def test_two_concurrent_sessions_each_count_their_own_calls(server, mix):
    check_concurrent_sessions(server, MIXES[mix][0], answer)
