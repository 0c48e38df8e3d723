"""Sessions across services through W3C baggage (design.md section 9), in one process.

The upstream side is read as any service would: the headers the global propagator injects
(``tracecontext,baggage``, the SDK's default). The downstream side is a request that
another process sent: its headers extracted by the same propagator, on a trace that has no
session here. ``tests/test_services.py`` runs both sides in real processes.
"""

from __future__ import annotations

import asyncio
import random
import threading

import pytest
from opentelemetry import baggage, context, propagate, trace
from support.runtime import Tracer, fresh_runtime

import opentelemetry_instrumentation_agentops as agentops
from opentelemetry_instrumentation_agentops import AgentOpsInstrumentor

BAGGAGE_ENV = "OTEL_INSTRUMENTATION_AGENTOPS_BAGGAGE"
tracer = Tracer("tool-service")


def outgoing_headers() -> dict[str, str]:
    """The headers an instrumented HTTP client sends from the current context."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers


def sent_baggage() -> dict[str, str]:
    """The baggage entries an outgoing request carries, as the receiving service reads them."""
    return dict(baggage.get_all(propagate.extract(outgoing_headers())))


def request_from_another_service(baggage_header: str | None) -> dict[str, str]:
    """The headers of a request from a session running in another process."""
    trace_id, span_id = random.getrandbits(128) or 1, random.getrandbits(64) or 1
    headers = {"traceparent": f"00-{trace_id:032x}-{span_id:016x}-01"}
    if baggage_header is not None:
        headers["baggage"] = baggage_header
    return headers


def serve(headers: dict[str, str]) -> None:
    """What a tool server does (as OpenTelemetry's WSGI middleware): the request's context
    attached, a server span started from it, then the service's own work inside."""
    incoming = propagate.extract(headers)
    token = context.attach(incoming)
    try:
        server_span = tracer.start_span("POST /tools/lookup", context=incoming)
        with (
            trace.use_span(server_span, end_on_exit=True),
            tracer.start_as_current_span("lookup"),
            tracer.start_as_current_span("chat gpt-4o") as chat,
        ):
            chat.set_attributes({"gen_ai.operation.name": "chat"})
    finally:
        context.detach(token)


SERVED = ("POST /tools/lookup", "lookup", "chat gpt-4o")


def served_spans(spans) -> list:
    found = [s for s in spans.all() if s.name in SERVED]
    assert {s.name for s in found} == set(SERVED)
    return found


# -- the calling side ----------------------------------------------------------------------


def test_off_by_default_no_baggage_leaves_the_process():
    with agentops.start_session(session_id="chat-1"):
        headers = outgoing_headers()
    assert "traceparent" in headers  # the trace still crosses, as it always did
    assert "baggage" not in headers


def test_init_puts_the_current_sessions_id_in_the_baggage_until_it_ends():
    agentops.init(propagate_session=True, auto_start_session=False)
    session = agentops.start_session(session_id="chat-1")
    assert sent_baggage() == {"session.id": "chat-1"}
    session.end_session()
    assert "baggage" not in outgoing_headers()  # ending restores the context before it


def test_a_session_without_an_id_sends_its_trace_uuid():
    agentops.init(propagate_session=True, auto_start_session=False)
    with agentops.start_session() as session:
        assert sent_baggage() == {"session.id": session.session_id}


def test_the_environment_turns_it_on(monkeypatch):
    monkeypatch.setenv(BAGGAGE_ENV, "true")
    fresh_runtime()  # a process started with the variable set
    with agentops.start_session(session_id="chat-1"):
        assert sent_baggage() == {"session.id": "chat-1"}


def test_the_environment_turned_off_by_init(monkeypatch):
    monkeypatch.setenv(BAGGAGE_ENV, "true")
    agentops.init(propagate_session=False, auto_start_session=False)
    with agentops.start_session(session_id="chat-1"):
        assert "baggage" not in outgoing_headers()


def test_the_instrumentor_turns_it_on_and_uninstrument_off():
    instrumentor = AgentOpsInstrumentor()
    instrumentor.instrument(propagate_session=True)
    with agentops.start_session(session_id="chat-1"):
        assert sent_baggage() == {"session.id": "chat-1"}
    instrumentor.uninstrument()
    with agentops.start_session(session_id="chat-2"):
        assert "baggage" not in outgoing_headers()


@pytest.mark.parametrize(
    "user", [{"user_id": "u-42"}, {"attributes": {"user.id": "u-42"}}], ids=["user_id", "attribute"]
)
def test_the_users_id_travels_when_the_session_has_one(user):
    agentops.init(propagate_session=True, auto_start_session=False)
    with agentops.start_session(session_id="chat-1", **user):
        assert sent_baggage() == {"session.id": "chat-1", "user.id": "u-42"}


def test_another_services_user_is_not_sent_as_this_sessions():
    agentops.init(propagate_session=True, auto_start_session=False)
    upstream = propagate.extract(request_from_another_service("session.id=up,user.id=u-1,k=v"))
    token = context.attach(upstream)
    try:
        with agentops.start_session(session_id="chat-1"):
            assert sent_baggage() == {"session.id": "chat-1", "k": "v"}
        assert sent_baggage() == {"session.id": "up", "user.id": "u-1", "k": "v"}
    finally:
        context.detach(token)


def test_a_nested_session_sends_its_own_id_and_the_outer_one_is_back_after_it():
    agentops.init(propagate_session=True, auto_start_session=False)
    with agentops.start_session(session_id="outer"):
        with agentops.start_session(session_id="inner"):
            assert sent_baggage() == {"session.id": "inner"}
        assert sent_baggage() == {"session.id": "outer"}


def test_activate_sends_the_sessions_id_in_the_block_only():
    agentops.init(propagate_session=True, auto_start_session=False)
    session = agentops.start_session(session_id="chat-1")
    seen = {}

    def worker() -> None:  # a thread started without the context: no session current
        seen["before"] = outgoing_headers()
        with session.activate():
            seen["inside"] = sent_baggage()
        seen["after"] = outgoing_headers()

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    session.end_session()
    assert "baggage" not in seen["before"]
    assert seen["inside"] == {"session.id": "chat-1"}
    assert "baggage" not in seen["after"]


def test_concurrent_sessions_each_send_their_own_id():
    agentops.init(propagate_session=True, auto_start_session=False)

    async def turn(name: str) -> list[dict[str, str]]:
        sent = []
        with agentops.start_session(session_id=name):
            for _ in range(5):
                sent.append(sent_baggage())
                await asyncio.sleep(0)  # the other session runs between two requests
        return sent

    async def both() -> list[list[dict[str, str]]]:
        return await asyncio.gather(turn("chat-a"), turn("chat-b"))

    sent_a, sent_b = asyncio.run(both())
    assert sent_a == [{"session.id": "chat-a"}] * 5
    assert sent_b == [{"session.id": "chat-b"}] * 5


# -- the called side -----------------------------------------------------------------------


def test_a_services_spans_carry_the_calling_sessions_ids(spans):
    agentops.init(propagate_session=True, auto_start_session=False)  # a tool server: no session
    serve(request_from_another_service("session.id=chat-1,user.id=u-42"))
    for span in served_spans(spans):
        assert span.attributes["session.id"] == "chat-1", span.name
        assert span.attributes["gen_ai.conversation.id"] == "chat-1", span.name
        assert span.attributes["user.id"] == "u-42", span.name
    assert agentops.get_active_sessions() == []  # no session of its own: counted nowhere here


def test_a_service_with_the_setting_off_stamps_nothing(spans):
    agentops.init(auto_start_session=False)
    serve(request_from_another_service("session.id=chat-1,user.id=u-42"))
    for span in served_spans(spans):
        assert not {"session.id", "gen_ai.conversation.id", "user.id"} & set(span.attributes)


def test_a_request_without_session_baggage_is_left_alone(spans):
    agentops.init(propagate_session=True, auto_start_session=False)
    serve(request_from_another_service("tenant=acme"))
    serve(request_from_another_service(None))
    for span in spans.all():
        assert "session.id" not in span.attributes


def test_the_instrumentors_setting_stamps_too(spans):
    AgentOpsInstrumentor().instrument(propagate_session=True)
    serve(request_from_another_service("session.id=chat-1"))
    assert {s.attributes["session.id"] for s in served_spans(spans)} == {"chat-1"}
    AgentOpsInstrumentor().uninstrument()


def test_the_callers_session_wins_over_a_spans_own(spans):
    agentops.init(propagate_session=True, auto_start_session=False)
    incoming = propagate.extract(request_from_another_service("session.id=chat-1"))
    with tracer.start_as_current_span("run", context=incoming, attributes={"session.id": "own"}):
        pass
    attributes = spans.one("run").attributes
    assert attributes["session.id"] == "chat-1"
    assert attributes["agentops.framework.session.id"] == "own"


def test_a_local_session_wins_over_baggage(spans):
    agentops.init(propagate_session=True, auto_start_session=False)
    with agentops.start_session(session_id="local") as session:
        foreign = baggage.set_baggage("session.id", "foreign")
        with tracer.start_as_current_span("step", context=foreign):
            pass
    assert spans.one("step").attributes["session.id"] == session.session_id == "local"


@pytest.mark.parametrize(
    "value",
    ["", "%20%20", "chat%0A1", "chat%0D%0Aforged%3A%20line", "%1B%5B31m", "a%E2%80%A8b", "x" * 257],
)
def test_an_invalid_session_id_from_baggage_stamps_nothing_and_warns_once(
    value, spans, warnings_log
):
    agentops.init(propagate_session=True, auto_start_session=False, strict=True)  # never raises
    serve(request_from_another_service(f"session.id={value}"))
    serve(request_from_another_service(f"session.id={value}"))
    for span in served_spans(spans):
        assert "session.id" not in span.attributes
    (warning,) = warnings_log()
    assert "session.id that is not a valid id" in warning
    assert "Fix the id the calling service gives its session" in warning


def test_an_invalid_user_id_is_dropped_and_the_session_kept(spans, warnings_log):
    agentops.init(propagate_session=True, auto_start_session=False)
    serve(request_from_another_service("session.id=chat-1,user.id=u%0A42"))
    for span in served_spans(spans):
        assert span.attributes["session.id"] == "chat-1"
        assert "user.id" not in span.attributes
    (warning,) = warnings_log()
    assert "user.id that is not a valid id" in warning


def test_an_id_of_256_characters_from_baggage_is_kept(spans):
    agentops.init(propagate_session=True, auto_start_session=False)
    serve(request_from_another_service("session.id=" + "x" * 256))
    assert {s.attributes["session.id"] for s in served_spans(spans)} == {"x" * 256}


def test_the_calling_sides_headers_stamp_the_called_sides_spans(spans):
    """A round trip in one process: the session has ended, so its trace has none here."""
    agentops.init(propagate_session=True, auto_start_session=False)
    with agentops.start_session(session_id="chat-1", attributes={"user.id": "u-42"}):
        headers = outgoing_headers()
    spans.clear()
    serve(headers)
    stamped = {(s.attributes["session.id"], s.attributes["user.id"]) for s in served_spans(spans)}
    assert stamped == {("chat-1", "u-42")}
    assert {s.context.trace_id for s in served_spans(spans)} == {
        trace.get_current_span(propagate.extract(headers)).get_span_context().trace_id
    }


def test_a_session_decorated_function_sends_its_sessions_id():
    agentops.init(propagate_session=True, auto_start_session=False)

    @agentops.session
    def run() -> tuple[str, dict[str, str]]:
        return agentops.get_current_session().session_id, sent_baggage()

    session_id, sent = run()
    assert sent == {"session.id": session_id}


def test_a_tool_run_in_a_thread_without_the_context_sends_the_running_sessions_id():
    agentops.init(propagate_session=True, auto_start_session=False)

    @agentops.record_tool("lookup_order")
    def lookup_order() -> dict[str, str]:
        return sent_baggage()  # the request the tool makes to its service

    with agentops.start_session(session_id="chat-1"):
        sent = {}
        thread = threading.Thread(target=lambda: sent.update(lookup_order()))  # no context
        thread.start()
        thread.join()
    assert sent == {"session.id": "chat-1"}
