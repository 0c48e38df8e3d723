"""Misuse: one warning naming the fix by default, AgentOpsError subclasses in strict mode."""

from __future__ import annotations

import pytest

import opentelemetry_instrumentation_agentops as agentops
from opentelemetry_instrumentation_agentops import (
    AgentOpsError,
    AmbiguousSessionError,
    InvalidArgumentError,
    InvalidEndStateError,
    NoSessionError,
    SessionEndedError,
)


def test_end_session_with_no_session_warns_and_returns_none(warnings_log):
    assert agentops.end_session() is None
    (message,) = warnings_log()
    assert "no running session" in message
    assert "start_session()" in message


def test_ambiguous_module_calls_do_nothing_and_say_so(spans, warnings_log):
    first = agentops.start_session()
    second = agentops.start_session()
    with first.activate():
        pass
    # Leave the context with no session: run the call from a fresh context.
    import contextvars

    def outside():
        from opentelemetry import context

        context.attach(context.Context())
        agentops.record(agentops.ActionEvent(action_type="where"))
        return agentops.end_session()

    assert contextvars.Context().run(outside) is None
    assert first.is_running
    assert second.is_running
    messages = warnings_log()
    assert len(messages) == 2
    assert all("2 sessions are running" in m for m in messages)
    assert "session.record()" in messages[0]
    where = spans.one("action where")
    assert "session.id" not in where.attributes
    assert first.get_analytics()["Actions"] == second.get_analytics()["Actions"] == 0


def test_single_running_session_is_found_from_another_thread():
    import threading

    session = agentops.start_session()
    found = []
    thread = threading.Thread(target=lambda: found.append(agentops.get_current_session()))
    thread.start()
    thread.join()
    assert found == [session]


def test_ending_twice_warns_once_and_keeps_the_first_state(spans, warnings_log):
    session = agentops.start_session()
    session.end_session("Fail")
    analytics = session.end_session("Success")
    assert session.end_state == "Fail"
    assert analytics["Errors"] == 0
    assert len(spans.named("session")) == 1
    # One warning about the second end (the one-time "no LLM call" hint may come too, when a
    # test before this one imported an LLM client without instrumenting it).
    ended = [m for m in warnings_log() if "already ended" in m]
    assert len(ended) == 1, warnings_log()


def test_recording_into_an_ended_session_warns_and_keeps_the_event(spans, warnings_log):
    session = agentops.start_session()
    session.end_session()
    session.record(agentops.ActionEvent(action_type="late"))
    late = spans.one("action late")
    assert late.context.trace_id == session.trace_id
    assert session.get_analytics()["Actions"] == 0
    assert any("already ended" in m or "has already ended" in m for m in warnings_log())


def test_recording_a_non_event_keeps_it(spans, warnings_log):
    agentops.start_session()
    agentops.record({"not": "an event"})
    assert spans.one("action dict")
    assert "record() takes an event" in warnings_log()[0]


def test_wrong_tag_types_are_coerced(warnings_log):
    session = agentops.start_session(tags=42)
    assert session.tags == ["42"]
    assert "tags must be a list of strings" in warnings_log()[0]


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: agentops.end_session(), NoSessionError),
        (lambda: agentops.record(agentops.ActionEvent()), NoSessionError),
        (lambda: agentops.add_tags(["x"]), NoSessionError),
        (lambda: agentops.set_tags(["x"]), NoSessionError),
        (lambda: agentops.start_session(tags=object()), InvalidArgumentError),
        (lambda: agentops.start_session(inherited_session_id="nope"), InvalidArgumentError),
    ],
)
def test_strict_mode_raises_the_documented_error(call, error):
    agentops.init(strict=True, auto_start_session=False)
    with pytest.raises(error) as raised:
        call()
    assert isinstance(raised.value, AgentOpsError)
    assert str(raised.value)


def test_strict_mode_from_environment(monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_AGENTOPS_STRICT", "true")
    agentops.init(auto_start_session=False)
    with pytest.raises(NoSessionError, match="no running session"):
        agentops.end_session()


def test_strict_ambiguous_and_end_state_errors():
    agentops.init(strict=True, auto_start_session=False)
    session = agentops.start_session()
    with pytest.raises(InvalidEndStateError, match="Unknown end state"):
        session.end_session("Maybe")
    assert session.is_running  # nothing changed
    session.end_session("Success")
    with pytest.raises(SessionEndedError):
        session.end_session("Success")
    agentops.start_session()
    agentops.start_session()
    import contextvars

    from opentelemetry import context

    def outside():
        context.attach(context.Context())
        agentops.record(agentops.ActionEvent())

    with pytest.raises(AmbiguousSessionError, match=r"session\.record"):
        contextvars.Context().run(outside)


def test_no_detach_errors_are_ever_logged(caplog):
    import threading

    session = agentops.start_session()
    thread = threading.Thread(target=session.end_session)
    thread.start()
    thread.join()
    agentops.start_session()
    assert "Failed to detach context" not in caplog.text
