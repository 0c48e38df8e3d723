"""``uninstrument()`` undoes what ``instrument()`` did, and only that (issue 20: D2, D4)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from support.span_file import read_spans, run_script
from support.spans import one_root

import opentelemetry_instrumentation_agentops as agentops
from opentelemetry_instrumentation_agentops import AgentOpsInstrumentor

END_STATE = "agentops.session.end_state"


def process_state() -> dict[str, object]:
    """Everything of the process that instrument() may change, as it is now.

    (``tests/compat/test_redirect.py`` checks the ``agentops`` package the same way.)
    """
    return {
        "sys.excepthook": sys.excepthook,
        "threading.excepthook": threading.excepthook,
        "SIGTERM": signal.getsignal(signal.SIGTERM),
        "sys.exit": sys.exit,
        **{f"Thread.{n}": vars(threading.Thread).get(n) for n in ("start", "run")},
        "Timer.run": vars(threading.Timer).get("run"),
        "ThreadPoolExecutor.submit": vars(ThreadPoolExecutor).get("submit"),
        "logging record factory": logging.getLogRecordFactory(),
    }


def test_d2_uninstrument_leaves_the_provider_init_was_given(warnings_log):
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    agentops.init(tracer_provider=provider, auto_start_session=False)
    instrumentor = AgentOpsInstrumentor()
    instrumentor.instrument()
    instrumentor.uninstrument()
    agentops.start_session(name="after").end_session()
    assert [s.name for s in exporter.get_finished_spans()] == ["session after"]
    assert not [m for m in warnings_log() if "nothing is exported" in m]


def test_d4_uninstrument_ends_the_process_session_and_restores_the_hooks(spans):
    before = process_state()
    instrumentor = AgentOpsInstrumentor()
    instrumentor.instrument(auto_start_session=True)
    (process,) = agentops.get_active_sessions()
    assert sys.excepthook is not before["sys.excepthook"]
    instrumentor.uninstrument()
    assert not process.is_running
    assert process.end_state == "Indeterminate"
    assert "uninstrumented" in process.end_state_reason
    assert agentops.get_active_sessions() == []
    assert process_state() == before


def test_d4_after_uninstrument_the_process_session_is_not_exported_again_at_exit(tmp_path):
    result = run_script(
        tmp_path,
        """
        trace.set_tracer_provider(make_provider())
        from opentelemetry_instrumentation_agentops import AgentOpsInstrumentor

        instrumentor = AgentOpsInstrumentor()
        instrumentor.instrument(auto_start_session=True)
        instrumentor.uninstrument()
        """,
    )
    assert result.returncode == 0, result.stderr
    root = one_root(read_spans(tmp_path / "spans.jsonl"), "session script.py")
    assert root["attributes"][END_STATE] == "Indeterminate"
    assert "nothing is exported" not in result.stderr


def test_a_thousand_instrument_uninstrument_cycles_leave_the_process_as_they_found_it():
    before = process_state()
    instrumentor = AgentOpsInstrumentor()
    for _ in range(1000):
        instrumentor.instrument(auto_start_session=True)
        assert process_state() != before
        instrumentor.uninstrument()
    assert process_state() == before
    assert agentops.get_active_sessions() == []
