"""Concurrent and repeated sessions are isolated through the OTel context."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from opentelemetry import trace

import opentelemetry_instrumentation_agentops as agentops

DETACH = "Failed to detach context"


def _assert_isolated(spans, sessions, events_per_session):
    by_trace = {s.trace_id: s for s in sessions}
    assert len(by_trace) == len(sessions)
    exported = spans.all()
    assert len(exported) == len(sessions) * (events_per_session + 1)
    for span in exported:
        session = by_trace[span.context.trace_id]
        assert span.attributes["session.id"] == session.session_id
        label = span.attributes.get("agentops.action.type") or span.attributes.get(
            "gen_ai.tool.name"
        )
        if label is not None:
            assert label.endswith(f"#{session.name}"), (label, session.name)
    for session in sessions:
        analytics = session.get_analytics()
        assert analytics["Actions"] == 1
        assert analytics["Tool calls"] == events_per_session - 1


def test_fifty_threads_each_with_its_own_session(spans, caplog):
    caplog.set_level(logging.DEBUG)
    barrier = threading.Barrier(50)
    sessions = []
    lock = threading.Lock()

    def worker(n):
        session = agentops.start_session(name=str(n))
        with lock:
            sessions.append(session)
        barrier.wait()  # every session is running at once: module calls must use the context
        agentops.record(agentops.ActionEvent(action_type=f"act#{n}"))

        @agentops.record_tool(f"tool#{n}")
        def tool():
            return n

        tool()
        agentops.end_session("Success")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _assert_isolated(spans, sessions, events_per_session=2)
    assert DETACH not in caplog.text
    assert "sessions are running" not in caplog.text
    assert agentops.get_active_sessions() == []


def test_thousand_asyncio_tasks_each_with_its_own_session(spans, caplog):
    caplog.set_level(logging.DEBUG)

    async def conversation(n, started):
        session = agentops.start_session(name=str(n))
        started.append(session)
        await asyncio.sleep(0)
        agentops.record(agentops.ActionEvent(action_type=f"act#{n}"))
        await asyncio.sleep(0)
        await _tool(n)
        agentops.end_session("Success")

    async def main():
        started = []
        await asyncio.gather(*(conversation(n, started) for n in range(1000)))
        return started

    sessions = asyncio.run(main())
    _assert_isolated(spans, sessions, events_per_session=2)
    assert DETACH not in caplog.text
    assert agentops.get_active_sessions() == []


async def _tool(n):
    @agentops.record_tool(f"tool#{n}")
    async def tool():
        await asyncio.sleep(0)

    await tool()


def test_nested_sessions_in_one_thread(spans):
    outer = agentops.start_session(name="outer")
    agentops.record(agentops.ActionEvent(action_type="o1"))
    inner = agentops.start_session(name="inner")
    agentops.record(agentops.ActionEvent(action_type="i1"))
    inner.end_session()
    agentops.record(agentops.ActionEvent(action_type="o2"))
    outer.end_session()
    assert spans.one("action o1").context.trace_id == outer.trace_id
    assert spans.one("action o2").context.trace_id == outer.trace_id
    assert spans.one("action i1").context.trace_id == inner.trace_id
    assert spans.one("session inner").parent is None
    assert outer.get_analytics()["Actions"] == 2
    assert inner.get_analytics()["Actions"] == 1


def test_interleaved_sessions_in_one_thread(spans):
    a = agentops.start_session(name="a")
    b = agentops.start_session(name="b")
    with a.activate():
        agentops.record(agentops.ActionEvent(action_type="for-a"))
    agentops.record(agentops.ActionEvent(action_type="for-b"))
    a.end_session()
    agentops.record(agentops.ActionEvent(action_type="still-b"))
    b.end_session()
    assert spans.one("action for-a").context.trace_id == a.trace_id
    assert spans.one("action for-b").context.trace_id == b.trace_id
    assert spans.one("action still-b").context.trace_id == b.trace_id


def test_ending_a_session_from_another_thread(spans, caplog):
    session = agentops.start_session()
    with ThreadPoolExecutor(1) as pool:
        analytics = pool.submit(agentops.end_session, "Fail", "stopped", session=session).result()
    assert analytics is not None
    assert session.end_state == "Fail"
    assert agentops.get_current_session() is None
    assert DETACH not in caplog.text


def test_ending_a_session_from_another_task(spans, caplog):
    async def main():
        session = agentops.start_session()

        async def closer():
            return agentops.end_session(session)

        await asyncio.create_task(closer())
        return session

    session = asyncio.run(main())
    assert session.end_state == "Success"
    assert DETACH not in caplog.text


def test_task_sessions_do_not_leak_into_the_parent_task(spans):
    async def child():
        return agentops.start_session()

    async def main():
        parent = agentops.start_session()
        started = await asyncio.create_task(child())
        assert agentops.get_current_session() is parent
        started.end_session()
        parent.end_session()

    asyncio.run(main())


def test_spans_of_a_thread_inside_a_session_land_in_its_trace_with_the_context(spans):
    from opentelemetry import context

    session = agentops.start_session()
    captured = context.get_current()

    def work():
        token = context.attach(captured)
        try:
            with trace.get_tracer("app").start_as_current_span("in-thread"):
                pass
        finally:
            context.detach(token)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert spans.one("in-thread").context.trace_id == session.trace_id
