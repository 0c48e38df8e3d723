"""Content capture: off by default; JSON, capped and redacted when opted in."""

from __future__ import annotations

import json

import pytest
from support.spans import CONTENT_KEYS

import opentelemetry_instrumentation_agentops as agentops

SECRET = "sk-live-1234567890"


def _record_everything():
    agentops.record(agentops.LLMEvent(model="m", prompt="hello prompt", completion="hi there"))
    agentops.record(agentops.ToolEvent(name="t", params={"q": "query"}, returns="result"))
    agentops.record(agentops.ActionEvent(action_type="a", params={"p": 1}, returns=[1, 2]))

    @agentops.record_tool("fn")
    def fn(question, api_key=SECRET):
        return {"answer": 42, "token": SECRET}

    fn("what?")


def test_no_content_by_default(spans):
    agentops.start_session()
    _record_everything()
    for span in spans.all():
        for key in CONTENT_KEYS:
            assert key not in span.attributes, (span.name, key)
        text = repr(dict(span.attributes))
        assert "hello prompt" not in text
        assert "what?" not in text
        assert SECRET not in text


@pytest.mark.parametrize("value", ["true", "span_only", "SPAN_AND_EVENT"])
def test_content_on_from_environment(monkeypatch, spans, value):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", value)
    agentops.init(auto_start_session=True)
    _record_everything()
    llm = spans.one("chat m")
    assert json.loads(llm.attributes["gen_ai.input.messages"]) == "hello prompt"
    assert json.loads(llm.attributes["gen_ai.output.messages"]) == "hi there"
    tool = spans.one("execute_tool t")
    assert json.loads(tool.attributes["gen_ai.tool.call.arguments"]) == {"q": "query"}


def test_capture_redacts_secret_keys(spans):
    agentops.init(capture_content=True)
    _record_everything()
    fn = spans.one("execute_tool fn")
    arguments = json.loads(fn.attributes["gen_ai.tool.call.arguments"])
    result = json.loads(fn.attributes["gen_ai.tool.call.result"])
    assert arguments == {"question": "what?", "api_key": "[REDACTED]"}
    assert result == {"answer": 42, "token": "[REDACTED]"}
    assert all(SECRET not in repr(dict(s.attributes)) for s in spans.all())


@pytest.mark.parametrize(("variable", "cap"), [(None, 4096), ("100", 100)])
def test_captured_content_is_truncated(spans, monkeypatch, variable, cap):
    if variable is not None:
        monkeypatch.setenv("OTEL_INSTRUMENTATION_AGENTOPS_CONTENT_MAX_LENGTH", variable)
    agentops.init(capture_content=True)
    agentops.record(agentops.LLMEvent(model="big", prompt="x" * 100_000))
    value = spans.one("chat big").attributes["gen_ai.input.messages"]
    assert len(value) == cap + len("...[truncated]")
    assert value.endswith("...[truncated]")


def test_cycles_and_broken_repr_do_not_break_capture(spans):
    class Broken:
        def __repr__(self):
            raise RuntimeError("no repr")

        __str__ = __repr__

    cyclic = {"name": "loop"}
    cyclic["self"] = cyclic
    agentops.init(capture_content=True)
    agentops.record(agentops.ActionEvent(action_type="odd", params={"c": cyclic, "b": Broken()}))
    params = json.loads(spans.one("action odd").attributes["agentops.event.params"])
    assert params["c"]["self"] == "<cycle>"
    assert "unrepresentable" in params["b"]


def test_token_counts_are_not_mistaken_for_secrets(spans):
    agentops.init(capture_content=True)
    agentops.record(
        agentops.ActionEvent(
            action_type="p", params={"max_tokens": 5, "access_token": SECRET, "X-Auth-Token": 1}
        )
    )
    params = json.loads(spans.one("action p").attributes["agentops.event.params"])
    assert params == {"max_tokens": 5, "access_token": "[REDACTED]", "X-Auth-Token": "[REDACTED]"}
