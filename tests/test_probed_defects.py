"""Defects found by probing the engine (issue 11, a-f), each pinned by a test.

c (a provider's truth test in compat) lives with the compat tests, d (a broken
provider aborting the instrumentor) in test_instrumentor.py and e (uncaught
errors of worker threads) in test_threads.py.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from opentelemetry import context
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import StatusCode

import opentelemetry_instrumentation_agentops as agentops

# -- a. session= under suppress_instrumentation() -------------------------------------------


def test_the_session_keyword_never_reaches_the_function_when_instrumentation_is_suppressed():
    @agentops.record_action("step")
    def step(value):
        return value

    session = agentops.start_session()
    with suppress_instrumentation():
        assert step(1, session=session) == 1
    session.end_session()


def test_the_session_keyword_never_reaches_a_generator_when_instrumentation_is_suppressed():
    @agentops.record_tool("lines")
    def lines(count):
        yield from range(count)

    session = agentops.start_session()
    with suppress_instrumentation():
        assert list(lines(2, session=session)) == [0, 1]
    session.end_session()


# -- b. cancellation and interrupts are no errors ----------------------------------------------


def test_a_cancelled_coroutine_is_no_error_and_its_span_says_so(spans):
    @agentops.record_action("wait")
    async def wait():
        await asyncio.sleep(10)

    async def main():
        with agentops.start_session() as session:
            task = asyncio.ensure_future(wait())
            await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        return session

    session = asyncio.run(main())
    span = spans.one("action wait")
    assert span.status.status_code is not StatusCode.ERROR
    assert span.attributes["agentops.call.interrupted_by"] == "CancelledError"
    assert not [e for e in span.events if e.name == "exception"]
    root = spans.root_of(session)
    assert root.attributes["agentops.session.errors"] == 0
    assert root.attributes["agentops.session.actions"] == 1
    assert root.attributes["agentops.session.end_state"] == "Success"


def test_keyboard_interrupt_in_a_decorated_call_is_no_error(spans):
    @agentops.record_tool("ask")
    def ask():
        raise KeyboardInterrupt

    session = agentops.start_session()
    with pytest.raises(KeyboardInterrupt):
        ask()
    session.end_session()
    span = spans.one("execute_tool ask")
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes["agentops.call.interrupted_by"] == "KeyboardInterrupt"
    assert spans.root_of(session).attributes["agentops.session.errors"] == 0


def test_a_generator_stopped_by_generator_exit_is_no_error(spans):
    @agentops.record_action("stream")
    def stream():
        yield 1
        yield 2

    session = agentops.start_session()
    items = stream()
    assert next(items) == 1
    items.close()
    session.end_session()
    span = spans.one("action stream")
    assert span.status.status_code is not StatusCode.ERROR
    assert spans.root_of(session).attributes["agentops.session.errors"] == 0


def test_a_session_block_left_by_cancellation_ends_indeterminate_naming_it(spans):
    async def run():
        with agentops.start_session() as session:
            SESSIONS.append(session)
            await asyncio.sleep(10)

    SESSIONS: list = []

    async def main():
        task = asyncio.ensure_future(run())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    (session,) = SESSIONS
    assert session.end_state == "Indeterminate"
    assert "CancelledError" in session.end_state_reason
    root = spans.root_of(session)
    assert root.status.status_code is StatusCode.UNSET
    assert root.attributes["agentops.session.errors"] == 0


def test_the_exception_that_fails_a_session_counts_once(spans):
    @agentops.record_action("step")
    def step():
        raise ValueError("boom")

    with pytest.raises(ValueError), agentops.start_session() as session:
        step()
    root = spans.root_of(session)
    assert root.attributes["agentops.session.end_state"] == "Fail"
    assert root.attributes["agentops.session.errors"] == 1  # the step's error is the session's


def test_an_exception_failing_a_session_by_itself_is_one_error(spans):
    with pytest.raises(RuntimeError), agentops.start_session() as session:
        raise RuntimeError("no step")
    assert spans.root_of(session).attributes["agentops.session.errors"] == 1
    assert session.get_analytics()["Errors"] == 1


# -- f. an event recorded after its session ended ----------------------------------------------


@pytest.fixture
def own_context():
    """These tests leave an ended session current on purpose: put the context back."""
    token = context.attach(context.get_current())
    yield
    context.detach(token)


def test_an_event_recorded_in_the_trace_of_an_ended_session_carries_its_id(spans, own_context):
    session = agentops.start_session()
    ender = threading.Thread(target=session.end_session)  # ended elsewhere: still current here
    ender.start()
    ender.join()
    agentops.record(agentops.ActionEvent(action_type="late"))
    late = spans.one("action late")
    assert late.context.trace_id == session.trace_id
    assert late.attributes["session.id"] == session.session_id


def test_a_decorated_call_in_the_trace_of_an_ended_session_carries_its_id(spans, own_context):
    @agentops.record_action("late")
    def late():
        return None

    session = agentops.start_session()
    ender = threading.Thread(target=session.end_session)
    ender.start()
    ender.join()
    late()
    span = spans.one("action late")
    assert span.context.trace_id == session.trace_id
    assert span.attributes["session.id"] == session.session_id
