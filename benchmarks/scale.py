"""Scale: resident memory of many open sessions, and of one session with very many events.

Each measurement runs in a fresh subprocess (``python benchmarks/scale.py MODE --count N``)
that prints one JSON document, so one measurement's heap never pollutes the next:

- ``sessions``: RSS after ``count`` sessions are open, minus RSS of the same process just
  before (after one warm-up session, so imports and caches are already paid for);
- ``bare``: the same for ``count`` open bare root spans, for scale;
- ``bare-same``: the same for ``count`` open bare root spans of a session's shape at start:
  ``session.id`` and ``gen_ai.conversation.id`` (one new id string per span, as a session has),
  and the ``session.tags`` the sessions above are started with; the goal of issue #16 is a
  ratio of ``sessions`` to this;
- ``events``: one session, ``count`` ``record(ActionEvent)`` calls; RSS sampled every
  ``every`` events. The default ``BatchSpanProcessor`` (queue bounded at 2048 spans) is used,
  so a bounded queue is all the pipeline may hold; flat memory means the package keeps
  nothing per event.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from harness import NullExporter
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

MIB = 1024 * 1024


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


def open_sessions(count: int) -> dict[str, Any]:
    import opentelemetry_instrumentation_agentops as agentops

    provider()
    agentops.init(auto_start_session=False)
    agentops.start_session().end_session()  # warm-up: imports, tracer, processor

    def all_open() -> None:
        assert len(agentops.get_active_sessions()) == count

    return _rss_of_open(
        count,
        lambda: agentops.start_session(tags=["scale"]),
        lambda session: session.end_session(),
        all_open,
    )


def open_bare(count: int) -> dict[str, Any]:
    tracer = provider().get_tracer("bench")
    tracer.start_span("session", context=Context()).end()
    return _rss_of_open(
        count, lambda: tracer.start_span("session", context=Context()), lambda s: s.end()
    )


def open_bare_same(count: int) -> dict[str, Any]:
    from opentelemetry_instrumentation_agentops._engine import attributes as attr

    tracer = provider().get_tracer("bench")

    def open_one() -> Any:
        sid = str(uuid.uuid4())  # a string of its own per span, shared by both ids
        attributes = {attr.SESSION_ID: sid, attr.CONVERSATION_ID: sid, attr.SESSION_TAGS: ["scale"]}
        return tracer.start_span("session", context=Context(), attributes=attributes)

    open_one().end()
    return _rss_of_open(count, open_one, lambda s: s.end())


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
    parser.add_argument("mode", choices=("sessions", "bare", "bare-same", "events"))
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--every", type=int, default=100_000, help="events between samples")
    args = parser.parse_args()
    if args.mode == "sessions":
        result = open_sessions(args.count)
    elif args.mode == "bare":
        result = open_bare(args.count)
    elif args.mode == "bare-same":
        result = open_bare_same(args.count)
    else:
        result = many_events(args.count, args.every)
    sys.stdout.write(json.dumps({"mode": args.mode, **result}) + "\n")


if __name__ == "__main__":
    main()
