"""Where the time of one of our benchmarked operations goes.

    .venv/bin/python benchmarks/profile.py record              profile 20,000 calls
    .venv/bin/python benchmarks/profile.py session --bytecodes  bytecodes of one call, per function

The operation is the candidate of the comparison with that key in ``ours.py`` (record,
record-all-in, session, decorator, processor), on the same pipeline. The profiler is
pyinstrument when it is importable (``pip install pyinstrument``), else cProfile.

``--bytecodes`` counts the bytecodes one call executes in each function (``sys.settrace`` with
opcode events). Unlike a timer it gives the same answer on a busy machine, so it shows whether
a change to the hot path removed work, and how the work splits between the package and the
OpenTelemetry SDK.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path
from typing import Any

import ours
from harness import make_provider
from opentelemetry import context, trace

PACKAGE = "opentelemetry_instrumentation_agentops"


def candidate(key: str) -> tuple[Any, Any]:
    """The comparison's operation and the context it runs in, set up as ``ours.py`` does."""
    shared, clean = make_provider(), make_provider()
    trace.set_tracer_provider(shared)
    comparisons = {c.key: c for c in ours.setup(shared, clean)}
    if key not in comparisons:
        sys.exit(f"unknown operation {key!r}; one of: {', '.join(comparisons)}")
    comparison = comparisons[key]
    if comparison.context is not None:
        context.attach(comparison.context)
    return comparison, comparison.candidate


def profile(comparison: Any, func: Any, calls: int) -> None:
    if comparison.prepare is not None:
        comparison.prepare(calls + 100)
    for _ in range(100):  # warm-up: first calls build caches
        func()
    try:
        from pyinstrument import Profiler
    except ImportError:
        Profiler = None
    if Profiler is not None:
        profiler = Profiler(interval=0.0002)
        profiler.start()
        for _ in range(calls):
            func()
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))
        return
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        func()
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)


def bytecodes(comparison: Any, func: Any, top: int) -> None:
    if comparison.prepare is not None:
        comparison.prepare(101)
    for _ in range(100):
        func()
    counts: collections.Counter[tuple[str, str]] = collections.Counter()

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        if event == "opcode":
            code = frame.f_code
            counts[(code.co_filename, code.co_name)] += 1
        return tracer

    sys.settrace(tracer)
    func()
    sys.settrace(None)
    total = sum(counts.values())
    groups: collections.Counter[str] = collections.Counter()
    for (filename, _), count in counts.items():
        groups[_group(filename)] += count
    print(f"{total} bytecodes in one call")
    for group, count in groups.most_common():
        print(f"  {count:6d}  {100 * count / total:4.1f}%  {group}")
    print()
    for (filename, name), count in counts.most_common(top):
        print(f"{count:6d}  {_short(filename)}:{name}")


def _group(filename: str) -> str:
    if PACKAGE in filename:
        return "this package"
    if "opentelemetry" in filename:
        return "OpenTelemetry API and SDK"
    return "standard library and the rest"


def _short(filename: str) -> str:
    parts = Path(filename).parts
    return "/".join(parts[-3:]) if "opentelemetry" in filename else "/".join(parts[-2:])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("operation", help="a comparison key of ours.py, e.g. record or session")
    parser.add_argument("--bytecodes", action="store_true", help="count bytecodes of one call")
    parser.add_argument("--calls", type=int, default=20_000, help="calls to profile")
    parser.add_argument("--top", type=int, default=30, help="functions to list with --bytecodes")
    args = parser.parse_args()
    comparison, func = candidate(args.operation)
    if args.bytecodes:
        bytecodes(comparison, func, args.top)
    else:
        profile(comparison, func, args.calls)


if __name__ == "__main__":
    main()
