"""AgentOpsInstrumentor: entry point, instrument/uninstrument, processor, thread context."""

from __future__ import annotations

import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import entry_points

from opentelemetry import trace
from opentelemetry.instrumentation.urllib import URLLibInstrumentor
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import StatusCode
from support.threads import threads_instrumented

import opentelemetry_instrumentation_agentops as agentops
from opentelemetry_instrumentation_agentops import AgentOpsInstrumentor


def test_entry_point_loads_the_instrumentor():
    (entry_point,) = entry_points(group="opentelemetry_instrumentor", name="agentops")
    assert entry_point.load() is AgentOpsInstrumentor
    assert AgentOpsInstrumentor().instrumentation_dependencies() == ()


def test_instrument_uninstrument_instrument():
    instrumentor = AgentOpsInstrumentor()
    instrumentor.instrument()
    assert instrumentor.is_instrumented_by_opentelemetry
    assert threads_instrumented()
    instrumentor.instrument()  # harmless: a warning from BaseInstrumentor, nothing else
    instrumentor.uninstrument()
    assert not instrumentor.is_instrumented_by_opentelemetry
    assert not threads_instrumented()
    instrumentor.instrument()
    assert threads_instrumented()
    instrumentor.uninstrument()


def test_instrument_never_raises_on_a_broken_provider(caplog):
    class BrokenProvider:
        def add_span_processor(self, processor):
            raise RuntimeError("broken")

        def get_tracer(self, *args, **kwargs):
            raise RuntimeError("broken")

    instrumentor = AgentOpsInstrumentor()
    instrumentor.instrument(tracer_provider=BrokenProvider())
    try:
        assert "could not add the session span processor" in caplog.text
        # The broken provider disables that part only: the others are still installed.
        assert threads_instrumented()
    finally:
        instrumentor.uninstrument()


def test_plain_tracer_span_in_a_session_is_stamped_and_counted(instrumented, spans):
    session = agentops.start_session()
    tracer = trace.get_tracer("third.party")
    with tracer.start_as_current_span(
        "chat gpt-4o",
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.usage.input_tokens": 7,
            "gen_ai.usage.output_tokens": 3,
        },
    ):
        pass
    with tracer.start_as_current_span(
        "execute_tool web", attributes={"gen_ai.operation.name": "execute_tool"}
    ):
        pass
    with tracer.start_as_current_span("failing") as failing:
        failing.set_status(StatusCode.ERROR)
    agentops.record(agentops.LLMEvent(model="own", prompt_tokens=1, completion_tokens=1))
    session.end_session()
    assert spans.one("chat gpt-4o").attributes["session.id"] == session.session_id
    assert spans.one("failing").attributes["session.id"] == session.session_id
    root = spans.one("session")
    assert root.attributes["agentops.session.llm_calls"] == 2  # no double counting of ours
    assert root.attributes["agentops.session.tool_calls"] == 1
    assert root.attributes["agentops.session.errors"] == 1
    assert root.attributes["gen_ai.usage.input_tokens"] == 8
    assert root.attributes["gen_ai.usage.output_tokens"] == 4


def test_spans_outside_sessions_are_left_alone(instrumented, spans):
    with trace.get_tracer("app").start_as_current_span("alone"):
        pass
    assert "session.id" not in spans.one("alone").attributes


def test_real_third_party_instrumentation_span_joins_the_session(instrumented, spans):
    from examples.fake_openai import FakeOpenAIServer

    URLLibInstrumentor().instrument()
    try:
        with FakeOpenAIServer() as server:
            session = agentops.start_session()
            request = urllib.request.Request(
                server.base_url + "/chat/completions",
                data=b'{"model": "m", "messages": [{"role": "user", "content": "hi"}]}',
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
            session.end_session()
    finally:
        URLLibInstrumentor().uninstrument()
    (post,) = [s for s in spans.all() if s.name.startswith("POST")]
    assert post.context.trace_id == session.trace_id
    assert post.attributes["session.id"] == session.session_id


def test_threads_and_pools_run_in_the_session_that_started_them(instrumented, spans):
    tracer = trace.get_tracer("app")
    results = {}

    def work(label):
        results[label] = agentops.get_current_session()
        with tracer.start_as_current_span(f"work {label}"):
            pass

    first = agentops.start_session(name="first")
    second = agentops.start_session(name="second")
    with ThreadPoolExecutor(2) as pool:
        with first.activate():
            thread = threading.Thread(target=work, args=("thread-first",))
            thread.start()
            pool.submit(work, "pool-first").result()
        with second.activate():
            pool.submit(work, "pool-second").result()
            thread.join()
        # A reused pooled thread takes the submitter's session, never the previous task's.
        pool.submit(work, "pool-after").result()
    assert results["thread-first"] is first
    assert results["pool-first"] is first
    assert results["pool-second"] is second
    assert results["pool-after"] is second
    assert spans.one("work thread-first").context.trace_id == first.trace_id
    assert spans.one("work pool-second").context.trace_id == second.trace_id


def test_pooled_thread_with_no_session_in_context_gets_none(instrumented):
    first = agentops.start_session()
    second = agentops.start_session()
    seen = []
    with ThreadPoolExecutor(1) as pool:
        with first.activate():
            pool.submit(lambda: seen.append(agentops.get_current_session())).result()
        import contextvars

        from opentelemetry import context

        def submit_from_empty_context():
            context.attach(context.Context())
            return pool.submit(lambda: seen.append(agentops.get_current_session())).result()

        contextvars.Context().run(submit_from_empty_context)
    assert seen == [first, None]
    assert second.is_running


def test_suppress_instrumentation_silences_decorators(instrumented, spans):
    @agentops.record_action("muted")
    def muted():
        return 1

    agentops.start_session()
    with suppress_instrumentation():
        muted()
    assert spans.named("action muted") == []


def test_instrument_with_capture_content(spans):
    instrumentor = AgentOpsInstrumentor()
    instrumentor.instrument(capture_content=True)
    try:
        agentops.start_session()
        agentops.record(agentops.LLMEvent(model="m", prompt="hi"))
    finally:
        instrumentor.uninstrument()
    assert spans.one("chat m").attributes["gen_ai.input.messages"] == '"hi"'
