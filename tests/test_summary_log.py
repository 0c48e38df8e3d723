"""The one INFO line that summarises each ended session, and the setting that turns it off."""

from __future__ import annotations

import logging
import re

import pytest
from conftest import LOGGER, PROVIDER, hex_trace
from support.runtime import fresh_runtime, hand_clock

import opentelemetry_instrumentation_agentops as agentops

SUMMARY_ENV = "OTEL_INSTRUMENTATION_AGENTOPS_SESSION_SUMMARY"

SUMMARY = re.compile(
    r"Session (?P<name>.+) ended (?P<state>\w+) \| Duration: (?P<duration>[^|]+) \| "
    r"LLM calls: (?P<llm>\d+) \| Tool calls: (?P<tools>\d+) \| Actions: (?P<actions>\d+) \| "
    r"Errors: (?P<errors>\d+) \| Tokens: (?P<input>\d+) in, (?P<output>\d+) out \| "
    r"Cost: \$(?P<cost>[\d.]+) \| trace_id=(?P<trace_id>[0-9a-f]{32})$"
)


@pytest.fixture
def summaries(caplog):
    """The summary lines logged so far, parsed."""
    caplog.set_level(logging.INFO, logger=LOGGER)

    def parsed() -> list[dict[str, str]]:
        lines = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.INFO]
        matches = [SUMMARY.match(r.getMessage()) for r in lines]
        assert all(matches), [r.getMessage() for r in lines]
        return [m.groupdict() for m in matches if m]

    return parsed


@pytest.fixture
def clock(monkeypatch):
    """The wall clock, moved by hand: ``clock(65.5)`` moves it on by 65.5 seconds."""
    return hand_clock(monkeypatch)


def test_ended_session_logs_one_line_with_its_totals(summaries, clock):
    session = agentops.start_session(name="billing desk")
    session.record(
        agentops.LLMEvent(model="gpt-4o", prompt_tokens=100, completion_tokens=20, cost=0.25)
    )
    session.record(
        agentops.LLMEvent(model="gpt-4o", prompt_tokens=5, completion_tokens=7, cost=0.5)
    )
    session.record(agentops.ToolEvent(name="lookup_invoice"))
    for _ in range(3):
        session.record(agentops.ActionEvent(action_type="reply"))
    session.record(agentops.ErrorEvent(error_type="Timeout"))
    # Another instrumentation's chat span in the session's trace counts too, with its tokens.
    chat = {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 3}
    with (
        session.activate(),
        PROVIDER.get_tracer("other").start_as_current_span("chat", attributes=chat),
    ):
        pass
    clock(65.5)
    session.end_session("Fail", "the invoice service timed out")

    (line,) = summaries()
    assert line == {
        "name": "billing desk",
        "state": "Fail",
        "duration": "1m 5.5s",
        "llm": "3",
        "tools": "1",
        "actions": "3",
        "errors": "1",
        "input": "108",
        "output": "27",
        "cost": "0.750000",
        "trace_id": hex_trace(session.trace_id),
    }


def test_unnamed_session_is_named_by_its_id_and_an_empty_one_logs_zeros(summaries):
    session = agentops.start_session()
    agentops.end_session()
    (line,) = summaries()
    assert line["name"] == session.session_id
    assert line["state"] == "Success"
    assert [line[k] for k in ("llm", "tools", "actions", "errors", "input", "output")] == ["0"] * 6
    assert line["cost"] == "0.00"
    assert re.fullmatch(r"\d+\.\ds", line["duration"])


def test_each_session_logs_once(warnings_log, summaries):
    # warnings_log first: it sets WARNING, summaries then lowers the level to INFO.
    first = agentops.start_session(name="first")
    second = agentops.start_session(name="second")
    second.end_session("Indeterminate")
    first.end_session()
    first.end_session()  # a second end warns; it logs no second summary
    assert [(s["name"], s["state"]) for s in summaries()] == [
        ("second", "Indeterminate"),
        ("first", "Success"),
    ]
    assert any("already ended" in m for m in warnings_log())


@pytest.mark.parametrize("value", ["false", "0", "off", "no"])
def test_the_setting_turns_it_off(summaries, monkeypatch, value):
    monkeypatch.setenv(SUMMARY_ENV, value)
    fresh_runtime()  # a process started with the variable set
    agentops.start_session(name="quiet").end_session()
    assert summaries() == []


def test_init_reads_the_setting(summaries, monkeypatch):
    monkeypatch.setenv(SUMMARY_ENV, "false")
    session = agentops.init(auto_start_session=True)
    agentops.end_session()
    assert not session.is_running
    assert summaries() == []
    monkeypatch.setenv(SUMMARY_ENV, "true")
    agentops.init(auto_start_session=True)
    agentops.end_session()
    assert [s["state"] for s in summaries()] == ["Success"]
