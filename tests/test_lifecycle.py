"""Process lifecycle (design.md section 6), each case in a fresh interpreter.

Every script exports through a ``BatchSpanProcessor`` into a JSON-lines file, so
a session only counts as exported if the SDK really exported it, usually in its
own shutdown at exit.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator

import pytest
from support.network import free_port, otlp_collector, otlp_spans
from support.span_file import last_json, read_spans, run_script, signal_when_ready
from support.spans import one_root, roots

END_STATE = "agentops.session.end_state"
END_REASON = "agentops.session.end_state_reason"
SESSION_ID = "session.id"


# -- normal exit ---------------------------------------------------------------


def test_exit_ends_open_sessions_indeterminate_and_exports_them(tmp_path):
    result = run_script(
        tmp_path,
        """
        trace.set_tracer_provider(make_provider())
        import opentelemetry_instrumentation_agentops as agentops

        agentops.start_session(name="first")
        agentops.start_session(name="second")
        """,
    )
    assert result.returncode == 0, result.stderr
    spans = read_spans(tmp_path / "spans.jsonl")
    for name in ("session first", "session second"):
        root = one_root(spans, name)
        assert root["attributes"][END_STATE] == "Indeterminate"
        reason = root["attributes"][END_REASON].lower()
        assert "process" in reason and "exit" in reason
        assert root["status"]["code"] == "UNSET"


def test_exit_exports_sessions_when_provider_is_created_after_first_session(tmp_path):
    # The SDK provider registers its atexit shutdown after our exit handler was
    # installed (by the first session); the sessions must still reach it.
    result = run_script(
        tmp_path,
        """
        import opentelemetry_instrumentation_agentops as agentops

        agentops.start_session(name="early")  # no provider yet: a no-op span
        trace.set_tracer_provider(make_provider())
        agentops.start_session(name="late")
        agentops.record(agentops.ActionEvent(action_type="step"))
        """,
    )
    assert result.returncode == 0, result.stderr
    spans = read_spans(tmp_path / "spans.jsonl")
    root = one_root(spans, "session late")
    assert root["attributes"][END_STATE] == "Indeterminate"
    assert "exit" in root["attributes"][END_REASON]
    (action,) = [s for s in spans if s["name"] == "action step"]
    assert action["parent_span_id"] == root["span_id"]


def test_exit_leaves_sessions_of_still_running_threads_to_those_threads(tmp_path):
    # The main thread returns while a non-daemon worker still runs its session:
    # the process has not exited yet, so the worker's own end state must win.
    result = run_script(
        tmp_path,
        """
        import threading

        trace.set_tracer_provider(make_provider())
        import opentelemetry_instrumentation_agentops as agentops

        session = agentops.start_session(name="worker")

        def work():
            time.sleep(0.3)
            session.record(agentops.ActionEvent(action_type="late"))
            session.end_session("Success")

        threading.Thread(target=work).start()
        """,
    )
    assert result.returncode == 0, result.stderr
    root = one_root(read_spans(tmp_path / "spans.jsonl"), "session worker")
    assert root["attributes"][END_STATE] == "Success", root["attributes"]
    assert root["attributes"]["agentops.session.actions"] == 1
    assert "already ended" not in result.stderr


# -- uncaught exception ----------------------------------------------------------


def test_uncaught_exception_ends_session_fail_with_the_exception(tmp_path):
    result = run_script(
        tmp_path,
        """
        trace.set_tracer_provider(make_provider())
        import opentelemetry_instrumentation_agentops as agentops

        agentops.start_session(name="doomed")
        raise RuntimeError("boom in main")
        """,
    )
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "RuntimeError: boom in main" in result.stderr
    root = one_root(read_spans(tmp_path / "spans.jsonl"), "session doomed")
    assert root["attributes"][END_STATE] == "Fail"
    assert root["status"]["code"] == "ERROR"
    assert "RuntimeError" in root["status"]["description"]
    exceptions = [e for e in root["events"] if e["name"] == "exception"]
    assert len(exceptions) == 1
    assert exceptions[0]["attributes"]["exception.type"] == "RuntimeError"
    assert exceptions[0]["attributes"]["exception.message"] == "boom in main"


# -- fork -------------------------------------------------------------------------

FORK_SCRIPT = """
trace.set_tracer_provider(provider := make_provider())
import opentelemetry_instrumentation_agentops as agentops

parent = agentops.start_session(name="parent")
agentops.record(agentops.ActionEvent(action_type="before-fork"))
pid = os.fork()
if pid == 0:
    child = agentops.start_session(name="child")
    agentops.record(agentops.ActionEvent(action_type="in-child"))
    if os.environ["CHILD_EXIT"] == "os._exit":
        child.end_session("Success")
        provider.force_flush()
        os._exit(0)
    sys.exit(0)  # the child's session is left to the exit handler
_, status = os.waitpid(pid, 0)
parent.record(agentops.ActionEvent(action_type="after-fork"))
parent.end_session("Success")
print(json.dumps({
    "parent_pid": os.getpid(),
    "child_pid": pid,
    "child_exit": os.waitstatus_to_exitcode(status),
    "parent_session": parent.session_id,
}))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize(
    ("child_exit", "child_end_state"),
    [("os._exit", "Success"), ("sys.exit", "Indeterminate")],
)
def test_forked_child_never_ends_or_exports_parent_session(tmp_path, child_exit, child_end_state):
    result = run_script(tmp_path, FORK_SCRIPT, CHILD_EXIT=child_exit)
    assert result.returncode == 0, result.stderr
    info = last_json(result.stdout)
    assert info["child_exit"] == 0
    spans = read_spans(tmp_path / "spans.jsonl")

    parent_roots = [
        s for s in roots(spans) if s["attributes"].get(SESSION_ID) == info["parent_session"]
    ]
    assert len(parent_roots) == 1, parent_roots
    assert parent_roots[0]["pid"] == info["parent_pid"]
    assert parent_roots[0]["attributes"][END_STATE] == "Success"
    assert parent_roots[0]["attributes"]["agentops.session.actions"] == 2
    child_spans = [s for s in spans if s["pid"] == info["child_pid"]]
    assert all(s["attributes"].get(SESSION_ID) != info["parent_session"] for s in child_spans)
    assert [s["name"] for s in spans].count("action before-fork") == 1

    child_root = one_root(spans, "session child")
    assert child_root["pid"] == info["child_pid"]
    assert child_root["attributes"][END_STATE] == child_end_state
    assert child_root["attributes"][SESSION_ID] != info["parent_session"]
    (in_child,) = [s for s in spans if s["name"] == "action in-child"]
    assert in_child["pid"] == info["child_pid"]
    assert in_child["parent_span_id"] == child_root["span_id"]


# -- SIGTERM ------------------------------------------------------------------------

SIGTERM_SCRIPT = """
import signal

import opentelemetry_instrumentation_agentops as agentops

if os.environ.get("APP_HANDLER"):
    def on_term(signum, frame):
        with open(os.environ["MARKER"], "w") as marker:
            marker.write("app handler ran")
        sys.exit(0)

    signal.signal(signal.SIGTERM, on_term)

provider = make_provider()
agentops.init(auto_start_session=True, tracer_provider=provider)
agentops.record(agentops.ActionEvent(action_type="working"))
print("ready", flush=True)
time.sleep(30)
print("not terminated", flush=True)
"""


def run_until_sigterm(tmp_path, **env: str) -> tuple[int, str]:
    """Start SIGTERM_SCRIPT, wait for "ready", send SIGTERM; the exit code and stderr."""
    return signal_when_ready(tmp_path, SIGTERM_SCRIPT, signal.SIGTERM, timeout=20, **env)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_ends_session_fail_then_dies_of_sigterm(tmp_path):
    returncode, stderr = run_until_sigterm(tmp_path)
    assert returncode == -signal.SIGTERM, stderr
    root = one_root(read_spans(tmp_path / "spans.jsonl"), "session")
    assert root["attributes"][END_STATE] == "Fail"
    assert "SIGTERM" in root["attributes"][END_REASON]
    assert root["status"]["code"] == "ERROR"
    assert root["attributes"]["agentops.session.actions"] == 1


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_handler_of_the_application_is_left_alone(tmp_path):
    marker = tmp_path / "marker"
    returncode, stderr = run_until_sigterm(tmp_path, APP_HANDLER="1", MARKER=str(marker))
    assert returncode == 0, stderr
    assert marker.read_text() == "app handler ran"
    root = one_root(read_spans(tmp_path / "spans.jsonl"), "session")
    assert root["attributes"][END_STATE] == "Indeterminate"
    assert "exit" in root["attributes"][END_REASON]
    assert "SIGTERM" not in root["attributes"][END_REASON]


# -- no network on the session's path ---------------------------------------------


def test_end_session_does_not_wait_for_an_unreachable_collector(tmp_path):
    """end_session() returns while the export to the collector is still under way.

    How long it takes with the collector down: ``benchmarks/faults.py offline`` (Faults table).
    """
    port = free_port()  # nobody listens: connections are refused
    result = run_script(
        tmp_path,
        """
        import threading

        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter


        class HeldExporter(OTLPSpanExporter):
            \"\"\"Each export waits for the script's go, then tries the unreachable collector.\"\"\"

            exporting, go, returned = threading.Event(), threading.Event(), threading.Event()

            def export(self, spans):
                self.exporting.set()
                self.go.wait(20)  # only a guard: the script lets it go
                try:
                    return super().export(spans)
                finally:
                    self.returned.set()


        provider = make_provider()
        endpoint = f"http://127.0.0.1:{os.environ['CLOSED_PORT']}/v1/traces"
        # A 2 s export timeout (default 10 s) only shortens the SDK's retries at exit.
        otlp = HeldExporter(endpoint=endpoint, timeout=2)
        provider.add_span_processor(BatchSpanProcessor(otlp, schedule_delay_millis=50))
        trace.set_tracer_provider(provider)
        import opentelemetry_instrumentation_agentops as agentops

        session = agentops.start_session(name="offline")
        for _ in range(20):
            agentops.record(agentops.ActionEvent(action_type="step"))
        exporting = otlp.exporting.wait(20)  # the batch of the 20 actions is being exported
        agentops.end_session("Success")
        waited = otlp.returned.is_set()
        otlp.go.set()
        print(json.dumps({"exporting": exporting, "end_session_waited_for_it": waited}))
        """,
        timeout=90,
        CLOSED_PORT=str(port),
    )
    assert result.returncode == 0, result.stderr
    assert last_json(result.stdout) == {"exporting": True, "end_session_waited_for_it": False}
    assert "Failed to export" in result.stderr or "Connection refused" in result.stderr
    root = one_root(read_spans(tmp_path / "spans.jsonl"), "session offline")
    assert root["attributes"][END_STATE] == "Success"
    assert root["attributes"]["agentops.session.actions"] == 20


# -- init() and the application's OpenTelemetry setup ----------------------------


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    """An OTLP/HTTP collector on loopback: its base URL and the requests it received."""
    with otlp_collector() as endpoint_and_received:
        yield endpoint_and_received


def test_init_without_provider_configures_sdk_provider_exporting_otlp(tmp_path, collector):
    endpoint, received = collector
    result = run_script(
        tmp_path,
        """
        from opentelemetry.sdk.trace import TracerProvider as SDKTracerProvider

        import opentelemetry_instrumentation_agentops as agentops

        agentops.init(auto_start_session=False)
        provider = trace.get_tracer_provider()
        with agentops.start_session(name="via-otlp"):
            pass
        print(json.dumps({"sdk": isinstance(provider, SDKTracerProvider)}))
        """,
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
    )
    assert result.returncode == 0, result.stderr
    assert last_json(result.stdout) == {"sdk": True}
    exported = otlp_spans(received)
    assert [name for name, _ in exported] == ["session via-otlp"]
    assert exported[0][1][END_STATE] == "Success"


def test_init_keeps_the_provider_the_application_set(tmp_path, collector):
    endpoint, received = collector
    result = run_script(
        tmp_path,
        """
        import opentelemetry_instrumentation_agentops as agentops

        mine = make_provider()
        trace.set_tracer_provider(mine)
        agentops.init(auto_start_session=False)
        with agentops.start_session(name="mine"):
            pass
        print(json.dumps({"kept": trace.get_tracer_provider() is mine}))
        """,
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
    )
    assert result.returncode == 0, result.stderr
    assert last_json(result.stdout) == {"kept": True}
    root = one_root(read_spans(tmp_path / "spans.jsonl"), "session mine")
    assert root["attributes"][END_STATE] == "Success"
    assert received == [], "init() added an OTLP exporter to the application's provider"


def test_init_patches_neither_builtins_nor_the_opentelemetry_logger(tmp_path, collector):
    endpoint, received = collector
    result = run_script(
        tmp_path,
        """
        import builtins
        import logging

        otel_logger = logging.getLogger("opentelemetry")

        def snapshot():
            return {
                "print": id(builtins.print),
                "import": id(builtins.__import__),
                "handlers": [id(h) for h in otel_logger.handlers],
                "level": otel_logger.level,
                "propagate": otel_logger.propagate,
                "disabled": otel_logger.disabled,
            }

        before = snapshot()
        import opentelemetry_instrumentation_agentops as agentops

        agentops.init()
        agentops.record(agentops.ActionEvent(action_type="step"))
        agentops.end_session("Success")
        print(json.dumps({"before": before, "after": snapshot()}))
        """,
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
    )
    assert result.returncode == 0, result.stderr
    state = last_json(result.stdout)
    assert state["after"] == state["before"]
    names = sorted(name for name, _ in otlp_spans(received))
    assert names == ["action step", "session"]
