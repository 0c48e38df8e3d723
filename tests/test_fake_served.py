"""The fake OpenAI server's ``served`` list: what it answered, per completion.

The framework tier (tests/frameworks) compares sessions' totals with it.
"""

from __future__ import annotations

import openai

from examples.fake_openai import FakeOpenAIServer

TOOL = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "parameters": {"type": "object", "properties": {"id": {"type": "string"}}},
    },
}


def test_served_lists_each_completion_with_its_model_usage_tool_call_and_text():
    with FakeOpenAIServer() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0)
        asked = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Where?"}], tools=[TOOL]
        )
        answered = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Where is it?"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(answered)
        usage = [chunk.usage for chunk in chunks if chunk.usage][-1]
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert server.served == [
            {
                "model": "gpt-4o",
                "prompt_tokens": asked.usage.prompt_tokens,
                "completion_tokens": asked.usage.completion_tokens,
                "tool_call": True,
                "content": None,
            },
            {
                "model": "gpt-4o-mini",
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "tool_call": False,
                "content": text,
            },
        ]
