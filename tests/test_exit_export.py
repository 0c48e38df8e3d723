"""Sessions running when the process stops are all exported, or a warning says which are not.

design.md section 6: at normal exit every running session is ended and exported before
the SDK shuts down, however many there are, and none is lost to a full export queue; on
SIGTERM as many as its bound allows; a session that cannot be exported (started in an
application's atexit handler after ours ran, ended after its provider was shut down)
logs one warning, and an exported session is never reported as "nothing is exported".

The programs run in a fresh interpreter with ``init()``'s own pipeline (OTLP/HTTP, the
SDK's default ``BatchSpanProcessor``) against a local OTLP receiver that answers each
request after 100 ms, as a busy collector across a network may: ended all at once, thousands
of sessions would overflow the SDK's queue of 2,048 spans.
"""

from __future__ import annotations

import signal
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from support.network import hung_collector, otlp_collector, otlp_span_dicts
from support.span_file import read_spans, run_script, signal_when_ready
from support.spans import one_root

import opentelemetry_instrumentation_agentops as agentops
from opentelemetry_instrumentation_agentops import AgentOpsInstrumentor

SLOW = 0.1  # seconds the receiver takes to answer each export request
END_STATE, REASON = "agentops.session.end_state", "agentops.session.end_state_reason"
QUEUE_FULL = "Queue full"  # what the SDK logs when it drops a span
UNEXPORTED = "sessions running as the process stops may not be exported"
NOTHING = "nothing is exported"

OPEN_AT_EXIT = """
import opentelemetry_instrumentation_agentops as agentops

agentops.init(exporter_endpoint=os.environ["ENDPOINT"], auto_start_session=False)
sessions = [agentops.start_session(name=f"open {n}") for n in range(int(os.environ["SESSIONS"]))]
print("ready", flush=True)
if os.environ["HOW"] == "exception":
    raise RuntimeError("boom")
if os.environ["HOW"] == "sigterm":
    time.sleep(120)
"""


def open_roots(received: list[tuple[str, bytes]]) -> dict[str, dict[str, Any]]:
    """The root spans of the "open {n}" sessions the receiver got, by session id."""
    return {
        span["attributes"]["session.id"]: span
        for span in otlp_span_dicts(received)
        if span["parent_span_id"] is None and span["name"].startswith("session open ")
    }


def unexported_count(stderr: str) -> int:
    """How many sessions the package's one warning says may not be exported (0: none)."""
    lines = [line for line in stderr.splitlines() if UNEXPORTED in line]
    assert len(lines) <= 1, lines
    return int(lines[0].split(" of ")[0].split()[-1]) if lines else 0


def open_at_exit(tmp_path, how: str, sessions: int, delay: float, timeout: int, **queue: str):
    """Run OPEN_AT_EXIT with ``sessions`` open as it stops ``how``; its result and what the
    collector (answering after ``delay``) received."""
    with otlp_collector(delay=delay) as (endpoint, received):
        result = run_script(
            tmp_path,
            OPEN_AT_EXIT,
            timeout=timeout,
            ENDPOINT=endpoint,
            SESSIONS=str(sessions),
            HOW=how,
            **queue,
        )
    return result, received


@pytest.mark.parametrize("sessions", [20_000])
def test_every_session_open_at_normal_exit_is_exported(tmp_path, sessions):
    result, received = open_at_exit(tmp_path, "exit", sessions, SLOW, 600)
    assert result.returncode == 0, result.stderr[-2000:]
    roots = open_roots(received)
    assert len(roots) == sessions
    assert {r["name"] for r in roots.values()} == {f"session open {n}" for n in range(sessions)}
    assert {r["attributes"][END_STATE] for r in roots.values()} == {"Indeterminate"}
    assert QUEUE_FULL not in result.stderr
    assert UNEXPORTED not in result.stderr


def test_the_chunks_follow_the_queue_the_sdk_is_configured_with(tmp_path):
    result, received = open_at_exit(
        tmp_path,
        "exit",
        2000,
        SLOW,
        300,
        OTEL_BSP_MAX_QUEUE_SIZE="200",
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE="100",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(open_roots(received)) == 2000
    assert QUEUE_FULL not in result.stderr


def test_an_uncaught_exception_ends_and_exports_every_session_fail(tmp_path):
    # A small queue: ending a session Fail records the exception, slower than ending it.
    result, received = open_at_exit(
        tmp_path,
        "exception",
        2000,
        2 * SLOW,
        300,
        OTEL_BSP_MAX_QUEUE_SIZE="100",
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE="50",
    )
    assert result.returncode == 1
    assert "RuntimeError: boom" in result.stderr
    roots = open_roots(received)
    assert len(roots) == 2000
    assert {r["attributes"][END_STATE] for r in roots.values()} == {"Fail"}
    assert {r["attributes"][REASON] for r in roots.values()} == {"uncaught RuntimeError: boom"}
    assert QUEUE_FULL not in result.stderr


def test_sigterm_exports_what_its_bound_allows_and_names_the_rest(tmp_path):
    """Within SIGTERM's bound each session is exported or counted in one warning."""
    with otlp_collector(delay=SLOW) as (endpoint, received):
        returncode, stderr = signal_when_ready(
            tmp_path,
            OPEN_AT_EXIT,
            signal.SIGTERM,
            timeout=60,
            ENDPOINT=endpoint,
            SESSIONS="5000",
            HOW="sigterm",
        )
    assert returncode == -signal.SIGTERM, stderr[-2000:]
    roots = open_roots(received)
    assert roots  # the bound let some through, whatever the machine's speed
    assert len(roots) + unexported_count(stderr) >= 5000
    assert {r["attributes"][END_STATE] for r in roots.values()} == {"Fail"}
    assert QUEUE_FULL not in stderr


def test_a_collector_that_hangs_at_exit_gets_one_warning_naming_the_sessions(tmp_path):
    with hung_collector() as traces_endpoint:
        result = run_script(
            tmp_path,
            OPEN_AT_EXIT,
            timeout=120,
            ENDPOINT=traces_endpoint.removesuffix("/v1/traces"),
            SESSIONS="3",
            HOW="exit",
            OTEL_INSTRUMENTATION_AGENTOPS_METRICS="false",
            OTEL_EXPORTER_OTLP_TIMEOUT="7",  # the SDK's own wait, past the package's 5 s
        )
    assert result.returncode == 0, result.stderr[-2000:]
    assert unexported_count(result.stderr) == 3


# -- lost without a word: never --------------------------------------------------------

STARTED_IN_ATEXIT = """
import atexit

import opentelemetry_instrumentation_agentops as agentops


def cleanup():  # registered before the package's handler: runs after it
    agentops.start_session(name="cleanup")


atexit.register(cleanup)
trace.set_tracer_provider(make_provider())
agentops.init(auto_start_session=False)
agentops.start_session(name="main")
"""


def test_a_session_started_in_an_atexit_handler_after_ours_is_named_in_a_warning(tmp_path):
    result = run_script(tmp_path, STARTED_IN_ATEXIT)
    assert result.returncode == 0, result.stderr
    (line,) = [x for x in result.stderr.splitlines() if "after the package's exit handler" in x]
    assert "cleanup" in line
    one_root(read_spans(tmp_path / "spans.jsonl"), "session main")  # ended by ours, exported


def test_a_session_ended_after_its_provider_shut_down_is_named_in_a_warning(warnings_log):
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    agentops.init(tracer_provider=provider, auto_start_session=False)
    first, second = agentops.start_session(name="late"), agentops.start_session(name="later")
    provider.shutdown()
    first.end_session()
    second.end_session()
    assert exporter.get_finished_spans() == ()
    (warning,) = [m for m in warnings_log() if "after its TracerProvider was shut down" in m]
    assert "late" in warning


def test_a_session_ended_before_its_provider_shut_down_gets_no_such_warning(warnings_log):
    provider = TracerProvider(shutdown_on_exit=False)
    agentops.init(tracer_provider=provider, auto_start_session=False)
    agentops.start_session(name="in time").end_session()
    provider.shutdown()
    assert not [m for m in warnings_log() if "shut down" in m]


def test_a_process_session_exported_through_a_proxy_is_not_reported_unexported(spans, warnings_log):
    """A provider held before the SDK's was set (a proxy) leads to it: sessions are exported."""
    instrumentor = AgentOpsInstrumentor()
    instrumentor.instrument(tracer_provider=trace.ProxyTracerProvider(), auto_start_session=True)
    (process,) = agentops.get_active_sessions()
    instrumentor.uninstrument()
    assert spans.root_of(process).attributes[END_STATE] == "Indeterminate"
    assert not [m for m in warnings_log() if NOTHING in m]


def test_a_process_session_started_before_any_provider_is_named_even_if_one_comes_later(
    tmp_path,
):
    result = run_script(
        tmp_path,
        """
        from opentelemetry_instrumentation_agentops import AgentOpsInstrumentor

        AgentOpsInstrumentor().instrument(auto_start_session=True)  # no provider yet
        trace.set_tracer_provider(make_provider())
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.count(NOTHING) == 1
    assert read_spans(tmp_path / "spans.jsonl") == []
