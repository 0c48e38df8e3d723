"""A fresh runtime and a fresh TracerProvider for each test (``tests/conftest.py`` uses them).

The global TracerProvider can be set once per process, so the one set for the test run
hands every tracer out from the current test's own SDK provider: ``trace.get_tracer()``
in a test, or in code under test, makes spans that no other test sees. The package's
runtime (``RUNTIME``) is reset between tests: every patch and hook undone, every
setting, cache and registry new.

This is the only test module that touches ``RUNTIME`` (``tests/test_architecture.py``
checks it): tests change settings through the public API (``configure()`` below is
``init()``), and the few helpers here that read or set what no public call reaches say
why each is needed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import opentelemetry.sdk.trace as sdk_trace
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import opentelemetry_instrumentation_agentops as agentops
from opentelemetry_instrumentation_agentops._engine import metrics, sessions
from opentelemetry_instrumentation_agentops._runtime.owner import RUNTIME, Runtime
from opentelemetry_instrumentation_agentops._runtime.schedule import IDLE, SLACK
from opentelemetry_instrumentation_agentops._runtime.settings import LOGGER_NAME

# Entries of ended sessions the snapshot schedule may keep beyond twice the running ones.
SCHEDULE_SLACK = SLACK
TESTS = "tests"  # the holder of what use_meter_provider() chooses, as init() is of its choices


class PerTestTracerProvider(trace.TracerProvider):
    """The process's global TracerProvider in the tests: the current test's SDK provider.

    With ``follow`` set (the framework tier), ``get_tracer()`` answers a ``FollowingTracer``:
    frameworks keep the tracer they got first (strands-agents' tracer, OpenLLMetry's
    LangChain callback handler), which would otherwise stay on the first test's provider,
    shut down, its spans exported nowhere and counted by another processor.
    """

    def __init__(self) -> None:
        self.current, self.exporter = self.fresh()
        self.follow = False

    @staticmethod
    def fresh() -> tuple[TracerProvider, InMemorySpanExporter]:
        provider = TracerProvider(shutdown_on_exit=False)
        exporter = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        return provider, exporter

    def next_test(self) -> None:
        """A new provider and exporter: what the test about to run sees."""
        self.current.shutdown()
        self.current, self.exporter = self.fresh()

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        if self.follow:
            return FollowingTracer(self, args, kwargs)
        return self.current.get_tracer(*args, **kwargs)

    def add_span_processor(self, processor: Any) -> None:
        self.current.add_span_processor(processor)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.current.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self.current.shutdown()


class FollowingTracer(trace.Tracer):
    """A tracer kept across tests that is, at each call, the current test's provider's."""

    def __init__(self, provider: PerTestTracerProvider, args: tuple, kwargs: dict) -> None:
        self.provider, self.args, self.kwargs = provider, args, kwargs

    def now(self) -> trace.Tracer:
        return self.provider.current.get_tracer(*self.args, **self.kwargs)

    def start_span(self, *args: Any, **kwargs: Any) -> trace.Span:
        return self.now().start_span(*args, **kwargs)

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return self.now().start_as_current_span(*args, **kwargs)


def fresh_runtime() -> Runtime:
    """The package's runtime, started afresh: nothing installed, nothing running.

    After ``monkeypatch.setenv``, it is the package as a process started with that
    environment has it (the environment is read at import, and again by ``init()``).
    """
    RUNTIME.reset()
    return RUNTIME


def end_everything() -> None:
    """End what a test left running, quietly, and give the next one a fresh runtime."""
    end_all_sessions_quietly()
    fresh_runtime()


def end_all_sessions_quietly() -> None:
    """End every running session with no warning and no strict-mode error: a test's
    leftovers, whatever mode the test left the package in."""
    logger = logging.getLogger(LOGGER_NAME)
    logger.disabled = True
    try:
        RUNTIME.settings.strict = False
        agentops.end_all_sessions()
    finally:
        logger.disabled = False


# -- settings: the public API, and the few a test reads back ----------------------------------


def configure(**options: Any) -> None:
    """``init(**options)``, without the session and the LLM client instrumentations a
    program's ``init()`` brings (those would outlive the test).

    The public way to change settings: the environment is read again (variables set with
    ``monkeypatch.setenv`` take effect), then ``capture_content=``, ``strict=``,
    ``tracer_provider=``, ... apply, and stay chosen until the next test.
    """
    agentops.init(auto_start_session=False, instrument_llm_calls=False, **options)


def setting(name: str) -> Any:
    """The value the package's setting ``name`` has now: for what no public call reads back
    (the live interval the environment gave, the parent key kept in memory)."""
    return getattr(RUNTIME.settings, name)


def settings_repr() -> str:
    """The settings as ``repr()`` shows them, as a debug log or a traceback's locals would."""
    return repr(RUNTIME.settings)


def use_meter_provider(provider: object) -> None:
    """Record session metrics on ``provider`` (``None``: on the global MeterProvider again).

    ``instrument(meter_provider=...)`` is the public way, and ``init()`` has no such
    argument; the global MeterProvider can be set once per process. So the provider is
    chosen as ``init()`` chooses its settings: ``instrument(meter_provider=...)`` wins over
    it while instrumented, and ``uninstrument()`` gives it back.
    """
    if provider is None:
        RUNTIME.settings.forget(TESTS)
    else:
        RUNTIME.settings.choose(TESTS, meter_provider=provider)


def metric_instruments() -> Any:
    """The metric instruments a session starting now records on; None when there is no
    MeterProvider to record on (whether any was made is seen nowhere else)."""
    return metrics.instruments()


# -- what only the runtime sees ---------------------------------------------------------------


def scheduled_sessions() -> list[Any]:
    """The snapshot schedule's entries, each as its session (None once it is gone): the
    fresh sessions' references (before their first snapshot), then the heap's entries.

    What a live session costs between its snapshots is an entry there, not a span: the
    tests of its bounds read it (the bytes are ``benchmarks/scale.py live``'s).
    """
    return RUNTIME.snapshots.watched()


def live_thread_idle() -> bool:
    """Whether the snapshot thread waits for the next session start to wake it (it does
    after a whole interval with no session waiting for a first snapshot): a test of that
    wake-up starts its session once this is true; no public call shows it."""
    return RUNTIME.snapshots.thread is not None and RUNTIME.snapshots.limit == IDLE


def is_the_runtime(item: object) -> bool:
    """Whether ``item`` is the package's runtime: a walk over what a session holds stops
    there, since the runtime reaches every session."""
    return item is RUNTIME


def hand_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """The wall clock of sessions and of the SDK's spans, stopped: the returned function moves
    it on by that many seconds. A session starts at its root span's start time and ends on
    its own clock, so durations are exact. A first live snapshot is due on the session's
    clock too: while the hand stays still, none comes due."""
    now = {"ns": 1_700_000_000 * 10**9}
    monkeypatch.setattr(sessions, "time", SimpleNamespace(time_ns=lambda: now["ns"]))
    monkeypatch.setattr(sdk_trace, "time_ns", lambda: now["ns"])

    def advance(seconds: float) -> None:
        now["ns"] += int(seconds * 1e9)

    return advance


class Tracer:
    """A tracer a test module holds for its whole run: the current test's, at each call."""

    def __init__(self, *args: Any) -> None:
        self.args = args

    def __getattr__(self, name: str) -> Any:
        return getattr(trace.get_tracer(*self.args), name)
