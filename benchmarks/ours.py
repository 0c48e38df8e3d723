"""Our operations against the same work done with bare OpenTelemetry (issues #7 and #16).

Run as a driver (``python benchmarks/ours.py --n 2000 --rounds 9``): one process, one shared
provider that the package uses and a clean one it never sees, both with a batch processor and
a null exporter (see ``harness.py``). Events, decorators and third-party spans run inside one
open session, sessions with no session current. The peers' drivers reuse the same harness, so
the rows of ours that the peer table compares against are measured exactly as each peer is.

Three kinds of rows (``KIND`` below; ``docs/benchmarks.rst`` lists them all):

- ``simplest``: against the simplest bare span (issue #7's rows, and the peers' baselines);
- ``same``: against a bare span of the same shape, the span this package has to produce
  anyway: same name, attributes, timestamps passed in, end attributes and status (issue #16);
  what is left is our own Python;
- ``switch``: a feature on against the same operation with that feature off (live snapshots,
  counting in the span processor, metrics): what the feature itself costs;
- ``fault``: the same operation with a fault injected against it without (issue #19: the live
  thread stuck in the export of a snapshot, as with a collector that hangs).
"""

from __future__ import annotations

import contextvars
import threading
import time
from time import time_ns
from typing import Any

from harness import (
    ROOT_BASELINE,
    SPAN_BASELINE,
    Comparison,
    drive,
    make_provider,
    root_baseline,
    span_baseline,
    work,
)
from opentelemetry import context, propagate
from opentelemetry.context import Context
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Status, StatusCode

EVENT_ID = "5b7c1f0e-6f7e-4f5e-9d1c-2a3b4c5d6e7f"  # a fixed id for the bare spans
OK = Status(StatusCode.OK)
# The kind of each row (see the module docstring); the report groups rows by it.
KIND = {
    "record": "simplest",
    "record-all-in": "simplest",
    "session": "simplest",
    "decorator": "simplest",
    "processor": "same",
    "record-same": "same",
    "session-same": "same",
    "decorator-same": "same",
    "processor-floor": "same",
    "processor-floor-ids": "same",
    "processor-llm": "switch",
    "processor-counting": "switch",
    "processor-idle": "switch",
    "session-live": "switch",
    "session-metrics-off": "simplest",
    "session-metrics-none": "simplest",
    "session-metrics-sdk": "simplest",
    "metrics-none": "switch",
    "metrics-sdk": "switch",
    "session-live-stuck": "fault",
    "log-record": "switch",
    "log-record-idle": "switch",
    "log-record-floor": "switch",
    "processor-baggage": "switch",
    "session-baggage": "switch",
}


def setup(shared: TracerProvider, clean: TracerProvider) -> list[Comparison]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    import opentelemetry_instrumentation_agentops as agentops
    from opentelemetry_instrumentation_agentops._engine import attributes as attr
    from opentelemetry_instrumentation_agentops._runtime.owner import RUNTIME
    from opentelemetry_instrumentation_agentops._runtime.settings import DEFAULT_LIVE_INTERVAL

    # The global provider is already set: init() keeps it and adds only our span processor.
    agentops.init(auto_start_session=False)
    explicit_provider = RUNTIME.settings.tracer_provider
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

    event_attributes = {
        attr.EVENT_ID: EVENT_ID,
        attr.EVENT_TYPE: "actions",
        attr.ACTION_TYPE: "step",
        attr.SESSION_ID: sid,
    }

    def bare_event_same(tracer: Any) -> None:
        # The span record() writes, with its timestamps passed in as record() passes them.
        start = time_ns()
        tracer.start_span("action step", attributes=event_attributes, start_time=start).end(
            time_ns()
        )

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

    def bare_action_same(tracer: Any) -> None:
        # What @record_action("step") makes of one call, written by hand.
        with tracer.start_as_current_span("action step", attributes=event_attributes):
            work()

    chat_start = {attr.OPERATION_NAME: attr.OP_CHAT, attr.REQUEST_MODEL: "gpt-4o-mini"}
    chat_usage = {attr.INPUT_TOKENS: 12, attr.OUTPUT_TOKENS: 5}

    def chat_span(tracer: Any) -> None:
        # What an OpenAI instrumentation writes for one model call: counted in the session.
        with tracer.start_as_current_span("chat gpt-4o-mini", attributes=chat_start) as span:
            span.set_attributes(chat_usage)

    # The same span with keys that no convention of conventions.TABLE knows: the processor
    # stamps and tracks it like any span of the session, and counts nothing.
    plain_start = {"x.operation.name": "chat", "x.request.model": "gpt-4o-mini"}
    plain_usage = {"x.usage.input_tokens": 12, "x.usage.output_tokens": 5}

    def plain_span(tracer: Any) -> None:
        with tracer.start_as_current_span("chat gpt-4o-mini", attributes=plain_start) as span:
            span.set_attributes(plain_usage)

    class StampOnly(SpanProcessor):
        # The least a span processor can do to put session.id on every span of a session,
        # through the SDK's public API: one set_attribute at start, nothing at end.
        def on_start(self, span: Any, parent_context: Any = None) -> None:
            span.set_attribute(attr.SESSION_ID, sid)

    class StampIdsOnly(SpanProcessor):
        # The least a processor can do for both ids the span contract puts on every span of a
        # session (session.id, gen_ai.conversation.id): two set_attribute calls at start (on
        # SDK 1.45, 1.7 us against 2.2 us for one set_attributes of both).
        def on_start(self, span: Any, parent_context: Any = None) -> None:
            span.set_attribute(attr.SESSION_ID, sid)
            span.set_attribute(attr.CONVERSATION_ID, sid)

    stamped = make_provider()
    stamped.add_span_processor(StampOnly())
    lib_stamped = stamped.get_tracer("bench")
    stamped_ids = make_provider()
    stamped_ids.add_span_processor(StampIdsOnly())
    lib_stamped_ids = stamped_ids.get_tracer("bench")

    def live_state(interval: float) -> Any:
        def prepare(n: int) -> None:
            RUNTIME.settings.live_interval = interval

        return prepare

    # Session metrics: the rows above run as an application without a MeterProvider does (on,
    # nothing configured); these three set the state before each block, untimed.
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])

    def metrics_state(enabled: bool, provider: Any = None) -> Any:
        def prepare(n: int) -> None:
            RUNTIME.settings.metrics = enabled
            RUNTIME.settings.meter_provider = provider

        return prepare

    def baggage_state(on: bool) -> Any:
        def prepare(n: int) -> None:
            RUNTIME.settings.propagate_session = on

        return prepare

    # A request from another service's session, its headers extracted as a server
    # instrumentation does: a trace with no session here, the session named in its baggage.
    in_request = propagate.extract(
        {
            "traceparent": f"00-{'ab' * 16}-{'cd' * 8}-01",
            "baggage": f"{attr.SESSION_ID}={sid},{attr.USER_ID}=u-42",
        }
    )

    # The live thread stuck in a snapshot's export (a collector that hangs) while the application
    # starts and ends sessions, on a provider of their own whose second processor holds the
    # live thread's exports only (the application's go through at once).
    hold = _HoldTheLiveThread()
    stuck = make_provider()
    stuck.add_span_processor(SimpleSpanProcessor(hold))
    holders: list[Any] = []

    def live_thread(held: bool) -> Any:
        def prepare(n: int) -> None:
            RUNTIME.settings.tracer_provider = stuck
            RUNTIME.settings.live_interval = DEFAULT_LIVE_INTERVAL  # the default, as timed
            if held:
                try:
                    hold.stick(lambda: holders.append(start_holder()))
                finally:
                    RUNTIME.settings.live_interval = DEFAULT_LIVE_INTERVAL
            else:
                release_live_thread()

        return prepare

    def start_holder() -> Any:
        # A session whose first snapshot is due at once, started outside the timed context. The
        # schedule's thread reads the interval when it looks at a fresh session: it stays short
        # until the thread holds that snapshot (prepare() restores it then), and the thread,
        # which may sleep until an earlier session's due time, is woken to look now.
        RUNTIME.settings.live_interval = 0.001
        holder = contextvars.copy_context().run(agentops.start_session, name="holder")
        with RUNTIME.snapshots.condition:
            RUNTIME.snapshots.condition.notify()
        return holder

    def release_live_thread() -> None:
        hold.release_and_wait()
        for holder in holders:
            holder.end_session()
        holders.clear()

    def restore() -> None:
        release_live_thread()
        RUNTIME.settings.tracer_provider = explicit_provider
        RUNTIME.settings.live_interval = DEFAULT_LIVE_INTERVAL

    def switch_row(key: str, what: str, off: str, on: Any, off_state: Any) -> Comparison:
        # A session's start and end with a feature on, against the same with it off.
        return Comparison(
            key,
            f"`start_session()` + `end_session()`, {what}",
            f"off switch: the same with {off}",
            session_start_end,
            session_start_end,
            session_start_end,
            prepare=on,
            prepare_bare=off_state,
            extra={"switch": True},
        )

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

    comparisons = [
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
            "record-same",
            '`record(ActionEvent(action_type="step"))`, same shape',
            "a bare span with the same 4 attributes, start and end times passed in",
            record_all_in,
            lambda: bare_event_same(lib),
            lambda: bare_event_same(lib_clean),
            goal=1.5,  # issue #20 (#16: 1.2)
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
            "`start_session()` + `end_session()`, same shape",
            "a bare root span: `session.id` and `gen_ai.conversation.id` at start; "
            "`end_state` and the six totals at end; status OK",
            session_start_end,
            lambda: bare_root_same(lib),
            lambda: bare_root_same(lib_clean),
            goal=1.7,  # issue #20 (#16: 1.25)
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
            "decorator-same",
            '`@record_action("step")` function, same shape',
            '`with tracer.start_as_current_span("action step", attributes=...)` with the same '
            "4 attributes",
            step,
            lambda: bare_action_same(lib),
            lambda: bare_action_same(lib_clean),
            goal=1.1,
            context=in_session,
        ),
        Comparison(
            "processor",
            "third-party `start_as_current_span` in a session, our span processor on",
            "the same span on a provider without our processor",
            lambda: span_baseline(lib),
            lambda: span_baseline(lib),
            lambda: span_baseline(lib_clean),
            goal=1.15,  # issue #20 (#16: 1.1)
            context=in_session,
            headline="clean",  # the subject is what our processor adds to the provider
        ),
        Comparison(
            "processor-floor",
            "for scale: third-party `start_as_current_span`, a processor that only stamps "
            "`session.id` (`span.set_attribute` in `on_start`)",
            "the same span on a provider without it",
            lambda: span_baseline(lib_stamped),
            lambda: span_baseline(lib_stamped),
            lambda: span_baseline(lib_clean),
            context=in_session,
            headline="clean",  # the SDK's own floor for what our processor must do
        ),
        Comparison(
            "processor-floor-ids",
            "for scale: third-party `start_as_current_span`, a processor that only stamps "
            "`session.id` and `gen_ai.conversation.id` (two `span.set_attribute` in `on_start`)",
            "the same span on a provider without it",
            lambda: span_baseline(lib_stamped_ids),
            lambda: span_baseline(lib_stamped_ids),
            lambda: span_baseline(lib_clean),
            context=in_session,
            headline="clean",  # the floor for both ids of the span contract
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
        Comparison(
            "processor-counting",
            "third-party `chat` span with tokens in a session, counted as an LLM call",
            "off switch: the same span with keys no convention knows (not counted), same provider",
            lambda: chat_span(lib),
            lambda: plain_span(lib),
            lambda: plain_span(lib_clean),
            context=in_session,
        ),
        Comparison(
            "processor-idle",
            "third-party `start_as_current_span`, no session running, our span processor on",
            "the same span on a provider without our processor",
            lambda: span_baseline(lib),
            lambda: span_baseline(lib),
            lambda: span_baseline(lib_clean),
            headline="clean",  # what every span of a program outside sessions pays
        ),
        switch_row(
            "session-live",
            f"live snapshots on (every {DEFAULT_LIVE_INTERVAL:g} s, the default)",
            "`OTEL_INSTRUMENTATION_AGENTOPS_LIVE_INTERVAL=0`",
            live_state(DEFAULT_LIVE_INTERVAL),
            live_state(0.0),
        ),
        metrics_row("session-metrics-off", "metrics off", metrics_state(False)),
        metrics_row("session-metrics-none", "metrics on, no MeterProvider", metrics_state(True)),
        metrics_row(
            "session-metrics-sdk",
            "metrics on, an SDK MeterProvider",
            metrics_state(True, meter_provider),
        ),
        switch_row(
            "metrics-none",
            "metrics on, no MeterProvider",
            "`OTEL_INSTRUMENTATION_AGENTOPS_METRICS=false`",
            metrics_state(True),
            metrics_state(False),
        ),
        switch_row(
            "metrics-sdk",
            "metrics on, an SDK MeterProvider",
            "`OTEL_INSTRUMENTATION_AGENTOPS_METRICS=false`",
            metrics_state(True, meter_provider),
            metrics_state(False, meter_provider),
        ),
        Comparison(
            "session-live-stuck",
            "`start_session()` + `end_session()`, the live thread stuck in the export of a "
            "snapshot (a collector that hangs)",
            "the same with the live thread idle",
            session_start_end,
            session_start_end,
            session_start_end,
            goal=1.2,
            prepare=live_thread(held=True),
            prepare_bare=live_thread(held=False),
            cleanup=restore,
            extra={"switch": True},
        ),
        Comparison(
            "processor-baggage",
            "third-party `start_as_current_span` in a request whose baggage names another "
            "service's session, stamped (`OTEL_INSTRUMENTATION_AGENTOPS_BAGGAGE=true`)",
            "off switch: the same span with the setting off, same provider",
            lambda: span_baseline(lib),
            lambda: span_baseline(lib),
            lambda: span_baseline(lib_clean),
            prepare=baggage_state(True),
            prepare_bare=baggage_state(False),
            context=in_request,
        ),
        switch_row(
            "session-baggage",
            "its id put in the context's baggage",
            "`OTEL_INSTRUMENTATION_AGENTOPS_BAGGAGE=false`",
            baggage_state(True),
            baggage_state(False),
        ),
    ]
    comparisons += log_rows(in_session)
    for comparison in comparisons:
        comparison.extra["kind"] = KIND[comparison.key]
    return comparisons


def log_rows(in_session: Context) -> list[Comparison]:
    """A ``logging`` call through the OpenTelemetry handler, the session stamp on and off.

    The pipeline ``opentelemetry-instrument`` makes: an SDK LoggerProvider, the handler of
    ``opentelemetry-instrumentation-logging``, an exporter (one that drops everything, behind
    a simple processor, so each call does all its work in the block that timed it). On: the
    record factory ``instrument()`` installs; off: the same without it.
    """
    import logging

    from opentelemetry.instrumentation.logging.handler import LoggingHandler
    from opentelemetry.sdk._logs import LoggerProvider, export
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor

    from opentelemetry_instrumentation_agentops._engine import attributes as attr
    from opentelemetry_instrumentation_agentops._runtime.owner import RUNTIME
    from opentelemetry_instrumentation_agentops._setup import logs

    exporter_class: Any = getattr(export, "LogRecordExporter", None) or export.LogExporter
    result: Any = getattr(export, "LogRecordExportResult", None) or export.LogExportResult

    class NullLogExporter(exporter_class):  # type: ignore[misc, valid-type]
        def export(self, batch: Any) -> Any:
            return result.SUCCESS

        def shutdown(self) -> None:
            pass

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return True

    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(SimpleLogRecordProcessor(NullLogExporter()))
    RUNTIME.settings.logger_provider = provider
    log = logging.getLogger("bench.logs")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(LoggingHandler(logger_provider=provider))
    holder = "bench"

    def stamp(on: bool) -> Any:
        def prepare(n: int) -> None:
            if on:
                logs.instrument(holder)
            else:
                RUNTIME.patches.release(holder)

        return prepare

    def log_line() -> None:
        log.info("step %d done", 7)

    by_hand = {attr.SESSION_ID: "5b7c1f0e-6f7e-4f5e-9d1c-2a3b4c5d6e7f"}

    def log_line_by_hand() -> None:
        log.info("step %d done", 7, extra=by_hand)

    def row(key: str, where: str, ctx: Context | None) -> Comparison:
        return Comparison(
            key,
            f"`logger.info(...)` through the OpenTelemetry logging handler, {where}, "
            "the session stamp on",
            "off switch: the same without the record factory `instrument()` installs",
            log_line,
            log_line,
            log_line,
            prepare=stamp(True),
            prepare_bare=stamp(False),
            cleanup=lambda: RUNTIME.patches.release(holder),
            context=ctx,
            extra={"switch": True},
        )

    floor = Comparison(
        "log-record-floor",
        'for scale: `logger.info(..., extra={"session.id": ...})`, the stamp given by hand',
        "the same call without `extra`",
        log_line_by_hand,
        log_line,
        log_line,
        prepare=stamp(False),
        prepare_bare=stamp(False),
        context=in_session,
        extra={"switch": True},
    )
    return [
        row("log-record", "in a session", in_session),
        row("log-record-idle", "no session", None),
        floor,
    ]


class _HoldTheLiveThread(SpanExporter):
    """An exporter that hangs for the live thread, while told to, and for no other thread."""

    def __init__(self) -> None:
        self.holding = False
        self.inside = threading.Event()
        self.release = threading.Event()

    def export(self, spans: Any) -> SpanExportResult:
        from opentelemetry_instrumentation_agentops._runtime.schedule import THREAD_NAME

        if self.holding and threading.current_thread().name == THREAD_NAME:
            self.inside.set()
            self.release.wait(60)  # a guard: the next baseline block releases it
            self.inside.clear()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def stick(self, snapshot_due: Any) -> None:
        """Hold the live thread in the export of the snapshot ``snapshot_due()`` schedules."""
        if self.inside.is_set():
            return
        self.release.clear()
        self.holding = True
        snapshot_due()
        if not self.inside.wait(10):
            raise RuntimeError("the live thread never exported a snapshot")

    def release_and_wait(self) -> None:
        self.holding = False
        self.release.set()
        deadline = time.monotonic() + 10
        while self.inside.is_set():
            if time.monotonic() > deadline:
                raise RuntimeError("the live thread never left the export")
            time.sleep(0.001)


if __name__ == "__main__":
    drive("opentelemetry-instrumentation-agentops", setup)
