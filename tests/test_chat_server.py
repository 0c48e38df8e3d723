"""The chat server example: one run per request, one conversation id across them (in memory)."""

from __future__ import annotations

import importlib
import json
import sys
import threading
import urllib.error
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support.runtime import configure

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def chat():
    sys.path.insert(0, str(EXAMPLES))
    try:
        return importlib.import_module("chat_server")
    finally:
        sys.path.remove(str(EXAMPLES))


@pytest.fixture
def server_url(chat):
    server = chat.make_server(0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_each_request_is_one_run_of_its_conversation(chat, server_url, spans):
    turns = [("c-1", "Hello"), ("c-2", "I want a refund"), ("c-1", "Where is my order?")]
    turns += [("c-1", "Thanks"), ("c-2", "Bye")]
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda t: chat.talk(server_url, *t), turns))

    assert [a["conversation_id"] for a in answers] == [c for c, _ in turns]
    assert len({a["trace_id"] for a in answers}) == 5  # one trace per turn
    runs = defaultdict(list)
    for root in spans.roots():
        assert root.name == "session chat turn"
        assert root.attributes["gen_ai.conversation.id"] == root.attributes["session.id"]
        assert root.attributes["agentops.session.end_state"] == "Success"
        runs[root.attributes["session.id"]].append(root)
    assert {c: len(r) for c, r in runs.items()} == {"c-1": 3, "c-2": 2}
    for answer in answers:
        trace_spans = spans.of_trace(int(answer["trace_id"], 16))
        assert {s.attributes["session.id"] for s in trace_spans} == {answer["conversation_id"]}
    order = next(a for a in answers if "A-1001" in a["reply"])
    (root,) = [s for s in spans.of_trace(int(order["trace_id"], 16)) if s.parent is None]
    assert root.attributes["agentops.session.llm_calls"] == 1
    assert root.attributes["agentops.session.tool_calls"] == 1
    assert root.attributes["gen_ai.usage.output_tokens"] == len(order["reply"].split())


def test_a_request_without_a_conversation_starts_one(chat, server_url, spans):
    first = chat.talk(server_url, "", "Hi")
    assert first["conversation_id"]
    second = chat.talk(server_url, first["conversation_id"], "Again")
    assert second["conversation_id"] == first["conversation_id"]
    assert {r.attributes["session.id"] for r in spans.roots()} == {first["conversation_id"]}


def test_a_bad_request_starts_no_run(server_url, spans):
    request = urllib.request.Request(f"{server_url}/chat", data=b"not json")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)
    assert raised.value.code == 400
    assert json.load(raised.value)["error"]
    assert spans.all() == []


@pytest.mark.parametrize("capture", [False, True])
def test_messages_are_on_the_run_only_when_content_capture_is_on(
    chat, server_url, spans, capture, monkeypatch
):
    if capture:  # as the example's docstring turns it on
        monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "span_only")
    configure()  # the example's init() reads it
    answer = chat.talk(server_url, "c-3", "Where is my order?", user_id="u-3")
    (root,) = spans.roots()
    shown = (root.attributes.get("input.value"), root.attributes.get("output.value"))
    assert shown == (("Where is my order?", answer["reply"]) if capture else (None, None))
    assert root.attributes["user.id"] == "u-3"
    usage = answer["usage"]
    assert (usage["input_tokens"], usage["output_tokens"]) == (
        root.attributes["gen_ai.usage.input_tokens"],
        root.attributes["gen_ai.usage.output_tokens"],
    )
