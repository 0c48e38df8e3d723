"""Sessions you can recognise: the user a session served, and (content capture on only) the
input and output of each run on its root, from ``set_input()`` / ``set_output()`` or from the
run's LLM calls in every convention the totals read.
"""

from __future__ import annotations

import gc
import json
import logging
import types
import weakref
from typing import Any

import openai
import pytest
from opentelemetry.sdk.trace import SpanProcessor, Tracer, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter
from support.runtime import Tracer as VendorTracer
from support.runtime import configure, is_the_runtime
from test_live import wait_for

import opentelemetry_instrumentation_agentops as agentops
from examples.fake_openai import FakeOpenAIServer

CLIENT = VendorTracer("vendor.client")
QUESTION, FOLLOW_UP = "Where is my order A-1001?", "And can I get a refund?"
FIRST_ANSWER, LAST_ANSWER = "It shipped yesterday.", "Yes: the refund is on its way."
CONTENT = ("input.value", "output.value", "gen_ai.input.messages", "gen_ai.output.messages")


def _genai(question: str, answer: str) -> dict[str, Any]:
    history = [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": question}]},
        {"role": "assistant", "parts": [{"type": "tool_call", "id": "1", "name": "lookup"}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "1", "response": "ok"}]},
    ]
    answers = [{"role": "assistant", "parts": [{"type": "text", "content": answer}]}]
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.input.messages": json.dumps(history),
        "gen_ai.output.messages": json.dumps(answers),
    }


def _openinference(question: str, answer: str) -> dict[str, Any]:
    return {
        "openinference.span.kind": "LLM",
        "llm.input_messages.0.message.role": "system",
        "llm.input_messages.0.message.content": "Be brief.",
        "llm.input_messages.1.message.role": "user",
        "llm.input_messages.1.message.content": question,
        "llm.input_messages.2.message.role": "assistant",
        "llm.input_messages.2.message.content": "Let me look.",
        "llm.output_messages.0.message.role": "assistant",
        "llm.output_messages.0.message.content": answer,
        "input.value": json.dumps({"messages": [{"role": "user", "content": "not this"}]}),
    }


def _openinference_values(question: str, answer: str) -> dict[str, Any]:
    """OpenInference with no message attributes: the OpenAI request and response as values."""
    request = {
        "model": "m",
        "messages": [{"role": "user", "content": [{"type": "text", "text": question}]}],
    }
    response = {"choices": [{"index": 0, "message": {"role": "assistant", "content": answer}}]}
    return {
        "openinference.span.kind": "LLM",
        "input.value": json.dumps(request),
        "input.mime_type": "application/json",
        "output.value": json.dumps(response),
        "output.mime_type": "application/json",
    }


def _openllmetry(question: str, answer: str) -> dict[str, Any]:
    return {
        "llm.request.type": "chat",
        "gen_ai.prompt.0.role": "system",
        "gen_ai.prompt.0.content": "Be brief.",
        "gen_ai.prompt.1.role": "user",
        "gen_ai.prompt.1.content": question,
        "gen_ai.completion.0.role": "assistant",
        "gen_ai.completion.0.content": answer,
    }


CONVENTIONS = {
    "genai": _genai,
    "openinference": _openinference,
    "openinference-values": _openinference_values,
    "openllmetry": _openllmetry,
}


def llm_call(attributes: dict[str, Any]) -> None:
    """One LLM call of another instrumentation in the current session."""
    with CLIENT.start_as_current_span("chat", attributes=attributes):
        pass


def run_two_calls(messages, **start: Any) -> agentops.Session:
    with agentops.start_session(**start) as session:
        llm_call(messages(QUESTION, FIRST_ANSWER))
        llm_call(messages(FOLLOW_UP, LAST_ANSWER))
    return session


def content_of(root) -> dict[str, Any]:
    found = {k: root.attributes[k] for k in CONTENT if k in root.attributes}
    for key in ("gen_ai.input.messages", "gen_ai.output.messages"):
        if key in found:
            found[key] = json.loads(found[key])
    return found


def io(question: str, answer: str) -> dict[str, Any]:
    """The content attributes of a root whose run was asked ``question`` and gave ``answer``."""
    return {
        "input.value": question,
        "output.value": answer,
        "gen_ai.input.messages": [
            {"role": "user", "parts": [{"type": "text", "content": question}]}
        ],
        "gen_ai.output.messages": [
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": answer}],
                "finish_reason": "stop",
            }
        ],
    }


@pytest.fixture
def capture() -> None:
    agentops.init(auto_start_session=False, capture_content=True, instrument_llm_calls=False)


# -- who the session served ----------------------------------------------------------------


def test_the_user_is_on_the_root_and_its_snapshots(spans, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_AGENTOPS_LIVE_INTERVAL", "0.05")
    configure()
    session = agentops.start_session(session_id="ticket-1042", user_id="u-42")
    wait_for(lambda: spans.of_trace(session.trace_id), what="a snapshot")
    session.end_session()
    root = spans.root_of(session)
    assert root.attributes["user.id"] == "u-42"
    (snapshot, *_) = [s for s in spans.of_trace(session.trace_id) if s.parent is not None]
    assert snapshot.attributes["user.id"] == "u-42"


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ({"user_id": 42}, "42"),
        ({"attributes": {"user.id": "u-7"}}, "u-7"),
        ({"attributes": {"user.id": "u-7"}, "user_id": "u-8"}, "u-8"),
    ],
)
def test_the_user_from_user_id_or_from_the_attributes(spans, start, expected):
    session = agentops.start_session(**start)
    session.end_session()
    assert session.user_id == expected
    assert spans.root_of(session).attributes["user.id"] == expected


def test_agentops_04s_dict_of_tags_names_the_user(spans):
    session = agentops.start_trace("support", tags={"user.id": "u-9", "plan": "pro"})
    agentops.end_trace(session)
    assert spans.one("session support").attributes["user.id"] == "u-9"
    assert session.user_id == "u-9"


@pytest.mark.parametrize("bad", ["", "  ", "u" * 257, ["u-1"], True])
def test_an_unusable_user_id_warns_and_the_session_runs_without_a_user(spans, warnings_log, bad):
    session = agentops.start_session(user_id=bad)
    session.end_session()
    assert "user.id" not in spans.root_of(session).attributes
    assert any("user_id must be" in m for m in warnings_log())


# -- what was said, content capture on ------------------------------------------------------


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_the_first_calls_question_and_the_last_calls_answer_in_each_convention(
    capture, spans, convention
):
    session = run_two_calls(CONVENTIONS[convention])
    root = spans.root_of(session)
    assert content_of(root) == io(QUESTION, LAST_ANSWER)
    assert root.attributes["input.mime_type"] == root.attributes["output.mime_type"] == "text/plain"


@pytest.mark.parametrize(
    ("prompt", "completion"),
    [
        (QUESTION, LAST_ANSWER),
        (
            [{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}],
            LAST_ANSWER,
        ),
    ],
)
def test_llm_events_are_calls_too(capture, spans, prompt, completion):
    with agentops.start_session() as session:
        session.record(agentops.LLMEvent(model="m", prompt=prompt, completion=completion))
    assert content_of(spans.root_of(session)) == io(QUESTION, LAST_ANSWER)


def test_the_first_call_is_the_one_that_started_first_whenever_it_ended(capture, spans):
    with agentops.start_session() as session:
        first = CLIENT.start_span("chat", attributes=_genai(QUESTION, FIRST_ANSWER))
        llm_call(_genai(FOLLOW_UP, LAST_ANSWER))
        first.end()  # the first call ends last: its answer is the run's last output
    assert content_of(spans.root_of(session)) == io(QUESTION, FIRST_ANSWER)


def test_set_input_and_set_output_win_over_the_calls(capture, spans):
    with agentops.start_session() as session:
        session.set_input("Hi, I am locked out")
        llm_call(_genai(QUESTION, FIRST_ANSWER))
        session.set_output({"reply": "Reset link sent", "api_key": "sk-secret"})
    root = spans.root_of(session)
    assert root.attributes["input.value"] == "Hi, I am locked out"
    assert root.attributes["input.mime_type"] == "text/plain"
    assert json.loads(root.attributes["output.value"]) == {
        "reply": "Reset link sent",
        "api_key": "[REDACTED]",
    }
    assert root.attributes["output.mime_type"] == "application/json"
    (answer,) = json.loads(root.attributes["gen_ai.output.messages"])
    assert json.loads(answer["parts"][0]["content"])["api_key"] == "[REDACTED]"


def test_a_run_with_no_call_and_nothing_set_has_no_input_or_output(capture, spans):
    with agentops.start_session() as session:
        llm_call({"gen_ai.operation.name": "chat"})  # a call with no messages
    root = spans.root_of(session)
    assert content_of(root) == {}
    assert root.attributes["openinference.span.kind"] == "AGENT"


def test_long_content_is_capped_and_the_messages_stay_json(spans, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_AGENTOPS_CONTENT_MAX_LENGTH", "200")
    configure(capture_content=True)
    question = "Where is my parcel? " * 40
    with agentops.start_session() as session:
        llm_call(_openllmetry(question, LAST_ANSWER))
    attributes = spans.root_of(session).attributes
    assert attributes["input.value"] == question[:200] + "...[truncated]"
    messages = attributes["gen_ai.input.messages"]
    assert len(messages) <= 200
    (message,) = json.loads(messages)
    assert message["parts"][0]["content"].startswith("Where is my parcel?")
    assert message["parts"][0]["content"].endswith("...[truncated]")


def test_a_secret_in_a_calls_message_is_redacted_on_the_root(capture, spans):
    key = "sk-proj-" + "a1B2c3D4" * 4
    with agentops.start_session() as session:
        llm_call(_openinference(f"my key is {key}, why is it refused?", LAST_ANSWER))
    attributes = spans.root_of(session).attributes
    assert key not in attributes["input.value"] + attributes["gen_ai.input.messages"]
    assert "[REDACTED]" in attributes["input.value"]


def test_setting_input_after_the_end_warns(capture, spans, warnings_log):
    session = agentops.start_session()
    session.end_session()
    session.set_output("too late")
    assert any("set_output() after session" in m for m in warnings_log())
    assert "output.value" not in spans.root_of(session).attributes


@pytest.fixture
def span_only(monkeypatch) -> None:
    """The value that turns content on here and in the official instrumentations (which
    read it when they are instrumented, and take ``true`` for no content)."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "span_only")


def test_the_official_openai_instrumentation_with_span_only(spans, span_only, openai_instrumented):
    agentops.init(auto_start_session=False, instrument_llm_calls=False)
    with FakeOpenAIServer() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0)
        with agentops.start_session(session_id="ticket-7", user_id="carol") as session:
            for question in (QUESTION, FOLLOW_UP):
                messages = [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": question},
                ]
                reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    root = spans.root_of(session)
    assert content_of(root) == io(QUESTION, reply.choices[0].message.content)
    assert root.attributes["user.id"] == "carol"


# -- content capture off --------------------------------------------------------------------


def test_capture_off_writes_nothing_and_keeps_nothing(spans):
    kept = Words("the customer's own words")
    alive = weakref.ref(kept)
    session = agentops.start_session(user_id="u-1")
    session.set_input(kept)
    session.set_output("the answer")
    llm_call(_genai("a question nobody keeps", "an answer nobody keeps"))
    llm_call(_openinference("a question nobody keeps", "an answer nobody keeps"))
    del kept
    gc.collect()
    assert alive() is None
    assert not _reachable_texts(session, "nobody keeps", "the answer")
    session.end_session()
    root = spans.root_of(session)
    assert content_of(root) == {}
    assert root.attributes["user.id"] == "u-1"  # who it served is no content


def test_capture_on_keeps_what_capture_off_does_not(capture):
    """The check above can fail: with capture on, the session holds the texts until its end."""
    session = agentops.start_session()
    session.set_output("the answer")
    llm_call(_genai("a question nobody keeps", "an answer nobody keeps"))
    assert _reachable_texts(session, "nobody keeps", "the answer") == {"nobody keeps", "the answer"}
    session.end_session()


class Words:
    def __init__(self, text: str) -> None:
        self.text = text


# Not walked: the SDK's pipeline (it holds the other instrumentations' spans), and code, whose
# globals reach every module (this one's literals included).
_NOT_THE_SESSIONS = (
    TracerProvider,
    Tracer,
    SpanProcessor,
    SpanExporter,
    type,
    types.ModuleType,
    types.FunctionType,
    types.MethodType,
    types.BuiltinFunctionType,
    types.CodeType,
    types.FrameType,
)


def _reachable_texts(start: object, *needles: str) -> set[str]:
    """Which ``needles`` are in strings the session holds (not through the SDK's pipeline)."""
    found, seen, todo = set(), set(), [start]
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, _NOT_THE_SESSIONS) or is_the_runtime(obj):
            continue
        seen.add(id(obj))
        if isinstance(obj, str):
            found.update(n for n in needles if n in obj)
            continue
        todo.extend(gc.get_referents(obj))
        if hasattr(type(obj), "__slots__"):
            todo.extend(getattr(obj, s, None) for s in _slots(type(obj)))
    return found


def _slots(cls: type) -> list[str]:
    return [s for c in cls.__mro__ for s in getattr(c, "__slots__", ()) if s != "__weakref__"]


# -- every span of the trace, the summary line ----------------------------------------------


def test_every_span_of_the_trace_carries_the_conversation_id(spans):
    with agentops.start_session(session_id="ticket-1042") as session:
        llm_call({"gen_ai.operation.name": "chat"})
        session.record(agentops.ToolEvent(name="lookup"))
    trace_spans = spans.of_trace(session.trace_id)
    assert len(trace_spans) == 3
    for span in trace_spans:
        assert span.attributes["session.id"] == "ticket-1042"
        assert span.attributes["gen_ai.conversation.id"] == "ticket-1042"


def test_the_summary_line_names_neither_the_user_nor_the_content(capture, caplog):
    caplog.set_level(logging.INFO, logger="opentelemetry_instrumentation_agentops")
    with agentops.start_session(name="support", user_id="u-secret-user") as session:
        session.set_input("my private question")
        llm_call(_genai("my private question", "a private answer"))
    (line,) = [r.getMessage() for r in caplog.records if "ended Success" in r.getMessage()]
    for private in ("u-secret-user", "private"):
        assert private not in line
    assert line.startswith("Session support ended Success")
