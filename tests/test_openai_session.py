"""The real ``openai`` client with a real OpenAI instrumentation, inside sessions."""

from __future__ import annotations

import asyncio

import openai
import pytest

import opentelemetry_instrumentation_agentops as agentops
from examples.fake_openai import FakeOpenAIServer


@pytest.fixture(scope="module")
def server():
    with FakeOpenAIServer() as fake:
        yield fake


@pytest.fixture
def both_instrumented(openai_instrumented, instrumented):
    """The OpenAI instrumentation, then the AgentOps instrumentor (off in reverse order)."""


def _client(server):
    return openai.OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0)


def test_chat_spans_are_children_of_the_session_with_tokens_in_totals(
    server, both_instrumented, spans
):
    client = _client(server)
    session = agentops.start_session(name="support")
    first = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Where is my order?"}]
    )
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "And my refund?"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    streamed_usage = [chunk.usage for chunk in stream if chunk.usage is not None][-1]
    session.end_session("Success")
    chats = spans.named("chat gpt-4o-mini")
    assert len(chats) == 2
    root = spans.one("session support")
    for chat in chats:
        assert chat.context.trace_id == session.trace_id
        assert chat.parent.span_id == root.context.span_id
        assert chat.attributes["session.id"] == session.session_id
    assert root.attributes["agentops.session.llm_calls"] == 2
    assert root.attributes["gen_ai.usage.input_tokens"] == (
        first.usage.prompt_tokens + streamed_usage.prompt_tokens
    )
    assert root.attributes["gen_ai.usage.output_tokens"] == (
        first.usage.completion_tokens + streamed_usage.completion_tokens
    )


def test_failed_llm_call_counts_as_an_llm_call_and_an_error(server, both_instrumented, spans):
    client = _client(server)
    session = agentops.start_session()
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(
            model="fail-model", messages=[{"role": "user", "content": "x"}]
        )
    analytics = session.end_session("Fail", "the model failed")
    assert analytics["LLM calls"] == 1
    assert analytics["Errors"] == 1


def test_concurrent_conversations_keep_their_llm_calls_apart(server, both_instrumented, spans):
    client = openai.AsyncOpenAI(base_url=server.base_url, api_key="test-key", max_retries=0)

    async def conversation(n):
        session = agentops.start_session(name=f"customer-{n}")
        for _ in range(n):
            await client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": f"question {n}"}]
            )
        session.end_session()
        return session

    async def main():
        return await asyncio.gather(*(conversation(n) for n in (1, 2, 3)))

    sessions = asyncio.run(main())
    for session in sessions:
        chats = [s for s in spans.of_trace(session.trace_id) if s.name.startswith("chat")]
        assert len(chats) == session.get_analytics()["LLM calls"]
    assert [s.get_analytics()["LLM calls"] for s in sessions] == [1, 2, 3]
