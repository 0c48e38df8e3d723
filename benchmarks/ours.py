"""Our operations against the same work done with bare OpenTelemetry (issue #7, items 1-4).

Run as a driver (``python benchmarks/ours.py --n 2000 --rounds 9``): one process, one shared
provider that the package uses and a clean one it never sees, both with a batch processor and
a null exporter (see ``harness.py``). Items 1, 3 and 4 run inside one open session, item 2 with
no session current. The peers' drivers reuse the same harness, so the rows of ours that the
peer table compares against are measured exactly as each peer is. The last three rows time a
session's start and end with its metrics off, on with no MeterProvider, and on with an SDK one.
"""

from __future__ import annotations

from typing import Any

from harness import (
    ROOT_BASELINE,
    SPAN_BASELINE,
    Comparison,
    drive,
    root_baseline,
    span_baseline,
    work,
)
from opentelemetry import context
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Status, StatusCode

EVENT_ID = "5b7c1f0e-6f7e-4f5e-9d1c-2a3b4c5d6e7f"  # a fixed id for the bare spans
OK = Status(StatusCode.OK)


def setup(shared: TracerProvider, clean: TracerProvider) -> list[Comparison]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    import opentelemetry_instrumentation_agentops as agentops
    from opentelemetry_instrumentation_agentops import attributes as attr
    from opentelemetry_instrumentation_agentops import metrics
    from opentelemetry_instrumentation_agentops.config import settings

    # The global provider is already set: init() keeps it and adds only our span processor.
    agentops.init(auto_start_session=False)
    lib, lib_clean = shared.get_tracer("bench"), clean.get_tracer("bench")

    # One session stays open for items 1, 3 and 4; item 2 runs in the context from before it.
    before = context.get_current()
    session = agentops.start_session(name="bench")
    in_session = context.get_current()
    context.attach(before)
    sid = session.session_id

    def bare_event(tracer: Any) -> None:
        # What record(ActionEvent(action_type="step")) writes, written by hand.
        attributes = {
            attr.EVENT_ID: EVENT_ID,
            attr.EVENT_TYPE: "actions",
            attr.ACTION_TYPE: "step",
            attr.SESSION_ID: sid,
        }
        tracer.start_span("action step", attributes=attributes).end()

    events: list[Any] = []

    def build_events(n: int) -> None:
        events[:] = [agentops.ActionEvent(action_type="step") for _ in range(n)]

    def record_prebuilt() -> None:
        agentops.record(events.pop())

    def record_all_in() -> None:
        agentops.record(agentops.ActionEvent(action_type="step"))

    def session_start_end() -> None:
        agentops.start_session()
        agentops.end_session()

    end_attributes = {
        attr.SESSION_END_STATE: "Success",
        attr.SESSION_LLM_CALLS: 0,
        attr.SESSION_TOOL_CALLS: 0,
        attr.SESSION_ACTIONS: 0,
        attr.SESSION_ERRORS: 0,
        attr.INPUT_TOKENS: 0,
        attr.OUTPUT_TOKENS: 0,
    }

    def bare_root_same(tracer: Any) -> None:
        # The attributes and status a session's root span must carry (design.md section 4).
        span = tracer.start_span(
            "session",
            context=Context(),
            attributes={attr.SESSION_ID: sid, attr.CONVERSATION_ID: sid},
        )
        span.set_attributes(end_attributes)
        span.set_status(OK)
        span.end()

    @agentops.record_action("step")
    def step() -> int:
        return work()

    chat_start = {attr.OPERATION_NAME: attr.OP_CHAT, attr.REQUEST_MODEL: "gpt-4o-mini"}
    chat_usage = {attr.INPUT_TOKENS: 12, attr.OUTPUT_TOKENS: 5}

    def chat_span(tracer: Any) -> None:
        # What an OpenAI instrumentation writes for one model call: counted in the session.
        with tracer.start_as_current_span("chat gpt-4o-mini", attributes=chat_start) as span:
            span.set_attributes(chat_usage)

    # Session metrics: the rows above run as an application without a MeterProvider does (on,
    # nothing configured); these three set the state before each block, untimed.
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])

    def metrics_state(enabled: bool, provider: Any = None) -> Any:
        def prepare(n: int) -> None:
            settings.metrics = enabled
            metrics.use_meter_provider(provider)

        return prepare

    def metrics_row(key: str, what: str, prepare: Any) -> Comparison:
        return Comparison(
            key,
            f"`start_session()` + `end_session()`, {what}",
            ROOT_BASELINE,
            session_start_end,
            lambda: root_baseline(lib),
            lambda: root_baseline(lib_clean),
            prepare=prepare,
        )

    return [
        Comparison(
            "record",
            "`record(event)`, an `ActionEvent` built beforehand",
            "a bare span with the same attributes",
            record_prebuilt,
            lambda: bare_event(lib),
            lambda: bare_event(lib_clean),
            goal=1.3,
            prepare=build_events,
            context=in_session,
        ),
        Comparison(
            "record-all-in",
            '`record(ActionEvent(action_type="step"))`, building the event in the call',
            "a bare span with the same attributes",
            record_all_in,
            lambda: bare_event(lib),
            lambda: bare_event(lib_clean),
            context=in_session,
        ),
        Comparison(
            "session",
            "`start_session()` + `end_session()`",
            ROOT_BASELINE,
            session_start_end,
            lambda: root_baseline(lib),
            lambda: root_baseline(lib_clean),
            goal=1.8,
        ),
        Comparison(
            "session-same",
            "`start_session()` + `end_session()`",
            "a bare root span with the session's 9 attributes and status OK",
            session_start_end,
            lambda: bare_root_same(lib),
            lambda: bare_root_same(lib_clean),
        ),
        Comparison(
            "decorator",
            '`@record_action("step")` function',
            SPAN_BASELINE,
            step,
            lambda: span_baseline(lib),
            lambda: span_baseline(lib_clean),
            goal=1.2,
            context=in_session,
        ),
        Comparison(
            "processor",
            "third-party `start_as_current_span` in a session, our span processor on",
            "the same span on a provider without our processor",
            lambda: span_baseline(lib),
            lambda: span_baseline(lib),
            lambda: span_baseline(lib_clean),
            goal=1.15,
            context=in_session,
            headline="clean",  # the subject is what our processor adds to the provider
        ),
        Comparison(
            "processor-llm",
            "third-party `chat` span with tokens in a session, our span processor on",
            "the same span on a provider without our processor",
            lambda: chat_span(lib),
            lambda: chat_span(lib),
            lambda: chat_span(lib_clean),
            context=in_session,
            headline="clean",  # what counting one LLM call costs it
        ),
        metrics_row("session-metrics-off", "metrics off", metrics_state(False)),
        metrics_row("session-metrics-none", "metrics on, no MeterProvider", metrics_state(True)),
        metrics_row(
            "session-metrics-sdk",
            "metrics on, an SDK MeterProvider",
            metrics_state(True, meter_provider),
        ),
    ]


if __name__ == "__main__":
    drive("opentelemetry-instrumentation-agentops", setup)
