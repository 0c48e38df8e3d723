"""init() turns on LLM client instrumentations; session= on LLM calls; the two one-time hints."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import openai
import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor
from support.runtime import configure

import opentelemetry_instrumentation_agentops as agentops
from examples.fake_openai import FakeOpenAIServer
from opentelemetry_instrumentation_agentops._engine import instrumentations

MESSAGES = [{"role": "user", "content": "Where is my order?"}]
LOGGER = "opentelemetry_instrumentation_agentops"


@pytest.fixture(scope="module")
def server():
    with FakeOpenAIServer() as fake:
        yield fake


@pytest.fixture
def no_openai_instrumentation():
    """The OpenAI instrumentation off before and after the test, and no session= wrapper."""
    OpenAIInstrumentor().uninstrument()
    yield
    OpenAIInstrumentor().uninstrument()


def turned_on(caplog) -> list[str]:
    """What init() said it turned on (one debug line, when it turned anything on)."""
    prefix = "init(): LLM call instrumentations turned on: "
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    return [line.removeprefix(prefix) for line in lines if line.startswith(prefix)]


def test_init_turns_on_the_installed_openai_instrumentation(no_openai_instrumentation, caplog):
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    agentops.init(auto_start_session=False)
    assert turned_on(caplog) == ["openai (opentelemetry-instrumentation-genai-openai)"]
    assert OpenAIInstrumentor().is_instrumented_by_opentelemetry
    agentops.init(auto_start_session=False)
    assert len(turned_on(caplog)) == 1  # never one already instrumented


def test_init_leaves_an_instrumentation_already_active_alone(no_openai_instrumentation, caplog):
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    OpenAIInstrumentor().instrument()  # as opentelemetry-instrument would
    agentops.init(auto_start_session=False)
    assert turned_on(caplog) == []


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_instrument_llm_calls_can_be_turned_off(no_openai_instrumentation, monkeypatch, how):
    if how == "argument":
        agentops.init(auto_start_session=False, instrument_llm_calls=False)
    else:
        monkeypatch.setenv("OTEL_INSTRUMENTATION_AGENTOPS_INSTRUMENT_LLM_CALLS", "false")
        agentops.init(auto_start_session=False)
    assert not OpenAIInstrumentor().is_instrumented_by_opentelemetry


def test_official_genai_instrumentations_come_first():
    def entry_point(dist: str):
        return SimpleNamespace(dist=SimpleNamespace(name=dist))

    names = [
        "openinference-instrumentation-openai",
        "opentelemetry-instrumentation-openai-v2",
        "opentelemetry-instrumentation-genai-openai",
        "opentelemetry-instrumentation-openai",
    ]
    ranked = sorted((entry_point(n) for n in names), key=instrumentations._preference)
    assert [e.dist.name for e in ranked] == [
        "opentelemetry-instrumentation-genai-openai",
        "opentelemetry-instrumentation-openai",
        "opentelemetry-instrumentation-openai-v2",
        "openinference-instrumentation-openai",
    ]


def test_only_the_instruments_extra_names_the_library():
    dist = SimpleNamespace(
        requires=[
            "opentelemetry-api~=1.43",
            "openai<4,>=1.26; extra == 'instruments'",
            "anthropic; extra == 'test'",
            "litellm",  # a plain dependency is not what it instruments
        ]
    )
    assert instrumentations._instrumented_libraries(SimpleNamespace(dist=dist)) == ["openai"]


def test_session_keyword_runs_each_call_in_its_session(
    server, no_openai_instrumentation, spans, openai_instrumented
):
    agentops.init(auto_start_session=False)
    client = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0)
    aclient = openai.AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0)
    first, second = agentops.start_session(name="one"), agentops.start_session(name="two")
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, session=first)
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, session=second
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    asyncio.run(
        aclient.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, session=first)
    )
    assert all("session" not in body for body in server.received[-3:])
    first.end_session("Success")
    second.end_session("Success")
    chats = spans.named("chat gpt-4o-mini")
    by_trace = {s: [c for c in chats if c.context.trace_id == s.trace_id] for s in (first, second)}
    assert [len(by_trace[first]), len(by_trace[second])] == [2, 1]
    assert [first.get_analytics()["LLM calls"], second.get_analytics()["LLM calls"]] == [2, 1]


def test_session_keyword_never_reaches_the_client_without_instrumentation(
    server, no_openai_instrumentation, monkeypatch
):
    monkeypatch.setenv("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "openai")
    agentops.init(auto_start_session=False)  # turns on LLM client instrumentations, not this one
    assert not OpenAIInstrumentor().is_instrumented_by_opentelemetry
    client = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0)
    session = agentops.start_session()
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, session=session)
    assert reply.choices[0].message.content
    session.end_session("Success")


def test_one_hint_when_sessions_record_no_llm_call_with_openai_uninstrumented(
    no_openai_instrumentation, monkeypatch, warnings_log
):
    logging.getLogger("opentelemetry_instrumentation_agentops").disabled = False
    for _ in range(2):
        agentops.start_session().end_session("Success")
    hints = [m for m in warnings_log() if "recorded no LLM call" in m]
    assert len(hints) == 1
    assert "opentelemetry-instrumentation-agentops[openai]" in hints[0]


def test_no_hint_when_openai_is_instrumented(
    no_openai_instrumentation, monkeypatch, warnings_log, openai_instrumented
):
    logging.getLogger("opentelemetry_instrumentation_agentops").disabled = False
    agentops.start_session().end_session("Success")
    assert not [m for m in warnings_log() if "recorded no LLM call" in m]


def test_one_warning_when_sessions_end_on_a_no_op_provider(monkeypatch, warnings_log):
    logging.getLogger("opentelemetry_instrumentation_agentops").disabled = False
    configure(tracer_provider=trace.NoOpTracerProvider())
    for _ in range(2):
        agentops.start_session().end_session("Success")
    warned = [m for m in warnings_log() if "nothing is exported" in m]
    assert len(warned) == 1
    configure(tracer_provider=trace.get_tracer_provider())
    agentops.start_session().end_session("Success")  # the test run's SDK provider: no warning
    assert len([m for m in warnings_log() if "nothing is exported" in m]) == 1


def test_no_warning_when_switched_off_on_purpose(monkeypatch, warnings_log):
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    logging.getLogger("opentelemetry_instrumentation_agentops").disabled = False
    configure(tracer_provider=trace.NoOpTracerProvider())
    agentops.start_session().end_session("Success")
    assert not [m for m in warnings_log() if "nothing is exported" in m]
