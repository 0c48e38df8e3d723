"""Security: no content by default, secrets redacted when content is captured, the API key
never exported or logged, sizes capped.

A marker string is planted in every place content can come from (prompts, completions,
event params/returns/logs, tool arguments and results, decorated functions' arguments,
return values and yields, patched calls), inside structures Hypothesis draws. Every
exported span is then searched for it in full: name, attributes, events, links, status.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections import namedtuple
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.network import otlp_collector
from support.runtime import configure, settings_repr
from support.span_file import last_json
from support.spans import CONTENT_KEYS

import opentelemetry_instrumentation_agentops as agentops

from .agents import run_agent
from .checks import LEDGER, TRUNCATED, assert_valid_export, reset
from .test_bad_input import FUZZ

pytestmark = pytest.mark.reliability

SECRET_WORDS = ["api_key", "apikey", "api-key", "password", "passwd", "token", "authorization"]
SECRET_WORDS.append("secret")


# -- where values hide --------------------------------------------------------------------


class Holder:
    """A plain object: its attributes are its ``__dict__``."""


def _identifier(key: str) -> str:
    name = "".join(c if c.isalnum() else "_" for c in key)
    return name if name.isidentifier() else f"f_{name}"


def _wrap(kind: str, key: str, value: Any) -> Any:
    """``value`` under ``key`` in a container of ``kind``."""
    if kind == "dict":
        return {key: value, "neighbour": 1}
    if kind == "list":
        return ["before", value]
    if kind == "pair":  # headers as a list of (name, value)
        return [(key, value)]
    if kind == "object":
        holder = Holder()
        setattr(holder, key, value)
        return holder
    name = _identifier(key)
    if kind == "namedtuple":
        return namedtuple("Record", [name, "other"])(value, 0)
    cls = dataclasses.make_dataclass("Record", [name], slots=kind == "slotted dataclass")
    return cls(value)


CONTAINERS = ["dict", "list", "pair", "object", "dataclass", "slotted dataclass", "namedtuple"]


@st.composite
def hidden(draw: st.DrawFn, key_strategy: st.SearchStrategy[str], levels: int = 5) -> Any:
    """A fresh marker and a structure (up to ``levels`` containers deep) holding it."""
    marker = f"MARK{uuid.uuid4().hex}"
    value: Any = draw(st.sampled_from([marker, f"text around {marker} here"]))
    for _ in range(draw(st.integers(1, levels))):
        key = draw(key_strategy)
        value = _wrap(draw(st.sampled_from(CONTAINERS)), key, value)
    return marker, value


PLAIN_KEYS = st.sampled_from(["query", "messages", "content", "q", "input"])


def _case(word: str, style: str) -> str:
    return {"lower": word, "upper": word.upper(), "title": word.title()}[style]


SECRET_KEYS = st.builds(
    lambda prefix, word, style, suffix: prefix + _case(word, style) + suffix,
    st.sampled_from(["", "openai_", "x-", "db_", "client_", "access_", "proxy-"]),
    st.sampled_from(SECRET_WORDS),
    st.sampled_from(["lower", "upper", "title"]),
    st.sampled_from(["", "_value", "Header", "s"]),
)


@st.composite
def secret(draw: st.DrawFn) -> tuple[str, Any]:
    """A marker stored under a secret-looking key, somewhere in a structure."""
    marker = f"SECRET{uuid.uuid4().hex}"
    value = _wrap(draw(st.sampled_from(CONTAINERS[:1] + CONTAINERS[2:])), draw(SECRET_KEYS), marker)
    # Shallow enough for every slot to capture it whole (captured content stops at 8 levels).
    for _ in range(draw(st.integers(0, 2))):
        value = _wrap(draw(st.sampled_from(CONTAINERS)), draw(PLAIN_KEYS), value)
    return marker, value


# -- every place content comes from --------------------------------------------------------


def exercise(value: Any) -> None:
    """Put ``value`` in every content slot of a session."""
    session = agentops.start_session(name="exposed")
    agentops.record(agentops.LLMEvent(model="m", prompt=value, completion=value, params=value))
    agentops.record(agentops.ToolEvent(name="t", params=value, returns=value, logs=value))
    agentops.record(agentops.ActionEvent(action_type="a", params=value, returns=value, logs=value))
    agentops.record(agentops.ErrorEvent(error_type="E", logs=value))
    agentops.record(value)  # not an event: kept as an action, the value as its logs

    @agentops.record_tool("tool")
    def tool(argument: Any, *more: Any, **options: Any) -> Any:
        return value

    @agentops.record_action("steps")
    def steps(argument: Any):
        yield value
        return value

    @agentops.record_action("later")
    async def later(argument: Any) -> Any:
        return value

    @agentops.track_agent("agent")
    class Agent:
        def __init__(self, setting: Any) -> None:
            self.setting = setting

        @agentops.record_action("work")
        def work(self, argument: Any) -> Any:
            return value

    tool(value, value, option=value)
    list(steps(value))
    asyncio.run(later(value))
    Agent(value).work(value)
    session.patch(lambda argument: value)(value)
    session.end_session("Success")


def everything(spans) -> str:
    """All exported spans, in full, as one text (resource included)."""
    return "\n".join(s.to_json(indent=None) for s in spans.all())


@FUZZ
@given(planted=hidden(PLAIN_KEYS))
def test_with_default_settings_no_content_is_exported(spans, quiet, planted):
    reset(spans)
    marker, value = planted
    exercise(value)
    text = everything(spans)
    assert marker not in text
    for span in spans.all():
        assert not set(CONTENT_KEYS) & set(span.attributes), span.name
    assert_valid_export(spans.all())
    LEDGER["hypothesis examples"] += 1


@FUZZ
@given(planted=secret(), visible=hidden(PLAIN_KEYS, levels=2))
def test_with_content_captured_secret_looking_keys_are_redacted(spans, quiet, planted, visible):
    reset(spans)
    configure(capture_content=True)
    secret_marker, secret_value = planted
    visible_marker, visible_value = visible
    exercise({"visible": visible_value, "hidden": secret_value})
    text = everything(spans)
    assert visible_marker in text  # content is captured...
    assert secret_marker not in text  # ...but never a secret
    assert "[REDACTED]" in text
    assert_valid_export(spans.all())
    LEDGER["hypothesis examples"] += 1


@pytest.mark.parametrize("content", [False, True])
def test_captured_and_other_text_is_capped(spans, monkeypatch, content):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_AGENTOPS_CONTENT_MAX_LENGTH", "100")
    agentops.init(capture_content=content, auto_start_session=False)
    huge = "x" * 1_000_000
    exercise({"text": huge, "items": [huge] * 500, "nested": {"deep": huge}})
    with agentops.start_session(name=huge, tags=[huge] * 500, attributes={"a": huge}):
        agentops.record(agentops.ActionEvent(action_type=huge))
        agentops.end_session("Fail", huge)
    for span in spans.all():
        for key in CONTENT_KEYS:
            assert len(span.attributes.get(key, "")) <= 100 + len(TRUNCATED), (span.name, key)
    assert_valid_export(spans.all())  # every text within max(content cap, 1024) + mark
    assert max(len(s.name) for s in spans.all()) <= 200 + len("execute_tool ") + len(TRUNCATED)


# -- the API key -----------------------------------------------------------------------------

API_KEY = "sk-agentops-" + "7f3c" * 8


def test_api_key_is_in_no_span_and_no_log_in_process(spans, caplog):
    caplog.set_level(logging.DEBUG)
    agentops.init(API_KEY, parent_key=API_KEY, endpoint="https://api.agentops.ai")
    agentops.record(agentops.LLMEvent(model="m", params={"api_key": API_KEY}))
    agentops.end_session("Success")
    assert spans.all()
    assert API_KEY not in everything(spans)
    assert API_KEY not in caplog.text
    assert API_KEY not in settings_repr()


API_KEY_AGENT = """
import logging

logging.basicConfig(level=logging.DEBUG)  # every log line of every library
key = os.environ["THE_KEY"]
agentops.init(key, parent_key=key, endpoint="https://api.agentops.ai", max_wait_time=5)
agentops.record(agentops.LLMEvent(model="m", prompt="hi", completion="hello"))
agentops.end_session("Success")
with agentops.start_session(name="second"):
    agentops.record(agentops.ToolEvent(name="t", params={"api_key": key}))
report(done=True)
"""


def test_api_key_is_in_no_otlp_request_and_no_output_of_the_agent(tmp_path):
    with otlp_collector() as (endpoint, received):
        result, _ = run_agent(
            tmp_path,
            API_KEY_AGENT,
            THE_KEY=API_KEY,
            OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
            OTEL_SERVICE_NAME="key-check",
        )
    assert result.returncode == 0, result.stderr[-2000:]
    assert last_json(result.stdout)["done"] is True
    payload = b"".join(body for _, body in received)
    assert b"key-check" in payload and b"session second" in payload  # the spans did arrive
    assert API_KEY.encode() not in payload  # spans and resource, as sent
    assert API_KEY not in result.stdout
    assert API_KEY not in result.stderr
    assert "DEBUG" in result.stderr  # debug logging was really on
