"""Tests for ``examples/fake_openai.py`` with the real ``openai`` client and OpenAI instrumentation.

Nothing here is mocked: requests go over loopback HTTP to the fake server, through the real client
(``openai`` 3.x) wrapped by ``opentelemetry-instrumentation-genai-openai``, and spans are read back
from the SDK's ``InMemorySpanExporter``. Other tests and examples rely on the fake behaving like
the real API, so this file pins the behaviour they use.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# examples/ is a folder of runnable scripts, not a package.
sys.path.insert(0, str(EXAMPLES))
from fake_openai import FAIL_MODEL, FakeOpenAIServer, word_count  # noqa: E402

REFUND_QUESTION = "Hi, I would like a refund for order 1234 please"
LOOKUP_TOOL = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Find an order by id",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "string"}, "verbose": {"type": "boolean"}},
            "required": ["order_id"],
        },
    },
}
OTHER_TOOL = {"type": "function", "function": {"name": "escalate", "parameters": {}}}


@pytest.fixture(scope="module")
def exporter() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    """Instrument openai once for this module; the patch is process-global, so undo it after."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield provider, memory
    finally:
        instrumentor.uninstrument()
        provider.shutdown()


@pytest.fixture
def memory(exporter: tuple[TracerProvider, InMemorySpanExporter]) -> InMemorySpanExporter:
    """The module's exporter, emptied (not named ``spans``: tests/conftest.py has that one)."""
    exporter[1].clear()
    return exporter[1]


@pytest.fixture
def provider(exporter: tuple[TracerProvider, InMemorySpanExporter]) -> TracerProvider:
    return exporter[0]


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        yield srv


@pytest.fixture
def client(server: FakeOpenAIServer) -> Iterator[openai.OpenAI]:
    # No retries: a retried 500 would hide the failure path and double the request count.
    with openai.OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0) as c:
        yield c


def _user(text: str) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": "You are a support agent."},
        {"role": "user", "content": text},
    ]


def _chat_spans(memory: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in memory.get_finished_spans() if s.name.startswith("chat")]


def test_chat_completion_tokens_on_child_span(
    client: openai.OpenAI,
    server: FakeOpenAIServer,
    provider: TracerProvider,
    memory: InMemorySpanExporter,
) -> None:
    tracer = provider.get_tracer(__name__)
    with tracer.start_as_current_span("agent-step") as parent:
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=_user(REFUND_QUESTION))

    assert reply.model == "gpt-4o-mini"
    assert "refund" in (reply.choices[0].message.content or "")
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None
    expected_prompt = word_count("You are a support agent.") + word_count(REFUND_QUESTION)
    assert reply.usage.prompt_tokens == expected_prompt
    assert reply.usage.completion_tokens == word_count(reply.choices[0].message.content or "")
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    assert server.requests == 1
    assert server.received[0]["model"] == "gpt-4o-mini"

    (span,) = _chat_spans(memory)
    assert span.name == "chat gpt-4o-mini"
    assert span.kind is SpanKind.CLIENT
    assert span.parent is not None
    assert span.parent.span_id == parent.get_span_context().span_id
    assert span.context.trace_id == parent.get_span_context().trace_id
    attrs = span.attributes or {}
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == "gpt-4o-mini"
    assert attrs["gen_ai.response.model"] == "gpt-4o-mini"
    assert attrs["gen_ai.usage.input_tokens"] == reply.usage.prompt_tokens
    assert attrs["gen_ai.usage.output_tokens"] == reply.usage.completion_tokens
    assert attrs["server.address"] == "127.0.0.1"
    assert attrs["server.port"] == server.port


def test_replies_are_deterministic(client: openai.OpenAI) -> None:
    first = client.chat.completions.create(model="gpt-4o", messages=_user("I forgot my password"))
    second = client.chat.completions.create(model="gpt-4o", messages=_user("I forgot my password"))
    other = client.chat.completions.create(model="gpt-4o", messages=_user("where is my package"))
    assert first.id == second.id
    assert first.choices[0].message.content == second.choices[0].message.content
    assert "password" in (first.choices[0].message.content or "").lower()
    assert other.choices[0].message.content != first.choices[0].message.content


def test_streaming_with_usage(
    client: openai.OpenAI, server: FakeOpenAIServer, memory: InMemorySpanExporter
) -> None:
    plain = client.chat.completions.create(model="gpt-4o-mini", messages=_user(REFUND_QUESTION))
    memory.clear()

    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=_user(REFUND_QUESTION),
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    assert len(chunks) > 3, "expected one chunk per word, not one blob"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop"
    assert all(f is None for f in finishes[:-1])
    usage_chunk = chunks[-1]
    assert usage_chunk.choices == []
    assert usage_chunk.usage is not None
    assert plain.usage is not None
    assert usage_chunk.usage.prompt_tokens == plain.usage.prompt_tokens
    assert usage_chunk.usage.completion_tokens == plain.usage.completion_tokens
    assert all(c.usage is None for c in chunks[:-1])
    assert server.requests == 2

    (span,) = _chat_spans(memory)
    assert span.name == "chat gpt-4o-mini"
    attrs = span.attributes or {}
    assert attrs["gen_ai.usage.input_tokens"] == plain.usage.prompt_tokens
    assert attrs["gen_ai.usage.output_tokens"] == plain.usage.completion_tokens


def test_streaming_without_usage_raw_sse(server: FakeOpenAIServer) -> None:
    """Check the wire format itself: SSE events, no usage chunk, ``[DONE]`` last."""
    body = {"model": "gpt-4o-mini", "messages": _user("hello"), "stream": True}
    request = urllib.request.Request(
        server.base_url + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        raw = response.read().decode()
    events = [e for e in raw.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    payloads = [json.loads(e.removeprefix("data: ")) for e in events[:-1]]
    assert all(
        p["object"] == "chat.completion.chunk" and p["model"] == "gpt-4o-mini" for p in payloads
    )
    assert all(p["choices"] and "usage" not in p for p in payloads)
    assert payloads[-1]["choices"][0]["finish_reason"] == "stop"


def test_tool_call_then_answer(client: openai.OpenAI, memory: InMemorySpanExporter) -> None:
    messages = _user("Where is my order 1234?")
    first = client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, tools=[LOOKUP_TOOL, OTHER_TOOL]
    )
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    (call,) = choice.message.tool_calls
    assert call.type == "function"
    assert call.function.name == "lookup_order"
    assert json.loads(call.function.arguments) == {"order_id": "example"}

    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "order 1234 shipped on Monday"},
    ]
    second = client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, tools=[LOOKUP_TOOL, OTHER_TOOL]
    )
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.tool_calls is None
    assert "shipped on Monday" in (second.choices[0].message.content or "")

    finish = [(s.attributes or {})["gen_ai.response.finish_reasons"] for s in _chat_spans(memory)]
    assert finish == [("tool_calls",), ("stop",)]


def test_tool_choice_selects_named_tool_and_none_disables(client: openai.OpenAI) -> None:
    named = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=_user("please escalate"),
        tools=[LOOKUP_TOOL, OTHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "escalate"}},
    )
    calls = named.choices[0].message.tool_calls
    assert calls is not None
    assert calls[0].function.name == "escalate"
    assert json.loads(calls[0].function.arguments) == {}

    plain = client.chat.completions.create(
        model="gpt-4o-mini", messages=_user("hi"), tools=[LOOKUP_TOOL], tool_choice="none"
    )
    assert plain.choices[0].finish_reason == "stop"


def test_streamed_tool_call(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=_user("order status"), tools=[LOOKUP_TOOL], stream=True
    )
    chunks = list(stream)
    deltas = [tc for c in chunks for tc in (c.choices[0].delta.tool_calls or [])]
    assert [d.function.name for d in deltas if d.function] == ["lookup_order"]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_max_tokens_truncates(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=_user(REFUND_QUESTION), max_tokens=5
    )
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage is not None
    assert reply.usage.completion_tokens == 5
    assert word_count(reply.choices[0].message.content or "") == 5


def test_fail_model_raises_internal_server_error(
    client: openai.OpenAI, server: FakeOpenAIServer, memory: InMemorySpanExporter
) -> None:
    with pytest.raises(openai.InternalServerError) as excinfo:
        client.chat.completions.create(model=FAIL_MODEL, messages=_user("anything"))
    assert excinfo.value.status_code == 500
    assert isinstance(excinfo.value.body, dict)
    assert excinfo.value.body["type"] == "server_error"
    assert server.requests == 1, "max_retries=0 must mean exactly one request"

    (span,) = _chat_spans(memory)
    assert span.name == f"chat {FAIL_MODEL}"
    assert span.status.status_code is StatusCode.ERROR
    assert "InternalServerError" in str((span.attributes or {})["error.type"])


def test_fail_model_streaming_raises(client: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model=FAIL_MODEL, messages=_user("x"), stream=True)


def test_async_client(server: FakeOpenAIServer, memory: InMemorySpanExporter) -> None:
    async def run() -> str:
        async with openai.AsyncOpenAI(
            base_url=server.base_url, api_key="test-key", max_retries=0
        ) as aclient:
            reply = await aclient.chat.completions.create(
                model="gpt-4o-mini", messages=_user("cancel my subscription")
            )
            return reply.choices[0].message.content or ""

    assert "plan" in asyncio.run(run())
    (span,) = _chat_spans(memory)
    assert (span.attributes or {})["gen_ai.usage.output_tokens"] > 0


def test_bad_requests_get_openai_style_errors(server: FakeOpenAIServer) -> None:
    cases = [
        ("/v1/chat/completions", b"not json", 400),
        ("/v1/chat/completions", b'{"model": "m"}', 400),
        ("/v1/nothing-here", b"{}", 404),
    ]
    for path, data, status in cases:
        request = urllib.request.Request(server.url + path, data=data, method="POST")
        with pytest.raises(urllib.error.HTTPError) as excinfo:
            urllib.request.urlopen(request, timeout=10)
        assert excinfo.value.code == status
        assert "message" in json.loads(excinfo.value.read())["error"]
    assert server.requests == len(cases)


def test_stop_frees_port_and_is_idempotent() -> None:
    srv = FakeOpenAIServer().start()
    port = srv.port
    assert srv.base_url == f"http://127.0.0.1:{port}/v1"
    with openai.OpenAI(base_url=srv.base_url, api_key="k", max_retries=0) as c:
        c.chat.completions.create(model="gpt-4o-mini", messages=_user("hi"))
        srv.stop()
        srv.stop()
        with pytest.raises(openai.APIConnectionError):
            c.chat.completions.create(model="gpt-4o-mini", messages=_user("hi"))
    with socket.socket() as s:
        # SO_REUSEADDR tolerates the closed connections' TIME_WAIT, but not a live listener.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()


def test_standalone_main() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "fake_openai.py"), "--port", str(port), "--quiet"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/v1" in banner
        deadline = time.monotonic() + 10
        with openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="k", max_retries=0) as c:
            while True:
                try:
                    models = [m.id for m in c.models.list()]
                    break
                except openai.APIConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
        assert "gpt-4o-mini" in models
    finally:
        proc.terminate()
        proc.wait(timeout=10)
