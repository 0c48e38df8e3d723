"""Decorators on sync, async, generator and async-generator functions, and agents."""

from __future__ import annotations

import asyncio
import gc
import uuid

import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import StatusCode

import opentelemetry_instrumentation_agentops as agentops


def test_record_action_sync(spans):
    session = agentops.start_session()

    @agentops.record_action("plan")
    def plan(x):
        with trace.get_tracer("app").start_as_current_span("inside"):
            return x + 1

    assert plan(1) == 2
    span = spans.one("action plan")
    assert span.parent.span_id == session.span.get_span_context().span_id
    assert span.attributes["agentops.action.type"] == "plan"
    assert span.attributes["agentops.event.type"] == "actions"
    assert uuid.UUID(span.attributes["agentops.event.id"]).version == 4
    assert span.attributes["session.id"] == session.session_id
    assert spans.one("inside").parent.span_id == span.context.span_id
    assert session.get_analytics()["Actions"] == 1


def test_decorator_without_name_uses_the_function_name(spans):
    agentops.start_session()

    @agentops.record_tool()
    def lookup():
        return 1

    @agentops.record_action
    def bare():
        return 2

    assert lookup() == 1
    assert bare() == 2
    assert spans.one("execute_tool lookup").attributes["gen_ai.tool.name"] == "lookup"
    assert spans.one("action bare")


def test_record_tool_counts_tool_calls(spans):
    session = agentops.start_session()

    @agentops.record_tool("search")
    def search():
        return []

    search()
    search()
    assert session.get_analytics()["Tool calls"] == 2
    assert len(spans.named("execute_tool search")) == 2


def test_decorated_function_that_raises(spans):
    session = agentops.start_session()

    @agentops.record_tool("broken")
    def broken():
        raise RuntimeError("down")

    with pytest.raises(RuntimeError, match="down"):
        broken()
    span = spans.one("execute_tool broken")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "RuntimeError"
    assert [e.attributes["exception.type"] for e in span.events] == ["RuntimeError"]
    assert session.get_analytics()["Errors"] == 1


def test_async_function(spans):
    async def main():
        session = agentops.start_session()

        @agentops.record_action("fetch")
        async def fetch():
            await asyncio.sleep(0)
            with trace.get_tracer("app").start_as_current_span("io"):
                return "ok"

        assert await fetch() == "ok"
        return session

    session = asyncio.run(main())
    fetch = spans.one("action fetch")
    assert fetch.context.trace_id == session.trace_id
    assert spans.one("io").parent.span_id == fetch.context.span_id


def test_async_function_that_raises(spans):
    @agentops.record_action("fails")
    async def fails():
        raise ValueError("x")

    async def main():
        agentops.start_session()
        with pytest.raises(ValueError):
            await fails()

    asyncio.run(main())
    assert spans.one("action fails").status.status_code is StatusCode.ERROR


def test_generator_span_covers_the_whole_iteration(spans):
    session = agentops.start_session()
    tracer = trace.get_tracer("app")

    @agentops.record_tool("stream")
    def stream():
        for i in range(3):
            with tracer.start_as_current_span(f"chunk {i}"):
                pass
            yield i

    gen = stream()
    assert spans.named("execute_tool stream") == []
    assert next(gen) == 0
    assert trace.get_current_span() is session.span  # not current between steps
    assert list(gen) == [1, 2]
    span = spans.one("execute_tool stream")
    for i in range(3):
        assert spans.one(f"chunk {i}").parent.span_id == span.context.span_id
    assert span.end_time >= spans.one("chunk 2").end_time


def test_generator_closed_early_ends_its_span(spans):
    agentops.start_session()

    @agentops.record_action("numbers")
    def numbers():
        yield from range(10)

    gen = numbers()
    next(gen)
    gen.close()
    assert spans.one("action numbers").status.status_code is StatusCode.UNSET


def test_generator_dropped_ends_its_span_on_garbage_collection(spans):
    agentops.start_session()

    @agentops.record_action("dropped")
    def dropped():
        yield from range(10)

    gen = dropped()
    next(gen)
    del gen
    gc.collect()
    assert spans.one("action dropped")


def test_generator_error_ends_its_span_with_error(spans):
    agentops.start_session()

    @agentops.record_action("bad")
    def bad():
        yield 1
        raise KeyError("k")

    with pytest.raises(KeyError):
        list(bad())
    assert spans.one("action bad").status.status_code is StatusCode.ERROR


def test_async_generator(spans):
    tracer = trace.get_tracer("app")

    @agentops.record_tool("astream")
    async def astream():
        for i in range(3):
            with tracer.start_as_current_span(f"achunk {i}"):
                await asyncio.sleep(0)
            yield i

    async def main():
        session = agentops.start_session()
        items = [i async for i in astream()]
        return session, items

    session, items = asyncio.run(main())
    assert items == [0, 1, 2]
    span = spans.one("execute_tool astream")
    assert span.context.trace_id == session.trace_id
    assert spans.one("achunk 2").parent.span_id == span.context.span_id


def test_async_generator_closed_early_from_another_task(spans, caplog):
    @agentops.record_action("agen")
    async def agen():
        for i in range(10):
            yield i

    async def main():
        agentops.start_session()
        gen = agen()
        await gen.__anext__()
        await asyncio.create_task(gen.aclose())

    asyncio.run(main())
    assert spans.one("action agen")
    assert "Failed to detach context" not in caplog.text


def test_track_agent_class(spans):
    session = agentops.start_session()

    @agentops.track_agent(name="researcher")
    class Researcher:
        def __init__(self, topic):
            self.topic = topic

        @agentops.record_action("research")
        def research(self):
            return self.topic

    agent = Researcher("otel")
    assert agent.research() == "otel"
    created = spans.one("create_agent researcher")
    assert created.attributes["gen_ai.operation.name"] == "create_agent"
    assert created.attributes["gen_ai.agent.name"] == "researcher"
    agent_id = created.attributes["gen_ai.agent.id"]
    assert agent_id == agent.agentops_agent_id
    action = spans.one("action research")
    assert action.attributes["gen_ai.agent.id"] == agent_id
    assert action.attributes["gen_ai.agent.name"] == "researcher"
    assert created.context.trace_id == session.trace_id


def test_track_agent_name_from_kwarg_or_role(spans):
    agentops.start_session()

    @agentops.track_agent()
    class Crew:
        def __init__(self):
            self.role = "writer"

    Crew()
    Crew(agentops_name="editor")
    assert spans.one("create_agent writer")
    assert spans.one("create_agent editor")


def test_track_agent_function_tags_nested_tools(spans):
    agentops.start_session()

    @agentops.record_tool("calc")
    def calc():
        return 4

    @agentops.track_agent("solver")
    def solve():
        return calc()

    assert solve() == 4
    invoke = spans.one("invoke_agent solver")
    tool = spans.one("execute_tool calc")
    assert tool.parent.span_id == invoke.context.span_id
    assert tool.attributes["gen_ai.agent.name"] == "solver"
    assert tool.attributes["gen_ai.agent.id"] == invoke.attributes["gen_ai.agent.id"]


def test_decorated_call_without_a_session_still_exports_a_span(spans):
    @agentops.record_action("lonely")
    def lonely():
        return 1

    assert lonely() == 1
    assert "session.id" not in spans.one("action lonely").attributes


def test_session_keyword_routes_a_call_like_agentops_03(spans):
    first = agentops.start_session()
    agentops.start_session()

    @agentops.record_action("routed")
    def routed(x):
        return x

    assert routed(5, session=first) == 5
    assert spans.one("action routed").context.trace_id == first.trace_id


def test_suppress_instrumentation_is_respected(spans):
    agentops.start_session()

    @agentops.record_action("quiet")
    def quiet():
        return 1

    with suppress_instrumentation():
        assert quiet() == 1
    assert spans.named("action quiet") == []


def test_decorator_preserves_function_metadata():
    @agentops.record_action("x")
    def documented():
        """Docs."""

    assert documented.__name__ == "documented"
    assert documented.__doc__ == "Docs."


def test_every_span_started_in_a_tracked_agents_method_carries_the_agent(spans):
    tracer = trace.get_tracer("third.party")

    @agentops.track_agent(name="writer")
    class Writer:
        def draft(self):  # not decorated: AgentOps 0.3 still attributed its LLM calls
            with tracer.start_as_current_span("chat gpt-4o"):
                return self.polish()

        def polish(self):
            with tracer.start_as_current_span("chat gpt-4o-mini"):
                return "text"

        async def review(self):
            with tracer.start_as_current_span("chat review"):
                return "ok"

    with agentops.start_session():
        writer = Writer()
        assert writer.draft() == "text"
        assert asyncio.run(writer.review()) == "ok"
        with tracer.start_as_current_span("chat outside"):
            pass
    (created,) = [s for s in spans.all() if s.name == "create_agent writer"]
    agent_id = created.attributes["gen_ai.agent.id"]
    for name in ("chat gpt-4o", "chat gpt-4o-mini", "chat review"):
        assert spans.one(name).attributes["gen_ai.agent.id"] == agent_id, name
        assert spans.one(name).attributes["gen_ai.agent.name"] == "writer"
    assert "gen_ai.agent.id" not in spans.one("chat outside").attributes
