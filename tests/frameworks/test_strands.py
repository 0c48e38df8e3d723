"""Strands Agents in sessions with its own OpenTelemetry tracing (always on, on the global
provider), alone and with the official genai-openai that ``init()`` turns on. Runs in
``.venv-frameworks-openai2`` (strands-agents' openai extra needs openai < 3; versions:
requirements/frameworks-openai2.in).
"""

from __future__ import annotations

import pytest
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor as GenAIOpenAI
from strands import Agent, tool
from strands.models.openai import OpenAIModel
from support.frameworks import GENAI_OPENAI, check_concurrent_sessions, check_one_session

SCOPE = "strands.telemetry.tracer"
MIXES = {
    "native": ((), {SCOPE}),
    "native+genai-openai": ((GenAIOpenAI,), {SCOPE, GENAI_OPENAI}),
}


@tool
def lookup_order(order_id: str) -> str:
    """Find an order by its id."""
    return f"order {order_id} shipped yesterday"


def support_agent(server, model: str) -> Agent:
    client = {"base_url": server.base_url, "api_key": "test-key", "max_retries": 0}
    return Agent(
        model=OpenAIModel(client_args=client, model_id=model),
        tools=[lookup_order],
        system_prompt="Help the customer.",
        callback_handler=None,
    )


async def answer(server, model: str, question: str) -> None:
    await support_agent(server, model).invoke_async(question)


@pytest.mark.parametrize("mix", MIXES)
def test_one_session_counts_what_the_server_served(server, spans, mix):
    check_one_session(server, spans, *MIXES[mix], lambda s, m, q: support_agent(s, m)(q))


@pytest.mark.parametrize("mix", MIXES)
def test_two_concurrent_sessions_each_count_their_own_calls(server, mix):
    check_concurrent_sessions(server, MIXES[mix][0], answer)
