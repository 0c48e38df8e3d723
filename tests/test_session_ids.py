"""The session's id wins (docs/spans.rst): every span of a session's trace carries the session's
``session.id`` and ``gen_ai.conversation.id``, whatever a framework writes, at the start or
later; a framework's own value is kept under ``agentops.framework.*``. Read from exported spans.
"""

from __future__ import annotations

import uuid

from opentelemetry import trace
from opentelemetry.sdk.trace import Span, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Sampler
from support.runtime import Tracer, configure

import opentelemetry_instrumentation_agentops as agentops

AGNO = Tracer("openinference.instrumentation.agno")
FRAMEWORK_SESSION_ID = "agentops.framework.session.id"
FRAMEWORK_CONVERSATION_ID = "agentops.framework.conversation.id"


def test_the_session_id_wins_and_a_framework_s_own_is_kept(spans):
    """OpenInference's agno tracer writes agno's run session into ``session.id``."""
    own = {"session.id": "agno-run-1", "gen_ai.conversation.id": "thread-7"}
    with agentops.start_session(name="agno") as session:
        AGNO.start_span("Agent.arun", attributes={**own, "openinference.span.kind": "AGENT"}).end()
        AGNO.start_span("same", attributes={"session.id": session.session_id}).end()
        AGNO.start_span("plain").end()
        # OpenInference's tracers write a span's attributes again right after its start.
        later = AGNO.start_span("later")
        later.set_attribute("session.id", "agno-run-2")
        later.set_attributes(
            {"gen_ai.conversation.id": "thread-8", "openinference.span.kind": "LLM"}
        )
        later.end()
    ids = {s.attributes["session.id"] for s in spans.of_trace(session.trace_id)}
    assert ids == {session.session_id}
    conversations = {
        s.attributes["gen_ai.conversation.id"] for s in spans.of_trace(session.trace_id)
    }
    assert conversations == {session.session_id}
    run = spans.one("Agent.arun").attributes
    assert run[FRAMEWORK_SESSION_ID] == "agno-run-1"
    assert run[FRAMEWORK_CONVERSATION_ID] == "thread-7"
    assert spans.one("later").attributes[FRAMEWORK_SESSION_ID] == "agno-run-2"
    assert spans.one("later").attributes[FRAMEWORK_CONVERSATION_ID] == "thread-8"
    assert spans.one("later").attributes["openinference.span.kind"] == "LLM"
    for name in ("same", "plain"):
        assert FRAMEWORK_SESSION_ID not in spans.one(name).attributes


def test_a_write_of_the_session_s_own_id_or_of_any_other_key_goes_as_given(spans):
    with agentops.start_session(name="writes") as session:
        span = AGNO.start_span("step")
        span.set_attribute("session.id", session.session_id)
        span.set_attributes({"gen_ai.conversation.id": session.session_id, "step": 1})
        span.set_attribute("step.name", "plan")
        span.set_attribute("session.id", 42)  # not a string: still another session's id
        span.end()
    attributes = spans.one("step").attributes
    assert attributes["session.id"] == attributes["gen_ai.conversation.id"] == session.session_id
    assert attributes["step"] == 1
    assert attributes["step.name"] == "plan"
    assert attributes[FRAMEWORK_SESSION_ID] == 42
    assert FRAMEWORK_CONVERSATION_ID not in attributes


def test_a_span_outside_every_session_keeps_what_is_written_while_sessions_run(spans):
    with agentops.start_session(name="elsewhere"):
        outside = AGNO.start_span("outside", context=trace.set_span_in_context(trace.INVALID_SPAN))
        outside.set_attribute("session.id", "agno-run-1")
        outside.set_attributes({"session.id": "agno-run-2", "gen_ai.conversation.id": "t"})
        outside.end()
    attributes = spans.one("outside").attributes
    assert attributes["session.id"] == "agno-run-2"
    assert attributes["gen_ai.conversation.id"] == "t"
    assert FRAMEWORK_SESSION_ID not in attributes


def test_the_sdk_span_class_writes_attributes_only_through_span_s_two_public_methods():
    """What keeping the ids after the start rests on (``_engine/ids.py``).

    The SDK's span class must inherit ``set_attribute`` and ``set_attributes`` from
    ``opentelemetry.sdk.trace.Span``: were a release to override them, the session's ids would
    be stamped at the start only, and a framework writing its own later would win.
    """
    span = trace.get_tracer("sdk.shape").start_span("probe")
    span.end()
    for name in ("set_attribute", "set_attributes"):
        owners = [cls for cls in type(span).__mro__ if name in vars(cls)]
        assert owners[0] is Span, (
            f"{type(span).__qualname__}.{name} now comes from {owners[0].__qualname__}, not "
            "opentelemetry.sdk.trace.Span: the session's id is kept at a span's start only"
        )


class RecordingSampler(Sampler):
    """Keeps every span, and what each looked like when the SDK asked about it."""

    def __init__(self) -> None:
        self.asked: dict[str, dict] = {}

    def should_sample(self, parent_context, trace_id, name, kind=None, attributes=None, *_):
        self.asked[name] = {"trace_id": trace_id, **(attributes or {})}
        return ALWAYS_ON.should_sample(parent_context, trace_id, name, kind, attributes)

    def get_description(self) -> str:
        return "RecordingSampler"


def test_a_session_s_root_starts_with_both_ids_so_samplers_see_them():
    """A generated session id is its trace's: the SDK's own id generator picks it before the
    root starts, so samplers (and processors' ``on_start``) see both ids, as for a given id."""
    sampler = RecordingSampler()
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    configure(tracer_provider=provider)
    generated = agentops.start_session(name="generated")
    generated.end_session()
    given = agentops.start_session(name="given", session_id="chat-42")
    given.end_session()
    at_start = sampler.asked["session generated"]
    assert at_start["session.id"] == at_start["gen_ai.conversation.id"] == generated.session_id
    assert at_start["trace_id"] == generated.trace_id
    assert generated.session_id == str(uuid.UUID(int=generated.trace_id))
    assert sampler.asked["session given"]["session.id"] == "chat-42"
    (root,) = [s for s in exporter.get_finished_spans() if s.name == "session generated"]
    assert root.context.trace_id == generated.trace_id
    assert root.attributes["session.id"] == generated.session_id
