"""The examples run and produce the sessions they promise (no backend: in-memory and files),
and the fake OpenAI server they talk to behaves as they need."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import openai
import pytest
from compat.kernel import SETUP_PIPELINE, kernel
from support.span_file import read_spans
from support.spans import roots

from examples.fake_openai import FAIL_MODEL, FakeOpenAIServer, word_count

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CUSTOMERS = ["alice", "bob", "carol", "dave"]
TICKETS = [f"ticket-{n}" for n in range(1042, 1046)]  # the customers' tickets, in order


@pytest.fixture(scope="module")
def desk():
    """The support desk example, imported as its script would see its directory."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        return importlib.import_module("support_desk")
    finally:
        sys.path.remove(str(EXAMPLES))


def test_support_desk_serves_each_customer_in_its_own_session(desk, openai_instrumented, spans):
    with desk.FakeOpenAIServer() as server:
        sessions = asyncio.run(desk.run_desk(server.base_url))

    assert [s.name for s in sessions] == [f"support {c}" for c in CUSTOMERS]
    # Recognisable: the ticket is the session id, the customer its user.
    assert [(s.session_id, s.user_id) for s in sessions] == list(
        zip(TICKETS, CUSTOMERS, strict=True)
    )
    assert len({s.trace_id for s in sessions}) == 4
    by_name = {r.name: r for r in spans.roots()}
    assert sorted(by_name) == sorted(f"session {s.name}" for s in sessions)
    # Served concurrently: every conversation started before any ended.
    assert max(r.start_time for r in by_name.values()) < min(r.end_time for r in by_name.values())

    for session in sessions:
        root = by_name[f"session {session.name}"]
        assert root.attributes["user.id"] == session.user_id
        trace_spans = spans.of_trace(session.trace_id)
        names = sorted(s.name for s in trace_spans if s is not root)
        # Every span of the conversation is in its trace, under its root, stamped with its id.
        for span in trace_spans:
            assert span.attributes["session.id"] == session.session_id
            assert span is root or span.parent is not None
        chats = [s for s in trace_spans if s.name.startswith("chat ")]
        attributes = root.attributes
        assert attributes["agentops.session.llm_calls"] == len(chats)
        assert attributes["agentops.session.tool_calls"] == len(
            [n for n in names if n.startswith("execute_tool ")]
        )
        assert attributes["agentops.session.actions"] == len(
            [n for n in names if n.startswith("action ")]
        )
        assert attributes["gen_ai.usage.input_tokens"] == sum(
            s.attributes.get("gen_ai.usage.input_tokens", 0) for s in chats
        )
        assert "create_agent support-agent" in names
        if session.name == "support dave":
            assert session.end_state == "Fail"
            assert root.status.status_code.name == "ERROR"
            assert "escalated" in attributes["agentops.session.end_state_reason"]
            assert names == [
                "action escalate_to_human",
                "chat fail-model",
                "create_agent support-agent",
            ]
            assert attributes["agentops.session.errors"] == 1
        else:
            assert session.end_state == "Success"
            assert root.status.status_code.name == "OK"
            assert len(chats) == 2  # a tool call, then the answer
            assert attributes["agentops.session.tool_calls"] == 1
            assert attributes["agentops.session.errors"] == 0
            assert "action send_reply" in names
    bob = spans.of_trace(sessions[1].trace_id)
    assert {s.name for s in bob} >= {"execute_tool lookup_order", "action issue_refund"}


def test_support_desk_script_prints_one_summary_per_session(tmp_path):
    sessions_file = tmp_path / "sessions.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOPS_"))}
    env["OTEL_TRACES_EXPORTER"] = "none"
    done = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "support_desk.py"),
            "--sessions-file",
            str(sessions_file),
            "--session-prefix",
            "run-7-",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "4 conversations served: 3 Success, 1 Fail"
    lines = [line for line in done.stderr.splitlines() if line.startswith("Session ")]
    # Nothing else: no "Attempting to instrument while already instrumented", no traceback,
    # no warning a user would take for an error (dave's Fail is the summary line's, no more).
    assert [line for line in done.stderr.splitlines() if line not in lines] == []
    ended = dict(re.findall(r"^Session support (\w+) ended (\w+) ", "\n".join(lines), re.M))
    assert ended == {"alice": "Success", "bob": "Success", "carol": "Success", "dave": "Fail"}
    assert all("| trace_id=" in line for line in lines)
    # init() turned the OpenAI instrumentation on: the chat calls are counted.
    assert all("| LLM calls: 2 |" in line for line in lines if " dave " not in line)
    written = json.loads(sessions_file.read_text())
    assert [s["name"] for s in written] == [f"support {c}" for c in CUSTOMERS]
    assert [(s["session_id"], s["user_id"]) for s in written] == [
        (f"run-7-{ticket}", customer) for ticket, customer in zip(TICKETS, CUSTOMERS, strict=True)
    ]
    for item in written:
        assert f"trace_id={item['trace_id']}" in done.stderr


def notebook_cells() -> list[str]:
    notebook = json.loads((EXAMPLES / "notebook.ipynb").read_text())
    assert (notebook["nbformat"], notebook["nbformat_minor"]) >= (4, 5)
    cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in cells)
    return ["".join(c["source"]) for c in cells]


def test_notebook_runs_in_a_kernel_and_a_rerun_starts_a_fresh_session(tmp_path):
    cells = notebook_cells()
    span_file = tmp_path / "spans.jsonl"
    with kernel(tmp_path, span_file) as notebook:
        notebook.run(SETUP_PIPELINE)
        # Run the notebook top to bottom, then its cells again, without restarting the kernel.
        outputs = [notebook.run(cell) for _ in range(2) for cell in cells]
        ids = notebook.run("print(session.session_id)")
    logged = "".join(outputs)
    assert logged.count(" ended Success ") == 2, logged
    found = roots(read_spans(span_file))
    assert len(found) == 2
    assert found[-1]["attributes"]["session.id"] == ids.strip()
    for root in found:
        attributes = root["attributes"]
        assert attributes["agentops.session.end_state"] == "Success"
        assert attributes["agentops.session.tags"] == ["notebook"]
        assert attributes["agentops.session.llm_calls"] == 1
        assert attributes["agentops.session.tool_calls"] == 1
        assert attributes["agentops.session.actions"] == 1
        assert attributes["gen_ai.usage.input_tokens"] == 42


# -- the fake OpenAI server (examples/fake_openai.py) --------------------------------------
# Only what the examples and the other tests rely on, as its docstring promises it: the same
# answer to the same question with words counted as tokens, streaming with a usage chunk, a
# tool call then an answer, the failing model, and running it on its own.

QUESTION = [
    {"role": "system", "content": "You are a support agent."},
    {"role": "user", "content": "Hi, I would like a refund for order 1234 please"},
]
LOOKUP_TOOL = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "string"}, "verbose": {"type": "boolean"}},
            "required": ["order_id"],
        },
    },
}
ESCALATE_TOOL = {"type": "function", "function": {"name": "escalate", "parameters": {}}}


@pytest.fixture
def fake():
    """The fake server and a client of it (no retries: one request per call)."""
    with (
        FakeOpenAIServer() as server,
        openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0) as client,
    ):
        yield server, client


def test_fake_openai_answers_the_same_question_the_same_way_counting_words(fake):
    server, client = fake
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    again = client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    text = reply.choices[0].message.content
    assert "refund" in text and reply.choices[0].finish_reason == "stop"
    assert (again.id, again.choices[0].message.content) == (reply.id, text)
    assert reply.model == "gpt-4o-mini" and server.received[0]["model"] == "gpt-4o-mini"
    assert reply.usage.prompt_tokens == sum(word_count(m["content"]) for m in QUESTION)
    assert reply.usage.completion_tokens == word_count(text)
    short = client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION, max_tokens=5)
    assert short.choices[0].finish_reason == "length"
    assert short.usage.completion_tokens == word_count(short.choices[0].message.content) == 5
    assert server.requests == 3


def test_fake_openai_streams_the_reply_word_by_word_then_its_usage(fake):
    _, client = fake
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=QUESTION,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    *answer, usage = chunks
    words = [c.choices[0].delta.content or "" for c in answer]
    assert "".join(words) == reply.choices[0].message.content and len(words) > 3
    assert [c.choices[0].finish_reason for c in answer][-1] == "stop"
    assert usage.choices == [] and all(c.usage is None for c in answer)
    assert usage.usage.prompt_tokens == reply.usage.prompt_tokens
    assert usage.usage.completion_tokens == reply.usage.completion_tokens


def test_fake_openai_calls_a_tool_then_answers_with_its_result(fake):
    _, client = fake
    tools = [LOOKUP_TOOL, ESCALATE_TOOL]
    first = client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION, tools=tools)
    assert first.choices[0].finish_reason == "tool_calls"
    (call,) = first.choices[0].message.tool_calls
    assert call.function.name == "lookup_order"
    assert json.loads(call.function.arguments) == {"order_id": "example"}
    result = {"role": "tool", "tool_call_id": call.id, "content": "order 1234 shipped on Monday"}
    messages = [*QUESTION, first.choices[0].message.model_dump(exclude_none=True), result]
    second = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=tools)
    assert second.choices[0].finish_reason == "stop"
    assert "shipped on Monday" in second.choices[0].message.content
    named = {"type": "function", "function": {"name": "escalate"}}
    chosen = client.chat.completions.create(
        model="gpt-4o-mini", messages=QUESTION, tools=tools, tool_choice=named
    )
    assert chosen.choices[0].message.tool_calls[0].function.name == "escalate"
    plain = client.chat.completions.create(
        model="gpt-4o-mini", messages=QUESTION, tools=tools, tool_choice="none"
    )
    assert plain.choices[0].finish_reason == "stop"


def test_fake_openai_fail_model_gets_one_http_500(fake):
    server, client = fake
    with pytest.raises(openai.InternalServerError) as raised:
        client.chat.completions.create(model=FAIL_MODEL, messages=QUESTION)
    assert raised.value.status_code == 500
    assert raised.value.body["type"] == "server_error"
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model=FAIL_MODEL, messages=QUESTION, stream=True)
    assert server.requests == 2


def test_fake_openai_runs_on_its_own():
    command = [sys.executable, str(EXAMPLES / "fake_openai.py"), "--port", "0", "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        banner = process.stdout.readline()
        base_url = re.search(r"http://127\.0\.0\.1:\d+/v1", banner).group()
        with openai.OpenAI(base_url=base_url, api_key="k", max_retries=0) as client:
            assert "gpt-4o-mini" in [m.id for m in client.models.list()]
    finally:
        process.terminate()
        process.wait(timeout=10)
