"""Scale: resident memory of many open sessions, and of one session with very many events.

Each measurement runs in a fresh subprocess (``python benchmarks/scale.py MODE --count N``)
that prints one JSON document, so one measurement's heap never pollutes the next:

- ``sessions``: RSS after ``count`` sessions are open, minus RSS of the same process just
  before (after one warm-up session, so imports and caches are already paid for);
- ``bare``: the same for ``count`` open bare root spans, for scale;
- ``bare-same``: the same for ``count`` open bare root spans of a session's shape at start:
  ``session.id`` and ``gen_ai.conversation.id`` (one new id string per span, as a session has),
  and the ``session.tags`` the sessions above are started with; the goal of issues #16 and #20
  is a ratio of ``sessions`` to this. Each session starts in a context of its own, as a
  server's conversations do;
- ``sessions-nested`` against ``bare-linked``: each session started inside the one before
  (until issue #20, the ``sessions`` mode), so its root carries a link to the previous root,
  against bare roots with the same link;
- ``events``: one session, ``count`` ``record(ActionEvent)`` calls; RSS sampled every
  ``every`` events. The default ``BatchSpanProcessor`` (queue bounded at 2048 spans) is used,
  so a bounded queue is all the pipeline may hold; flat memory means the package keeps
  nothing per event;
- ``live``: RSS of ``count`` sessions open with live snapshots every 0.1 s, as ``sessions``;
  then, once each had two snapshots, and once they all ended and their entries came due, the
  bytes the live scheduler holds for them (``sys.getsizeof`` of its fresh sessions' deque and
  weak references, of its heap and of each entry with what only it holds); ``live-off``: the
  same sessions with live snapshots off, the baseline of the RSS ratio (issue #19: these bytes
  were a bound in ``tests/test_live.py``);
- ``live-sequential``: ``count`` sessions one after another (start, one event, end) with live
  snapshots at their default interval, so none comes due: RSS of the process at 1,000, 10,000
  and 100,000 sessions, and the entries of ended sessions still in the snapshot schedule;
  ``live-sequential-off``: the same with them off (issue #21: the two must match within 10%).
"""

from __future__ import annotations

import argparse
import contextvars
import gc
import json
import resource
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from harness import NullExporter
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link

MIB = 1024 * 1024
LIVE_INTERVAL = 0.1  # seconds: the ``live`` mode's snapshots come at 0.1, 0.3, 0.7 s, ...


def rss_bytes() -> int:
    """Resident set size now (Linux ``/proc``), else the peak RSS the OS reports."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def settled_rss() -> int:
    gc.collect()
    return rss_bytes()


def provider() -> TracerProvider:
    tp = TracerProvider()
    tp.add_span_processor(BatchSpanProcessor(NullExporter()))  # default queue: 2048 spans
    trace.set_tracer_provider(tp)
    return tp


def _rss_of_open(
    count: int,
    open_one: Callable[[], Any],
    close: Callable[[Any], Any],
    check: Callable[[], Any] = lambda: None,
) -> dict:
    """RSS before and after opening ``count`` items; ``check()`` runs while they are open."""
    before = settled_rss()
    started = time.perf_counter()
    items = [open_one() for _ in range(count)]
    elapsed = time.perf_counter() - started
    after = settled_rss()
    check()
    for item in items:
        close(item)
    return {
        "count": count,
        "before": before,
        "after": after,
        "delta": after - before,
        "per_item": (after - before) / count,
        "seconds": elapsed,
    }


def open_sessions(count: int, nested: bool = False) -> dict[str, Any]:
    """``count`` sessions open at once, each started in a context of its own, as a server's
    conversations are (one request each); ``nested``: each inside the one before, so each
    root carries a link to the previous one (design.md section 3)."""
    import opentelemetry_instrumentation_agentops as agentops

    provider()
    agentops.init(auto_start_session=False)
    agentops.start_session().end_session()  # warm-up: imports, tracer, processor

    def all_open() -> None:
        assert len(agentops.get_active_sessions()) == count

    def open_one() -> Any:
        if nested:
            return agentops.start_session(tags=["scale"])
        return contextvars.copy_context().run(agentops.start_session, tags=["scale"])

    return _rss_of_open(count, open_one, lambda session: session.end_session(), all_open)


def open_bare(count: int) -> dict[str, Any]:
    tracer = provider().get_tracer("bench")
    tracer.start_span("session", context=Context()).end()
    return _rss_of_open(
        count, lambda: tracer.start_span("session", context=Context()), lambda s: s.end()
    )


def open_bare_same(count: int, linked: bool = False) -> dict[str, Any]:
    """``linked``: each with a link to the one before, as nested sessions' roots have."""
    from opentelemetry_instrumentation_agentops._engine import attributes as attr

    tracer = provider().get_tracer("bench")
    previous: list[Any] = []

    def open_one() -> Any:
        sid = str(uuid.uuid4())  # a string of its own per span, shared by both ids
        attributes = {attr.SESSION_ID: sid, attr.CONVERSATION_ID: sid, attr.SESSION_TAGS: ["scale"]}
        links = [Link(previous[-1].get_span_context())] if linked and previous else None
        span = tracer.start_span("session", context=Context(), attributes=attributes, links=links)
        previous[:] = [span]
        return span

    open_one().end()
    return _rss_of_open(count, open_one, lambda s: s.end())


class _CountSnapshots(SpanProcessor):
    """Counts the snapshot spans that ended."""

    def __init__(self) -> None:
        self.count = 0

    def on_end(self, span: Any) -> None:
        if span.attributes.get("agentops.session.live"):
            self.count += 1


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        time.sleep(0.01)


def live_sessions(count: int, live: bool) -> dict[str, Any]:
    import opentelemetry_instrumentation_agentops as agentops
    from opentelemetry_instrumentation_agentops._runtime.owner import RUNTIME
    from opentelemetry_instrumentation_agentops._runtime.schedule import THREAD_NAME

    tp = provider()
    snapshots = _CountSnapshots()
    tp.add_span_processor(snapshots)
    agentops.init(auto_start_session=False)
    RUNTIME.settings.live_interval = LIVE_INTERVAL if live else 0.0
    agentops.start_session().end_session()  # warm-up: imports, tracer, processor
    _wait_for(lambda: not RUNTIME.snapshots.watched(), "the warm-up's entry")
    held = {"started": _held_by_scheduler(RUNTIME.snapshots)}

    def two_snapshots_each() -> None:
        held["opened"] = _held_by_scheduler(RUNTIME.snapshots)
        if live:
            _wait_for(lambda: snapshots.count >= 2 * count, "two snapshots of every session")
            held["running"] = _held_by_scheduler(RUNTIME.snapshots)

    opened = _rss_of_open(
        count,
        lambda: agentops.start_session(tags=["scale"]),
        lambda session: session.end_session(),
        two_snapshots_each,
    )
    # Every entry is dropped when it comes due next (at most 4 intervals away).
    _wait_for(lambda: not RUNTIME.snapshots.watched(), "an empty schedule")
    running = max(held["opened"], held.get("running", 0)) - held["started"]
    threads = sum(t.name == THREAD_NAME for t in threading.enumerate())
    return {
        **opened,
        "live": live,
        "snapshots": snapshots.count,
        "threads": threads,
        "scheduler_running": running,
        "scheduler_per_session": running / count,
        "scheduler_after": _held_by_scheduler(RUNTIME.snapshots),
    }


SEQUENTIAL_CHECKPOINTS = (1_000, 10_000, 100_000)


def live_sequential(count: int, live: bool) -> dict[str, Any]:
    """``count`` sessions one after another (start, one event, end), with live snapshots at
    their default interval (10 s: none comes due) or off; RSS of the process and the entries
    of ended sessions still in the snapshot schedule at each checkpoint."""
    import opentelemetry_instrumentation_agentops as agentops
    from opentelemetry_instrumentation_agentops._runtime.owner import RUNTIME

    provider()
    agentops.init(auto_start_session=False)
    RUNTIME.settings.live_interval = 10.0 if live else 0.0
    agentops.start_session().end_session()  # warm-up: imports, tracer, processor
    before = settled_rss()
    checkpoints = {n for n in SEQUENTIAL_CHECKPOINTS if n <= count} | {count}
    rss: dict[int, int] = {}
    queued: dict[int, int] = {}
    started = time.perf_counter()
    for n in range(1, count + 1):
        session = agentops.start_session(tags=["scale"])
        session.record(agentops.ActionEvent(action_type="step"))
        session.end_session()
        if n in checkpoints:
            rss[n] = settled_rss()
            watched = RUNTIME.snapshots.watched()
            queued[n] = sum(1 for s in watched if s is None or s.ended)
    return {
        "count": count,
        "live": live,
        "before": before,
        "rss": rss,
        "queued": queued,
        "grown": rss[count] - before,
        "delta": rss[count],  # what run.py's pairs take the ratio of: here the RSS itself
        "seconds": time.perf_counter() - started,
    }


def _held_by_scheduler(snapshots: Any) -> int:
    """Bytes of the scheduler: its fresh sessions' deque and weak references (before their
    first snapshot), its heap (after it), each entry with what only it holds."""
    with snapshots.condition:
        fresh, heap = list(snapshots.fresh), list(snapshots.heap)
    return (
        sys.getsizeof(snapshots.fresh)
        + sum(sys.getsizeof(ref) for ref in fresh)
        + sys.getsizeof(snapshots.heap)
        + sum(
            sys.getsizeof(entry) + sys.getsizeof(entry.due) + sys.getsizeof(entry.gap)
            for entry in heap
        )
    )


def many_events(count: int, every: int) -> dict[str, Any]:
    import opentelemetry_instrumentation_agentops as agentops

    provider()
    agentops.init(auto_start_session=False)
    session = agentops.start_session(name="scale")
    record, event = agentops.record, agentops.ActionEvent
    record(event(action_type="warm-up"))
    samples = [(0, settled_rss())]
    started = time.perf_counter()
    done = 0
    while done < count:
        for _ in range(min(every, count - done)):
            record(event(action_type="step"))
        done = min(done + every, count)
        samples.append((done, settled_rss()))
    elapsed = time.perf_counter() - started
    actions = session.get_analytics()["Actions"]
    session.end_session()
    start, end = samples[0][1], samples[-1][1]
    first = samples[1][1] if len(samples) > 1 else start
    return {
        "count": count,
        "counted": actions,
        "samples": samples,
        "start": start,
        "end": end,
        "max_delta": max(rss for _, rss in samples) - start,
        "end_delta": end - start,
        # Growth after the first sample: what would keep growing if something were kept per event.
        "growth_after_first": end - first,
        "seconds": elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "mode",
        choices=(
            "sessions",
            "sessions-nested",
            "bare",
            "bare-same",
            "bare-linked",
            "events",
            "live",
            "live-off",
            "live-sequential",
            "live-sequential-off",
        ),
    )
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--every", type=int, default=100_000, help="events between samples")
    args = parser.parse_args()
    if args.mode in ("sessions", "sessions-nested"):
        result = open_sessions(args.count, nested=args.mode == "sessions-nested")
    elif args.mode == "bare":
        result = open_bare(args.count)
    elif args.mode in ("bare-same", "bare-linked"):
        result = open_bare_same(args.count, linked=args.mode == "bare-linked")
    elif args.mode in ("live", "live-off"):
        result = live_sessions(args.count, args.mode == "live")
    elif args.mode in ("live-sequential", "live-sequential-off"):
        result = live_sequential(args.count, args.mode == "live-sequential")
    else:
        result = many_events(args.count, args.every)
    sys.stdout.write(json.dumps({"mode": args.mode, **result}) + "\n")


if __name__ == "__main__":
    main()
