"""Where the time of one of our benchmarked operations goes.

    .venv/bin/python benchmarks/profile.py record              profile 20,000 calls
    .venv/bin/python benchmarks/profile.py session-same --split  time per layer: ours, SDK, rest
    .venv/bin/python benchmarks/profile.py session --bytecodes  bytecodes of one call, per function
    .venv/bin/python benchmarks/profile.py session-same --instructions
                                                   instructions per call, ours and its baseline

The operation is the candidate of the comparison with that key in ``ours.py`` (record,
record-same, session, session-same, decorator-same, processor, ...), on the same pipeline;
``--bare`` takes that comparison's headline baseline instead. The profiler is
pyinstrument when it is importable, else cProfile. Never installed into the project's
``.venv``; a venv of its own is found when it exists:

    python3 -m venv benchmarks/.venv-profile
    benchmarks/.venv-profile/bin/pip install pyinstrument

``--split`` sums pyinstrument's self time by layer, this package or the OpenTelemetry API and
SDK (a built-in or standard library function is charged to the layer that called it), and
lists the functions of each layer that take the most. The profiler's own overhead inflates
every figure (more so for many small calls): read the shares, not the µs.

``--bytecodes`` counts the bytecodes one call executes in each function (``sys.settrace`` with
opcode events). Unlike a timer it gives the same answer on a busy machine, so it shows whether
a change to the hot path removed work, and how the work splits between the package and the
OpenTelemetry SDK.

``--instructions`` counts machine instructions with valgrind (``cachegrind``, no cache
simulation): for the candidate and for its baseline, one run of ``--run N`` calls and one of
none, so set-up and imports cancel out; per call and the ratio. As steady as ``--bytecodes``,
and it weighs what C does (dict look-ups, ``time_ns``, locks) as a timer would.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import ours
from harness import make_provider
from opentelemetry import context, trace

PACKAGE = "opentelemetry_instrumentation_agentops"
HERE = Path(__file__).resolve().parent
# pyinstrument from a venv of its own (see the docstring), never from the project's .venv.
_VERSION = f"python{sys.version_info[0]}.{sys.version_info[1]}"
sys.path += [str(p) for p in (HERE / ".venv-profile" / "lib" / _VERSION).glob("site-packages")]


def candidate(key: str, bare: bool = False) -> tuple[Any, Any]:
    """The comparison's operation (or its baseline, ``bare``), set up as ``ours.py`` does."""
    shared, clean = make_provider(), make_provider()
    trace.set_tracer_provider(shared)
    comparisons = {c.key: c for c in ours.setup(shared, clean)}
    if key not in comparisons:
        sys.exit(f"unknown operation {key!r}; one of: {', '.join(comparisons)}")
    comparison = comparisons[key]
    if comparison.context is not None:
        context.attach(comparison.context)
    if bare:
        if comparison.prepare_bare is not None:
            comparison.prepare_bare(0)
        comparison.prepare = None
        # The headline baseline: the clean provider's for a row about our span processor.
        headline = comparison.bare_clean if comparison.headline == "clean" else None
        return comparison, headline or comparison.bare_shared
    return comparison, comparison.candidate


def _pyinstrument_session(comparison: Any, func: Any, calls: int) -> Any:
    from pyinstrument import Profiler

    if comparison.prepare is not None:
        comparison.prepare(calls + 100)
    for _ in range(100):
        func()
    profiler = Profiler(interval=0.0001)
    profiler.start()
    for _ in range(calls):
        func()
    profiler.stop()
    return profiler


def split(comparison: Any, func: Any, calls: int, top: int) -> None:
    """Self time per layer, and the functions of each layer that take the most."""
    profiler = _pyinstrument_session(comparison, func, calls)
    root = profiler.last_session.root_frame()
    per_function: collections.Counter[tuple[str, str]] = collections.Counter()

    def walk(frame: Any, owner: str) -> None:
        if frame.is_synthetic:  # [self] and the like: counted in their parent's self time
            return
        path = frame.file_path or ""
        group = _group(path)
        if path == "<string>":  # generated code: the dataclass __init__ of our event classes
            owner = group = PACKAGE_GROUP
        if group == STDLIB:  # a built-in or the standard library: charged to its caller's layer
            group = owner
            name = f"{_short(path)}:{frame.function}"
        else:
            owner, name = group, f"{_short(path)}:{frame.function}"
        per_function[(group, name)] += frame.total_self_time
        for child in frame.children:
            walk(child, owner)

    walk(root, LOOP)
    total = sum(per_function.values())
    groups: collections.Counter[str] = collections.Counter()
    for (group, _), seconds in per_function.items():
        groups[group] += seconds
    print(f"{1e6 * total / calls:.1f} us per call sampled (pyinstrument)")
    for group, seconds in groups.most_common():
        print(f"  {1e6 * seconds / calls:6.1f} us  {100 * seconds / total:4.1f}%  {group}")
    for group, _ in groups.most_common():
        print(f"\n{group}:")
        rows = [(k, v) for k, v in per_function.items() if k[0] == group]
        for (_, name), seconds in sorted(rows, key=lambda kv: -kv[1])[:top]:
            print(f"  {1e6 * seconds / calls:6.2f} us  {name}")


def instructions(key: str, calls: int) -> None:
    """Instructions per call of the candidate and of its baseline, by valgrind (2 at a time)."""
    from concurrent.futures import ThreadPoolExecutor

    def count(side: str, n: int) -> int:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "cachegrind.out"
            argv = [
                "valgrind",
                "--tool=cachegrind",
                "--cache-sim=no",
                f"--cachegrind-out-file={out}",
                sys.executable,
                str(Path(__file__).resolve()),
                key,
                "--run",
                str(n),
                *(["--bare"] if side == "bare" else []),
            ]
            done = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ))
            if done.returncode != 0:
                sys.exit(done.stderr[-2000:])
            return _total_instructions(out)

    jobs = [(side, n) for side in ("candidate", "bare") for n in (0, calls)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        totals = dict(zip(jobs, pool.map(lambda job: count(*job), jobs), strict=True))
    per_call = {
        side: (totals[(side, calls)] - totals[(side, 0)]) / calls for side in ("candidate", "bare")
    }
    for side, value in per_call.items():
        print(f"{side:9s} {value:12,.0f} instructions per call")
    print(f"ratio     {per_call['candidate'] / per_call['bare']:.2f}x")


def _total_instructions(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith("summary:"):
            return int(re.split(r"\s+", line.strip())[1])
    raise ValueError(f"no summary line in {path}")


def run(comparison: Any, func: Any, calls: int) -> None:
    """Warm up, then ``calls`` calls and nothing else (what ``--instructions`` counts)."""
    if comparison.prepare is not None:
        comparison.prepare(calls + 100)
    for _ in range(100):
        func()
    for _ in range(calls):
        func()


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


STDLIB = "standard library and the rest"
PACKAGE_GROUP = "this package"
LOOP = "the benchmark's loop and lambdas"


def _group(filename: str) -> str:
    if filename.startswith(str(HERE)):
        return LOOP
    if PACKAGE in filename:
        return PACKAGE_GROUP
    if "opentelemetry" in filename:
        return "OpenTelemetry API and SDK"
    return STDLIB


def _short(filename: str) -> str:
    parts = Path(filename).parts
    return "/".join(parts[-3:]) if "opentelemetry" in filename else "/".join(parts[-2:])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("operation", help="a comparison key of ours.py, e.g. record or session")
    parser.add_argument("--bytecodes", action="store_true", help="count bytecodes of one call")
    parser.add_argument("--bare", action="store_true", help="the baseline, not the candidate")
    parser.add_argument("--split", action="store_true", help="pyinstrument time per layer")
    parser.add_argument(
        "--instructions",
        type=int,
        nargs="?",
        const=1000,
        metavar="CALLS",
        help="valgrind instruction counts per call, candidate and baseline (default 1000 calls)",
    )
    parser.add_argument("--run", type=int, metavar="CALLS", help="only run CALLS calls")
    parser.add_argument("--calls", type=int, default=20_000, help="calls to profile")
    parser.add_argument("--top", type=int, default=30, help="functions to list with --bytecodes")
    args = parser.parse_args()
    if args.instructions:
        instructions(args.operation, args.instructions)
        return
    comparison, func = candidate(args.operation, args.bare)
    if args.run is not None:
        run(comparison, func, args.run)
    elif args.split:
        split(comparison, func, args.calls, args.top)
    elif args.bytecodes:
        bytecodes(comparison, func, args.top)
    else:
        profile(comparison, func, args.calls)


if __name__ == "__main__":
    main()
