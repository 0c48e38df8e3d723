"""LlamaIndex's ``FunctionAgent`` (streaming) in sessions with OpenInference's tracer, alone
and with a client instrumentation (the official genai-openai that ``init()`` turns on, or
OpenInference's own). Runs in ``.venv-frameworks-openai2`` (llama-index-llms-openai needs
openai < 3; versions: requirements/frameworks-openai2.in).

OpenInference marks ``OpenAI._prepare_chat_with_tools`` as an LLM span though it never
reaches the model, records ``astream_chat``'s end when the stream is returned (before it is
read), and leaves the client's chat span beside it under ``run_agent_step``: each model call
counts once all the same (docs/spans.rst, "One model call, two instrumentations").
"""

from __future__ import annotations

import asyncio

import pytest
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.llms.openai import OpenAI
from openinference.instrumentation.llama_index import LlamaIndexInstrumentor
from openinference.instrumentation.openai import OpenAIInstrumentor as OpenInferenceOpenAI
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor as GenAIOpenAI
from support.frameworks import GENAI_OPENAI, check_concurrent_sessions, check_one_session

SCOPE = "openinference.instrumentation.llama_index"
MIXES = {
    "openinference": ((LlamaIndexInstrumentor,), {SCOPE}),
    "openinference+genai-openai": ((LlamaIndexInstrumentor, GenAIOpenAI), {SCOPE, GENAI_OPENAI}),
    "openinference+openinference-openai": (
        (LlamaIndexInstrumentor, OpenInferenceOpenAI),
        {SCOPE, "openinference.instrumentation.openai"},
    ),
}


def lookup_order(order_id: str) -> str:
    """Find an order by its id."""
    return f"order {order_id} shipped yesterday"


async def answer(server, model: str, question: str) -> None:
    llm = OpenAI(
        model=model,
        api_base=server.base_url,
        api_key="test-key",
        max_retries=0,
        # The stream's last chunk carries the usage only when asked for.
        additional_kwargs={"stream_options": {"include_usage": True}},
    )
    agent = FunctionAgent(tools=[lookup_order], llm=llm, system_prompt="Help the customer.")
    await agent.run(question)


@pytest.mark.parametrize("mix", MIXES)
def test_one_session_counts_what_the_server_served(server, spans, mix):
    check_one_session(server, spans, *MIXES[mix], lambda *a: asyncio.run(answer(*a)))


@pytest.mark.parametrize("mix", MIXES)
def test_two_concurrent_sessions_each_count_their_own_calls(server, mix):
    check_concurrent_sessions(server, MIXES[mix][0], answer)
