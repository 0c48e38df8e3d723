"""The timing method every benchmark shares: ours and each peer's, in any virtual environment.

Depends only on the standard library and the OpenTelemetry SDK, so a peer's driver script
can import it from its own venv and measure the peer exactly as ``ours.py`` measures us.

Method (the one of ``shared/reference/peer-bench.md``):

- every pipeline is a ``TracerProvider`` with a ``BatchSpanProcessor`` around a null exporter;
- a comparison has one candidate and two bare-OTel baselines: the same operation on the
  provider the candidate uses (``shared``: same process, same TracerProvider, the headline),
  and on a second, identical provider the code under test never sees (``clean``). Both are
  reported: anything the code under test adds to the provider itself (a span processor)
  slows the shared baseline too, and only the clean one shows it. A comparison whose subject
  *is* that provider-wide cost (our span processor) takes the clean one as its headline;
- blocks of ``n`` calls timed with ``perf_counter_ns``, ``gc.collect()`` before each block
  (GC stays on); each round runs bare(shared), candidate, bare(clean), one after another;
- a feature measured against its own off switch has a ``prepare_bare`` that sets the off state
  before each baseline block and a ``prepare`` that sets the on state before each candidate
  block (untimed), so the two states alternate round by round like any other pair (a fault
  against none likewise); ``cleanup`` undoes them once the comparison is done;
- one discarded warm-up round of ``n // 4`` calls, then ``rounds`` measured rounds;
- a ratio per round (candidate block / baseline block of the same round); reported as the
  median (min-max) of those ratios, with the median µs per call.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

# Big enough that no timed block ever fills it: a full queue drops spans and logs a warning,
# which would time the logger instead of the tracer (peer-bench.md used the same size).
QUEUE_SIZE = 65536


class NullExporter(SpanExporter):
    """Accepts every batch and drops it: the pipeline runs, nothing leaves the process."""

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def make_provider(queue_size: int = QUEUE_SIZE) -> TracerProvider:
    """A provider with the pipeline every figure is measured on."""
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(NullExporter(), max_queue_size=queue_size))
    return provider


@dataclass
class Comparison:
    """One candidate operation against the same bare-OTel operation on two providers."""

    key: str  # stable id, used by the report ("record", "session", ...)
    operation: str  # what the candidate does, as a reader would write it
    baseline: str  # what the bare operation is
    candidate: Callable[[], Any]
    bare_shared: Callable[[], Any]
    bare_clean: Callable[[], Any]
    goal: float | None = None  # the ratio to stay under, when the issue sets one
    # Untimed, before each candidate block of n calls (e.g. build the n inputs it consumes).
    prepare: Callable[[int], Any] | None = None
    # Untimed, before each baseline block: the state the baselines run in (an off switch).
    prepare_bare: Callable[[int], Any] | None = None
    # The OTel context every block of this comparison runs in (e.g. one with a session open).
    context: Any = None
    # Untimed, once after the last block: undoes what prepare and prepare_bare set.
    cleanup: Callable[[], Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # passed through to the Result
    headline: str = "shared"  # which baseline the headline ratio is against: shared or clean


@dataclass
class Result:
    key: str
    operation: str
    baseline: str
    goal: float | None
    headline: str  # "shared" or "clean": the baseline of ratio, ratio_min and ratio_max
    ratio: float  # median of the per-round ratios against the headline baseline
    ratio_min: float
    ratio_max: float
    ratio_shared: float  # median of per-round ratios against the shared baseline
    ratio_clean: float  # median of per-round ratios against the clean baseline
    candidate_us: float  # median µs per call
    bare_us: float  # median µs per call of the headline baseline
    bare_shared_us: float
    bare_clean_us: float
    rounds: int
    n: int
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# perf_counter_ns (wall time) by default. On a machine shared with other busy processes,
# ``--clock process`` counts this process's CPU time instead (all its threads, the batch
# processor's included), which other processes' bursts do not inflate.
CLOCKS = {"wall": time.perf_counter_ns, "process": time.process_time_ns}
clock = CLOCKS["wall"]


def time_block(func: Callable[[], Any], n: int, prepare: Callable[[int], Any] | None = None) -> int:
    """Nanoseconds for ``n`` calls of ``func``, after ``prepare(n)`` and a full collection."""
    if prepare is not None:
        prepare(n)
    gc.collect()
    now = clock
    start = now()
    for _ in range(n):
        func()
    return now() - start


def compare(comparison: Comparison, n: int, rounds: int) -> Result:
    """Run ``comparison`` as the module docstring describes."""
    order = (
        (comparison.bare_shared, comparison.prepare_bare),
        (comparison.candidate, comparison.prepare),
        (comparison.bare_clean, comparison.prepare_bare),
    )
    token = None if comparison.context is None else otel_context.attach(comparison.context)
    try:
        return _rounds(comparison, order, n, rounds)
    finally:
        if comparison.cleanup is not None:
            comparison.cleanup()
        if token is not None:
            otel_context.detach(token)


def _rounds(comparison: Comparison, order: tuple, n: int, rounds: int) -> Result:
    warmup = max(1, n // 4)
    for func, prepare in order:
        time_block(func, warmup, prepare)
    shared: list[int] = []
    candidate: list[int] = []
    clean: list[int] = []
    for _ in range(rounds):
        for (func, prepare), times in zip(order, (shared, candidate, clean), strict=True):
            times.append(time_block(func, n, prepare))
    per_round = {
        "shared": [c / b for c, b in zip(candidate, shared, strict=True)],
        "clean": [c / b for c, b in zip(candidate, clean, strict=True)],
    }
    ratios = per_round[comparison.headline]
    us = {
        name: statistics.median(times) / n / 1000
        for name, times in (("shared", shared), ("clean", clean))
    }
    return Result(
        key=comparison.key,
        operation=comparison.operation,
        baseline=comparison.baseline,
        goal=comparison.goal,
        headline=comparison.headline,
        ratio=statistics.median(ratios),
        ratio_min=min(ratios),
        ratio_max=max(ratios),
        ratio_shared=statistics.median(per_round["shared"]),
        ratio_clean=statistics.median(per_round["clean"]),
        candidate_us=statistics.median(candidate) / n / 1000,
        bare_us=us[comparison.headline],
        bare_shared_us=us["shared"],
        bare_clean_us=us["clean"],
        rounds=rounds,
        n=n,
        extra=dict(comparison.extra),
    )


# The two baselines a peer operation maps to (names from peer-bench.md).
SPAN_BASELINE = '(b) `with tracer.start_as_current_span("op"): work()`'
ROOT_BASELINE = '(c) `tracer.start_span("session", context=Context()).end()`'


def work() -> int:
    """The body of every traced function: no real work, so ratios show pure overhead."""
    return 42


def span_baseline(tracer: Any) -> None:
    """Baseline (b): a current span around ``work()``."""
    with tracer.start_as_current_span("op"):
        work()


def root_baseline(tracer: Any) -> None:
    """Baseline (c): a root span started and ended."""
    tracer.start_span("session", context=Context()).end()


def environment() -> dict[str, str]:
    """The interpreter and OpenTelemetry SDK a driver ran with."""
    try:
        from importlib.metadata import version

        sdk = version("opentelemetry-sdk")
    except Exception:  # a vendored or odd install: say so rather than fail
        sdk = "unknown"
    return {"python": platform.python_version(), "sdk": sdk, "executable": sys.executable}


def drive(title: str, setup: Callable[[TracerProvider, TracerProvider], list[Comparison]]) -> None:
    """A driver's whole main: providers first, then ``setup`` imports and wires the code under
    test, then every comparison runs and one JSON document goes to stdout.

    The global provider (``shared``) is set before ``setup`` runs, so the code under test finds
    it already configured, as it would in an application that set up OpenTelemetry first.
    """
    from opentelemetry import trace

    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000, help="calls per timed block")
    parser.add_argument("--rounds", type=int, default=9, help="measured rounds")
    parser.add_argument("--only", help="comma-separated keys of the comparisons to run")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    args = parser.parse_args()
    global clock
    clock = CLOCKS[args.clock]
    shared, clean = make_provider(), make_provider()
    trace.set_tracer_provider(shared)
    comparisons = setup(shared, clean)
    if args.only:
        comparisons = [c for c in comparisons if c.key in args.only.split(",")]
    results = [compare(c, args.n, args.rounds).as_dict() for c in comparisons]
    document = {
        "title": title,
        "environment": environment(),
        "clock": args.clock,
        "results": results,
    }
    sys.stdout.write(json.dumps(document) + "\n")
