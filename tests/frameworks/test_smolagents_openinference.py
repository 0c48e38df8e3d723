"""smolagents' ``ToolCallingAgent`` in sessions with OpenInference's tracer, alone and with
the official genai-openai that ``init()`` turns on. Versions: requirements/frameworks.in.

The fake server calls the first tool until a tool message comes back, and smolagents sends
observations as user messages: the agent calls its tool at each of its ``max_steps`` steps,
then answers without tools. The totals are compared with what was served all the same.
"""

from __future__ import annotations

import pytest
from openinference.instrumentation.smolagents import SmolagentsInstrumentor
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor as GenAIOpenAI
from smolagents import OpenAIServerModel, ToolCallingAgent, tool
from support.frameworks import GENAI_OPENAI, check_concurrent_threads, check_one_session

SCOPE = "openinference.instrumentation.smolagents"
MIXES = {
    "openinference": ((SmolagentsInstrumentor,), {SCOPE}),
    "openinference+genai-openai": ((SmolagentsInstrumentor, GenAIOpenAI), {SCOPE, GENAI_OPENAI}),
}
STEPS = 2


@tool
def lookup_order(order_id: str) -> str:
    """Find an order by its id.

    Args:
        order_id: the order's id.
    """
    return f"order {order_id} shipped yesterday"


def answer(server, model: str, question: str) -> None:
    llm = OpenAIServerModel(
        model_id=model,
        api_base=server.base_url,
        api_key="test-key",
        client_kwargs={"max_retries": 0},
    )
    agent = ToolCallingAgent(tools=[lookup_order], model=llm, max_steps=STEPS, verbosity_level=0)
    agent.run(question)


@pytest.mark.parametrize("mix", MIXES)
def test_one_session_counts_what_the_server_served(server, spans, mix):
    check_one_session(server, spans, *MIXES[mix], answer, tools=STEPS)


@pytest.mark.parametrize("mix", MIXES)
def test_two_concurrent_sessions_each_count_their_own_calls(server, mix):
    check_concurrent_threads(server, MIXES[mix][0], answer)
