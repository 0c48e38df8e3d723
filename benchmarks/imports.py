"""Import time: our package against the OpenTelemetry SDK's tracing, in fresh interpreters.

    .venv/bin/python benchmarks/imports.py --rounds 31

Every sample is a new interpreter (``python -c``) that times one ``import`` statement with
``perf_counter_ns`` around it: interpreter start-up and ``site`` are outside the timed part,
and nothing is cached in ``sys.modules`` beforehand. A round imports ours in one interpreter
and ``opentelemetry.sdk.trace`` in another, in alternating order from round to round (so
neither is always the one that runs on a cache the other warmed), and its ratio is ours / the
SDK's; the median of those per-round ratios is the figure, as for every other row. The child
also says how many modules the import loaded and which of the heavy ones it loaded (the
instrumentor machinery should not be, issue #16 item 3). One JSON document goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

OURS = "opentelemetry_instrumentation_agentops"
SDK = "opentelemetry.sdk.trace"
# Modules that a bare import of ours should leave alone until something needs them.
HEAVY = (
    "wrapt",
    "opentelemetry.instrumentation",
    "opentelemetry.instrumentation.utils",
    "opentelemetry.sdk.metrics",
    "importlib.metadata",
    "packaging",
)
# The child: nothing is imported before the timed statement but what -c itself needs (sys and
# time are built in), so a module ours shares with the SDK is paid by whichever imports it.
CHILD = """
import sys, time
before = len(sys.modules)
start = time.perf_counter_ns()
import {module}
elapsed = time.perf_counter_ns() - start
heavy = [m for m in {heavy!r} if m in sys.modules]
print(elapsed, len(sys.modules) - before, ",".join(heavy))
"""


def sample(module: str, python: str = sys.executable) -> dict:
    """One fresh interpreter's time (ns) for ``import module``, and what it loaded."""
    done = subprocess.run(
        [python, "-c", CHILD.format(module=module, heavy=HEAVY)],
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed, modules, heavy = done.stdout.rstrip("\n").split(" ")  # heavy may be ""
    return {
        "ns": int(elapsed),
        "modules": int(modules),
        "heavy": [h for h in heavy.split(",") if h],
    }


def measure(rounds: int, python: str = sys.executable) -> dict:
    for module in (OURS, SDK):  # warm-up: bytecode caches written, files in the page cache
        sample(module, python)
    ours: list[dict] = []
    sdk: list[dict] = []
    for index in range(rounds):
        pair = ((OURS, ours), (SDK, sdk)) if index % 2 == 0 else ((SDK, sdk), (OURS, ours))
        for module, samples in pair:
            samples.append(sample(module, python))
    ratios = [o["ns"] / s["ns"] for o, s in zip(ours, sdk, strict=True)]
    return {
        "rounds": rounds,
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "ours_ms": statistics.median(o["ns"] for o in ours) / 1e6,
        "sdk_ms": statistics.median(s["ns"] for s in sdk) / 1e6,
        "ours_modules": ours[-1]["modules"],
        "sdk_modules": sdk[-1]["modules"],
        "ours_heavy": ours[-1]["heavy"],
        "sdk_heavy": sdk[-1]["heavy"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=31, help="pairs of fresh interpreters")
    args = parser.parse_args()
    sys.stdout.write(json.dumps(measure(args.rounds)) + "\n")


if __name__ == "__main__":
    main()
