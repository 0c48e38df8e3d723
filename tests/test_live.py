"""Live sessions: snapshot spans while a session runs (design.md section 4, "Live sessions")."""

from __future__ import annotations

import contextvars
import gc
import itertools
import threading
import time
import weakref
from collections import Counter

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from support.runtime import (
    SCHEDULE_SLACK,
    configure,
    fresh_runtime,
    live_thread_idle,
    scheduled_sessions,
    setting,
)
from support.span_file import read_spans, run_script

import opentelemetry_instrumentation_agentops as agentops

LIVE = "agentops.session.live"
LIVE_INTERVAL_ENV = "OTEL_INSTRUMENTATION_AGENTOPS_LIVE_INTERVAL"
THREAD_NAME = "agentops-live"  # the one thread that makes the snapshots
INTERVAL = 0.1


def snapshots(spans, session=None) -> list:
    found = [s for s in spans.all() if s.attributes.get(LIVE) is True]
    if session is not None:
        found = [s for s in found if s.context.trace_id == session.trace_id]
    return sorted(found, key=lambda s: s.start_time)


def wait_for(condition, timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


def live_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


def live_interval(monkeypatch: pytest.MonkeyPatch, seconds: str) -> None:
    """The package as a process started with ``OTEL_INSTRUMENTATION_AGENTOPS_LIVE_INTERVAL``."""
    monkeypatch.setenv(LIVE_INTERVAL_ENV, seconds)
    fresh_runtime()


@pytest.fixture
def interval(monkeypatch):
    live_interval(monkeypatch, str(INTERVAL))
    return INTERVAL


def test_a_long_session_has_snapshots_with_growing_totals_in_order(spans, interval):
    session = agentops.start_session(
        tags=["night"], name="batch", session_id="chat-9", attributes={"team": "ops"}
    )
    for n in (1, 2, 3):
        session.record(agentops.LLMEvent(model="m", prompt_tokens=10, completion_tokens=n))
        wait_for(lambda n=n: len(snapshots(spans, session)) >= n, what=f"snapshot {n}")
    session.end_session()

    (root,) = spans.roots()
    taken = snapshots(spans, session)
    assert len(taken) == 3
    for k, snap in enumerate(taken):
        assert snap.name == root.name
        assert snap.parent.span_id == root.context.span_id
        assert snap.start_time == snap.end_time
        # Never early: due at 1, 3, 7 intervals after the start (each gap twice the last).
        assert snap.start_time - root.start_time >= (2 ** (k + 1) - 1) * interval * 1e9 * 0.99
        assert root.start_time <= snap.start_time <= root.end_time
        attributes = dict(snap.attributes)
        assert attributes.pop(LIVE) is True
        assert attributes == {
            "session.id": "chat-9",
            "gen_ai.conversation.id": "chat-9",
            "agentops.session.name": "batch",
            "agentops.session.tags": ("night",),
            "team": "ops",
            "openinference.span.kind": "AGENT",
            "agentops.session.llm_calls": k + 1,
            "agentops.session.tool_calls": 0,
            "agentops.session.actions": 0,
            "agentops.session.errors": 0,
            "gen_ai.usage.input_tokens": 10 * (k + 1),
            "gen_ai.usage.output_tokens": sum(range(1, k + 2)),
        }
    assert "agentops.session.end_state" not in taken[-1].attributes
    # Snapshots are the package's own spans: the totals never count them.
    assert root.attributes["agentops.session.llm_calls"] == 3


def test_a_snapshot_carries_the_tags_set_while_running(spans, interval):
    session = agentops.start_session(tags=["a"])
    session.add_tags(["b"])
    wait_for(lambda: snapshots(spans, session), what="a snapshot")
    assert snapshots(spans, session)[0].attributes["agentops.session.tags"] == ("a", "b")
    assert snapshots(spans, session)[0].attributes["session.id"] == session.session_id


def test_a_session_shorter_than_the_interval_has_none(spans, interval):
    with agentops.start_session(name="short"):
        time.sleep(interval / 4)
    time.sleep(interval * 4)
    assert snapshots(spans) == []


def test_no_snapshot_after_the_session_ended(spans, interval):
    session = agentops.start_session(name="ends")
    wait_for(lambda: snapshots(spans, session), what="the first snapshot")
    session.end_session()
    count = len(snapshots(spans, session))
    time.sleep(interval * 8)  # past the next two due times
    assert len(snapshots(spans, session)) == count
    (root,) = spans.roots()
    assert all(s.start_time <= root.end_time for s in snapshots(spans, session))


def test_zero_turns_them_off(spans, monkeypatch):
    live_interval(monkeypatch, "0")
    before = len(scheduled_sessions())
    with agentops.start_session(name="off"):
        assert len(scheduled_sessions()) == before  # not even an entry
        time.sleep(0.2)
    assert snapshots(spans) == []


@pytest.mark.parametrize(
    ("value", "seconds"), [("2.5", 2.5), ("0", 0.0), ("0.05", 0.05), ("soon", 10.0), ("-1", 10.0)]
)
def test_the_interval_comes_from_the_environment(monkeypatch, value, seconds):
    live_interval(monkeypatch, value)
    assert setting("live_interval") == seconds


def test_the_default_is_ten_seconds(monkeypatch):
    monkeypatch.delenv(LIVE_INTERVAL_ENV, raising=False)
    fresh_runtime()
    assert setting("live_interval") == 10.0


def test_a_dropped_root_gets_no_snapshot_and_leaves_the_schedule(interval):
    """Whether the root is recorded is the schedule thread's question, not the start's: the
    session's reference is dropped there, while the session still runs."""
    provider = TracerProvider(sampler=agentops.SessionSampler(0.0))
    configure(tracer_provider=provider)
    session = agentops.start_session(session_id="dropped")
    wait_for(lambda: session not in scheduled_sessions(), what="the schedule to drop it")
    assert not session.ended
    time.sleep(interval * 2)  # past its due time: it is not back
    assert session not in scheduled_sessions()
    session.end_session()


class _BlockingExporter(SpanExporter):
    """Holds every export until released: a collector that hangs."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.left = threading.Event()

    def export(self, spans):
        self.entered.set()
        self.release.wait(10)  # only a guard: the test releases it
        self.left.set()
        return SpanExportResult.SUCCESS


def test_a_hung_export_of_a_snapshot_never_blocks_the_application(interval):
    """How long the application takes meanwhile: ``session-live-stuck`` in benchmarks/ours.py."""
    exporter = _BlockingExporter()
    provider = TracerProvider()
    configure(tracer_provider=provider)
    first = agentops.start_session(name="first")  # its root ends later, after the release
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        assert exporter.entered.wait(5), "no snapshot was exported"
        # The live thread is stuck inside the export; the application goes on.
        second = agentops.start_session(name="second")
        stuck_meanwhile = not exporter.left.is_set()
        exporter.release.set()
        second.end_session()
        first.end_session()
    finally:
        exporter.release.set()
    assert stuck_meanwhile, "start_session() waited for the snapshot's export"


def test_a_thousand_long_sessions_cost_one_thread_and_one_entry_each(spans, interval):
    """What the entries weigh in bytes: ``benchmarks/scale.py live``, a row of its Scale table."""
    count = 1000
    sessions = [agentops.start_session(name=f"long {n}") for n in range(count)]
    _assert_one_entry_at_most_per_session(sessions)
    wait_for(lambda: len(snapshots(spans)) >= 2 * count, timeout=60, what="two snapshots each")
    assert len(live_threads()) == 1
    _assert_one_entry_at_most_per_session(sessions)
    for session in sessions:
        session.end_session()
    # Every entry is dropped when it comes due next (at most 4 intervals away).
    wait_for(lambda: not scheduled_sessions(), timeout=10, what="an empty schedule")
    assert {s.context.trace_id for s in snapshots(spans)} == {s.trace_id for s in sessions}


def ended_entries() -> int:
    """Entries of the schedule whose session has ended (or is gone)."""
    return sum(1 for session in scheduled_sessions() if session is None or session.ended)


def test_sessions_ended_before_their_first_snapshot_leave_the_schedule(spans, monkeypatch):
    """The schedule is bounded by the sessions running, not by every session started."""
    live_interval(monkeypatch, "10")  # the default: nothing comes due during the test
    held = [agentops.start_session(name=f"long {n}") for n in range(100)]
    most = 0
    for n in range(5000):
        agentops.start_session(name=f"short {n}").end_session()
        most = max(most, len(scheduled_sessions()))
    # Never more entries than twice the sessions running (the short one included), + slack.
    assert most <= 2 * (len(held) + 1) + SCHEDULE_SLACK + 1
    assert len(scheduled_sessions()) - ended_entries() == len(held)  # none running lost
    for session in held:
        session.end_session()


def test_running_sessions_keep_their_snapshots_while_ended_ones_leave(spans, interval):
    long = [agentops.start_session(name=f"long {n}") for n in range(20)]
    for n in range(2000):
        agentops.start_session(name=f"short {n}").end_session()
    wait_for(
        lambda: {s.context.trace_id for s in snapshots(spans)} >= {s.trace_id for s in long},
        timeout=30,
        what="a snapshot of every long session",
    )
    for session in long:
        session.end_session()
    short_traces = {s.context.trace_id for s in spans.roots() if s.name.startswith("session short")}
    assert not short_traces & {s.context.trace_id for s in snapshots(spans)}


def _since_start(snapshot, root) -> float:
    return (snapshot.start_time - root.start_time) / 1e9


def test_sessions_started_from_many_threads_get_one_first_snapshot_each(spans, interval):
    """Starts append to the fresh sessions while the thread takes them off: every session
    still running at its due time gets its first snapshot, once; those that ended get none."""
    long: list = []

    def starts(worker: int) -> None:
        for n in range(60):
            long.append(agentops.start_session(name=f"long {worker}-{n}"))
            agentops.start_session(name=f"short {worker}-{n}").end_session()
            time.sleep(0.002)  # the starts span several due times: the thread fires meanwhile

    workers = [threading.Thread(target=starts, args=(w,)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wanted = {s.trace_id for s in long}
    wait_for(
        lambda: {s.context.trace_id for s in snapshots(spans)} >= wanted,
        timeout=30,
        what="a snapshot of every long session",
    )
    for session in long:
        session.end_session()
    roots = {r.context.trace_id: r for r in spans.roots()}
    for session in long:
        root = roots[session.trace_id]
        taken = sorted(_since_start(s, root) for s in snapshots(spans, session))
        # The first at one interval or later, each next one at least twice the gap before it
        # after the last (later on a busy machine, never sooner): two first snapshots would
        # come less than two intervals apart.
        assert taken[0] >= interval * 0.99, taken
        assert all(b - a >= 2 * interval * 0.99 for a, b in itertools.pairwise(taken)), taken
    short_traces = {r.context.trace_id for r in spans.roots() if r.name.startswith("session short")}
    assert len(short_traces) == 4 * 60
    assert not short_traces & {s.context.trace_id for s in snapshots(spans)}


def test_a_session_started_after_the_thread_went_idle_gets_its_snapshot(spans, interval):
    """With nothing to wait for, the thread waits for a start to wake it."""
    agentops.start_session(name="first").end_session()
    wait_for(live_thread_idle, what="the thread to go idle")
    time.sleep(interval * 3)  # a long idle: nothing wakes the thread but a start
    late = agentops.start_session(name="late")
    wait_for(lambda: snapshots(spans, late), what="the late session's snapshot")
    late.end_session()
    (root,) = [r for r in spans.roots() if r.context.trace_id == late.trace_id]
    assert _since_start(snapshots(spans, late)[0], root) >= interval * 0.99


def test_a_start_wakes_the_thread_sleeping_until_a_far_snapshot(spans, monkeypatch):
    """The idle thread sleeps until a long session's next snapshot, 1.6 s away: the start of
    a new session wakes it, and its first snapshot comes well before that one."""
    live_interval(monkeypatch, "0.05")  # snapshots at 0.05, 0.15, 0.35, 0.75, 1.55, 3.15 s
    early = agentops.start_session(name="early")
    wait_for(lambda: len(snapshots(spans, early)) >= 5, what="five snapshots")
    wait_for(live_thread_idle, what="the thread to go idle")
    late = agentops.start_session(name="late")  # due 0.05 s later
    wait_for(lambda: snapshots(spans, late), what="the late session's snapshot")
    wait_for(lambda: len(snapshots(spans, early)) >= 6, what="the sixth snapshot")
    late.end_session()
    early.end_session()
    fifth, sixth = (s.start_time for s in snapshots(spans, early)[4:6])
    # Unwoken, the thread would have made it with the sixth, in the same wake.
    assert snapshots(spans, late)[0].start_time < (fifth + sixth) / 2


def test_the_schedule_keeps_no_ended_session(spans, monkeypatch):
    """The schedule holds weak references only, and drops those of sessions that ended (still
    held by the application) once enough sessions started after them."""
    live_interval(monkeypatch, "10")  # the default: nothing comes due during the test
    gone = contextvars.copy_context().run(agentops.start_session, name="gone")  # not current
    gone_ref = weakref.ref(gone)
    gone.end_session()
    del gone
    gc.collect()
    assert gone_ref() is None
    held = [agentops.start_session(name=f"held {n}") for n in range(10)]
    for session in held:
        session.end_session()
    assert any(s in held for s in scheduled_sessions())  # not dropped yet
    running = agentops.start_session(name="running")
    for n in range(2 * 2 + SCHEDULE_SLACK + 1):
        agentops.start_session(name=f"short {n}").end_session()
    assert not any(s in held for s in scheduled_sessions())
    assert running in scheduled_sessions()
    running.end_session()


def _assert_one_entry_at_most_per_session(sessions: list) -> None:
    """No session has two entries in the heap (the thread may hold some off it while it
    snapshots their sessions; ended sessions' entries wait there until they come due)."""
    watched = Counter(id(session) for session in scheduled_sessions())
    assert max(watched[id(session)] for session in sessions) == 1


# -- processes: exit and fork ---------------------------------------------------------------

AT_EXIT = """
trace.set_tracer_provider(make_provider())
import opentelemetry_instrumentation_agentops as agentops

session = agentops.start_session(name="until exit")
time.sleep(0.35)  # snapshots at 0.05, 0.15 and 0.35 s
"""


def test_snapshots_stop_at_exit(tmp_path):
    done = run_script(tmp_path, AT_EXIT, OTEL_INSTRUMENTATION_AGENTOPS_LIVE_INTERVAL="0.05")
    assert done.returncode == 0, done.stderr
    found = read_spans(tmp_path / "spans.jsonl")
    (root,) = [s for s in found if s["parent_span_id"] is None]
    assert root["attributes"]["agentops.session.end_state"] == "Indeterminate"
    taken = [s for s in found if s["attributes"].get(LIVE)]
    assert 2 <= len(taken) <= 3
    assert all(s["start"] <= root["end"] for s in taken)
    assert "Already shutdown" not in done.stderr, done.stderr


AFTER_FORK = """
import sys
import threading

trace.set_tracer_provider(make_provider())
import opentelemetry_instrumentation_agentops as agentops

parent = agentops.start_session(name="parent")
time.sleep(0.08)  # the live thread runs
pid = os.fork()
if pid == 0:
    time.sleep(0.4)  # the parent's session would have had 2 more snapshots here
    names = [t.name for t in threading.enumerate()]
    own = agentops.start_session(name="child")
    time.sleep(0.3)  # its own snapshots, at 0.05 and 0.15 s (fewer on a busy machine)
    own.end_session()
    trace.get_tracer_provider().force_flush()
    print(json.dumps({"threads_before_own_session": names}), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
parent.end_session()
"""


def test_a_forked_child_never_snapshots_its_parents_sessions(tmp_path):
    done = run_script(tmp_path, AFTER_FORK, OTEL_INSTRUMENTATION_AGENTOPS_LIVE_INTERVAL="0.05")
    assert done.returncode == 0, done.stderr
    printed = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert "agentops-live" not in printed[-1]
    found = read_spans(tmp_path / "spans.jsonl")
    parent_pid = next(s["pid"] for s in found if s["name"] == "session parent")
    child = [s for s in found if s["pid"] != parent_pid]
    assert {s["name"] for s in child} == {"session child"}  # its root and its own snapshots
    assert [s["attributes"].get(LIVE) for s in child].count(True) >= 1
