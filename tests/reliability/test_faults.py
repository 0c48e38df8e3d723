"""Faults: a collector that is down or hangs, SIGTERM, uncaught exceptions, multiprocessing.

Each case is an agent program in a fresh interpreter exporting to a JSON-lines span
file (``agents.py``), so the assertions are on what was really exported. What
``tests/test_lifecycle.py`` already covers (one session and SIGTERM, an application's
own SIGTERM handler, a bare ``os.fork``, an uncaught exception with one session) is not
repeated; these cases add load, threads, hung collectors and multiprocessing.
"""

from __future__ import annotations

import signal
import sys

import pytest
from support.network import free_port, hung_collector
from support.spans import in_trace, one_root, session_roots

from .agents import count, figures, run_agent, run_until_signal
from .checks import LEDGER, scale

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.skipif(sys.platform != "linux", reason="POSIX signals, fork and /proc"),
]

END_STATE = "agentops.session.end_state"
REASON = "agentops.session.end_state_reason"
OFFLINE_SESSIONS = scale(2_000, 20_000)
BATCH_QUEUE = 2048 + 512  # the SDK BatchSpanProcessor's queue and the batch being sent

# -- the collector is down for the whole run ------------------------------------------------

OFFLINE = """
import gc

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(SPAN_FILE)))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # OTEL_EXPORTER_OTLP_*
trace.set_tracer_provider(provider)
agentops.init(api_key="unused", auto_start_session=False)


@agentops.record_tool("search")
def search(query):
    agentops.record(agentops.LLMEvent(model="m", prompt_tokens=5, completion_tokens=7))
    return query


for i in range(int(os.environ["SESSIONS"])):
    agentops.start_session(name=f"s{i}")
    agentops.record(agentops.ActionEvent(action_type="plan"))
    search("x")
    agentops.end_session("Success")
gc.collect()
live_spans = sum(isinstance(o, ReadableSpan) for o in gc.get_objects())
live_sessions = sum(isinstance(o, agentops.Session) for o in gc.get_objects())
report(live_spans=live_spans, live_sessions=live_sessions)
"""


def test_collector_down_for_the_whole_run(tmp_path):
    """How long end_session() takes and how much memory grows meanwhile are rows of the
    benchmarks' Faults table (``benchmarks/faults.py offline``)."""
    port = free_port()  # nobody listens: connections are refused
    result, spans = run_agent(
        tmp_path,
        OFFLINE,
        timeout=300,
        SESSIONS=str(OFFLINE_SESSIONS),
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}",
        OTEL_EXPORTER_OTLP_TIMEOUT="1",  # seconds per export attempt: only shortens the exit
    )
    LEDGER["faults injected"] += 1
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "Connection refused" in result.stderr  # the fault really happened
    run = figures(result.stdout, "collector down")
    # None but the last: the context it ended in remembers it (design.md section 5, rule 1).
    assert run["live_sessions"] <= 1, run
    # What is kept is bounded by the exporter's queue, not by the number of sessions.
    assert run["live_spans"] <= BATCH_QUEUE + 16, run
    sessions = session_roots(spans)
    assert len(sessions) == OFFLINE_SESSIONS
    for name, (root,) in sessions.items():
        assert root["attributes"][END_STATE] == "Success", name
        assert root["attributes"]["agentops.session.llm_calls"] == 1, name
    assert len(spans) == 4 * OFFLINE_SESSIONS
    count(spans)


# -- a collector that hangs: exit and SIGTERM still end the sessions and the process -------
# (how long they take against the flush bound: ``benchmarks/faults.py exits``, Faults table)

HUNG = """
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

# No SDK shutdown at exit: what the exit costs is what this package adds.
provider = TracerProvider(shutdown_on_exit=False)
provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(SPAN_FILE)))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=os.environ["HUNG"])))
agentops.init(tracer_provider=provider, auto_start_session=False)
for n in range(3):
    agentops.start_session(name=f"left{n}")
    for _ in range(700):  # enough for the exporter to be stuck on a batch, more queued
        agentops.record(agentops.ActionEvent(action_type=f"left{n}"))
time.sleep(0.2)
report()
if os.environ["HOW"] == "exception":
    raise RuntimeError("leaving by an exception")
"""


@pytest.mark.parametrize(("how", "end_state"), [("exit", "Indeterminate"), ("exception", "Fail")])
def test_exit_with_a_hung_collector_still_ends_and_exports_the_sessions(tmp_path, how, end_state):
    with hung_collector() as endpoint:  # the timeout only guards against a hang
        result, spans = run_agent(tmp_path, HUNG, timeout=120, HUNG=endpoint, HOW=how)
    LEDGER["faults injected"] += 1
    assert result.returncode == (0 if how == "exit" else 1), result.stderr[-2000:]
    figures(result.stdout, f"hung collector, {how}")
    for n in range(3):
        root = one_root(spans, f"session left{n}")
        assert root["attributes"][END_STATE] == end_state
        assert len(in_trace(spans, root)) == 701
    count(spans)


# -- SIGTERM while sessions run in threads -------------------------------------------------

TERMINATED = """
import threading

from opentelemetry_instrumentation_agentops import AgentOpsInstrumentor

WORKERS = 4
provider = make_provider()
if os.environ.get("HUNG"):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=os.environ["HUNG"])))
if os.environ["SETUP"] == "init":
    agentops.init(tracer_provider=provider, auto_start_session=False)
else:
    AgentOpsInstrumentor().instrument(tracer_provider=provider)
ready = threading.Barrier(WORKERS + 1)


def work(n):
    agentops.start_session(name=f"worker{n}")
    agentops.record(agentops.ActionEvent(action_type=f"before{n}"))
    ready.wait()
    while True:
        agentops.record(agentops.ActionEvent(action_type=f"busy{n}"))
        time.sleep(0.005)


for n in range(WORKERS):
    threading.Thread(target=work, args=(n,), daemon=True).start()
ready.wait()
time.sleep(0.1)
print("ready", flush=True)
time.sleep(60)
"""


def _assert_terminated_workers(spans: list[dict]) -> None:
    for n in range(4):
        root = one_root(spans, f"session worker{n}")
        assert root["attributes"][END_STATE] == "Fail"
        assert "SIGTERM" in root["attributes"][REASON]
        assert root["status"]["code"] == "ERROR"
        names = {s["name"] for s in in_trace(spans, root)}
        assert f"action before{n}" in names
        assert names <= {f"session worker{n}", f"action before{n}", f"action busy{n}"}, names
    count(spans)


@pytest.mark.parametrize("setup", ["init", "instrumentor"])
def test_sigterm_ends_the_sessions_of_every_thread_then_dies_of_it(tmp_path, setup):
    returncode, stderr, spans = run_until_signal(tmp_path, TERMINATED, SETUP=setup)
    LEDGER["faults injected"] += 1
    assert returncode == -signal.SIGTERM, stderr[-2000:]
    _assert_terminated_workers(spans)


def test_sigterm_with_a_hung_collector_still_ends_the_sessions_and_dies_of_it(tmp_path):
    with hung_collector() as endpoint:  # run_until_signal's timeout only guards against a hang
        returncode, stderr, spans = run_until_signal(
            tmp_path, TERMINATED, SETUP="init", HUNG=endpoint
        )
    LEDGER["faults injected"] += 1
    assert returncode == -signal.SIGTERM, stderr[-2000:]
    _assert_terminated_workers(spans)


# -- uncaught exceptions --------------------------------------------------------------------

THREAD_CRASH = """
import threading

agentops.init(tracer_provider=(provider := make_provider()), auto_start_session=False)
sessions = {}


def crash():
    sessions["crashing"] = agentops.start_session(name="crashing")
    agentops.record(agentops.ActionEvent(action_type="before-crash"))
    raise ValueError("worker boom")


def calm():
    sessions["calm"] = agentops.start_session(name="calm")
    agentops.record(agentops.ActionEvent(action_type="calm-step"))


for target in (crash, calm):
    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
running_after_crash = sessions["crashing"].is_running
sessions["crashing"].record(agentops.ActionEvent(action_type="after-crash"))
for session in sessions.values():
    session.end_session("Success")
report(running_after_crash=running_after_crash)
"""


def test_worker_thread_exception_is_an_error_of_its_session_only(tmp_path):
    result, spans = run_agent(tmp_path, THREAD_CRASH)
    LEDGER["faults injected"] += 1
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ValueError: worker boom" in result.stderr  # Python's own report still printed
    assert figures(result.stdout, "thread crash")["running_after_crash"] is True
    crashing = one_root(spans, "session crashing")
    assert crashing["attributes"][END_STATE] == "Success"  # ended by the program, later
    assert crashing["attributes"]["agentops.session.errors"] == 1
    assert crashing["attributes"]["agentops.session.actions"] == 2
    (error,) = [s for s in in_trace(spans, crashing) if s["name"] == "error ValueError"]
    assert error["status"]["code"] == "ERROR"
    (exception,) = [e for e in error["events"] if e["name"] == "exception"]
    assert exception["attributes"]["exception.message"] == "worker boom"
    calm = one_root(spans, "session calm")
    assert calm["attributes"]["agentops.session.errors"] == 0
    assert [s["name"] for s in in_trace(spans, calm)].count("error ValueError") == 0
    count(spans)


MAIN_CRASH = """
import threading

agentops.init(tracer_provider=make_provider(), auto_start_session=False)
ready = threading.Barrier(4)


def work(n):
    agentops.start_session(name=f"worker{n}")
    agentops.record(agentops.ActionEvent(action_type=f"step{n}"))
    ready.wait()
    threading.Event().wait()


for n in range(3):
    threading.Thread(target=work, args=(n,), daemon=True).start()
ready.wait()
raise RuntimeError("main boom")
"""


def test_main_thread_exception_fails_the_sessions_of_every_thread(tmp_path):
    result, spans = run_agent(tmp_path, MAIN_CRASH)
    LEDGER["faults injected"] += 1
    assert result.returncode == 1
    assert "RuntimeError: main boom" in result.stderr
    for n in range(3):
        root = one_root(spans, f"session worker{n}")
        assert root["attributes"][END_STATE] == "Fail"
        assert "RuntimeError" in root["attributes"][REASON]
        (exception,) = [e for e in root["events"] if e["name"] == "exception"]
        assert exception["attributes"]["exception.message"] == "main boom"
        assert {s["name"] for s in in_trace(spans, root)} == {
            f"session worker{n}",
            f"action step{n}",
        }
    count(spans)


# -- multiprocessing ------------------------------------------------------------------------

POOL = """
import multiprocessing

from opentelemetry.sdk.trace import TracerProvider as SDKTracerProvider

TASKS = 12


def default_provider():
    # The SDK's defaults: a span waits up to 5 s in the queue before its batch is sent.
    provider = SDKTracerProvider()
    provider.add_span_processor(BatchSpanProcessor(FileSpanExporter(SPAN_FILE)))
    return provider


def setup_worker():
    if not isinstance(trace.get_tracer_provider(), SDKTracerProvider):  # spawn: a new process
        trace.set_tracer_provider(default_provider())


def task(k):
    with agentops.start_session(name=f"task{k}") as session:
        agentops.record(agentops.ActionEvent(action_type=f"task{k}"))
    if k % 4 == 0:  # and one left running: the worker's exit must end and export it
        agentops.start_session(name=f"left{k}")
    return os.getpid(), session.session_id


if __name__ == "__main__":
    trace.set_tracer_provider(default_provider())
    parent = agentops.start_session(name="parent")
    agentops.record(agentops.ActionEvent(action_type="before"))
    pool = multiprocessing.get_context(os.environ["METHOD"]).Pool(2, initializer=setup_worker)
    done = pool.map(task, range(TASKS), chunksize=1)
    pool.close()
    pool.join()
    agentops.record(agentops.ActionEvent(action_type="after"))
    parent.end_session("Success")
    report(parent_pid=os.getpid(), parent_session=parent.session_id, tasks=done)
"""


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_pool_workers_export_their_own_sessions_and_never_the_parents(tmp_path, method):
    result, spans = run_agent(tmp_path, POOL, METHOD=method)
    assert result.returncode == 0, result.stderr[-2000:]
    run = figures(result.stdout, f"multiprocessing {method}")
    parent_pid = run["parent_pid"]
    parent = one_root(spans, "session parent")
    assert parent["pid"] == parent_pid
    assert parent["attributes"][END_STATE] == "Success"
    assert parent["attributes"]["agentops.session.actions"] == 2
    assert sorted(s["name"] for s in in_trace(spans, parent)) == [
        "action after",
        "action before",
        "session parent",
    ]
    assert all(s["pid"] == parent_pid for s in in_trace(spans, parent))
    for k, (pid, session_id) in enumerate(run["tasks"]):
        assert pid != parent_pid
        root = one_root(spans, f"session task{k}")
        assert (root["pid"], root["attributes"]["session.id"]) == (pid, session_id)
        assert root["attributes"][END_STATE] == "Success"
        assert [s["name"] for s in in_trace(spans, root)].count(f"action task{k}") == 1
        if k % 4 == 0:
            left = one_root(spans, f"session left{k}")
            assert left["pid"] == pid
            assert left["attributes"][END_STATE] == "Indeterminate"
    count(spans)
