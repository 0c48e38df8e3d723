"""Faults (issue #19): a collector that is down or hangs, against the null exporter.

The figures that used to be bounds in the reliability tests (``tests/reliability/
test_faults.py``, ``tests/test_lifecycle.py``), measured here instead; the tests keep the
behaviour (the sessions ended and exported, the process gone). One fresh process per
measurement (``python benchmarks/faults.py MODE ...``), printing one JSON document:

- ``offline``: ``count`` sessions (an action, a tool calling the model, each ended Success)
  exported by a ``BatchSpanProcessor`` to an OTLP/HTTP collector that is down (connection
  refused, 1 s export timeout): the slowest ``end_session()`` and RSS growth from the first
  quarter of the sessions to the last; ``offline-null``: the same to the null exporter, the
  baseline of both;
- ``exits``: a program (``agent`` below: three sessions of 700 events each left running,
  exporting to an OTLP/HTTP collector that accepts connections and never answers, with no SDK
  shutdown at exit) leaves by the end of its code, an uncaught exception or SIGTERM; the
  seconds from its "ready" line to the end of the process, against the same program exporting
  to the null exporter, ``rounds`` pairs of each kind, alternating which runs first;
- ``exit-times``: the first-session program (``first-session`` below: ``init()``'s own
  pipeline, OTLP/HTTP traces and metrics to ``OTEL_EXPORTER_OTLP_ENDPOINT``, one session left
  open) against a collector that is up, down (connection refused), hung (accepts, never
  answers), slow (answers after ``SLOW_SECONDS``), or answering 500 or 429; with metrics on
  and off (``OTEL_METRICS_EXPORTER=none``); leaving by the end of its code, and for the hung
  collector also by an uncaught exception and SIGTERM, and with each ``OTEL_*`` timeout
  variable set to 1 s: the seconds from its last statement to the end of the process (median,
  min, max of ``rounds``) and the lines the SDK printed;
- ``exit-many``: ``count`` sessions open in the same program, a collector that is up: the
  seconds its normal exit takes and how many sessions arrive, and how many arrive when it is
  sent SIGTERM instead (the package's bound: 5 s).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness import NullExporter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the test collectors
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from scale import rss_bytes
from support.network import free_port, hung_collector, otlp_collector, otlp_span_dicts

HOWS = ("exit", "exception", "sigterm")
EXIT_CODES = {"exit": 0, "exception": 1, "sigterm": -signal.SIGTERM}
LEFT_RUNNING, EVENTS_EACH = 3, 700  # enough for the exporter to be stuck on a batch, more queued


def _otlp(endpoint: str, **options: Any) -> Any:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=endpoint, **options)


def offline(count: int, down: bool) -> dict[str, Any]:
    import opentelemetry_instrumentation_agentops as agentops

    if down:  # a port nobody listens on: connections are refused
        exporter = _otlp(f"http://127.0.0.1:{free_port()}/v1/traces", timeout=1)
    else:
        exporter = NullExporter()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    agentops.init(api_key="unused", auto_start_session=False)

    @agentops.record_tool("search")
    def search(query: str) -> str:
        agentops.record(agentops.LLMEvent(model="m", prompt_tokens=5, completion_tokens=7))
        return query

    ends: list[float] = []
    rss: dict[int, int] = {}
    for i in range(count):
        agentops.start_session(name=f"s{i}")
        agentops.record(agentops.ActionEvent(action_type="plan"))
        search("x")
        started = time.perf_counter()
        agentops.end_session("Success")
        ends.append(time.perf_counter() - started)
        if i + 1 in (count // 4, count):
            gc.collect()
            rss[i + 1] = rss_bytes()
    growth = rss[count] - rss[count // 4]
    return {
        "count": count,
        "down": down,
        "slowest_end": max(ends),
        "median_end": statistics.median(ends),
        "growth": growth,
        "delta": statistics.median(ends),  # what the pairs' ratio is taken of (run.py)
    }


def agent(how: str, endpoint: str | None) -> None:
    """The program whose exit is timed: sessions left running, then it leaves as ``how``."""
    import opentelemetry_instrumentation_agentops as agentops

    provider = TracerProvider(shutdown_on_exit=False)  # what the exit costs is what we add
    provider.add_span_processor(BatchSpanProcessor(_otlp(endpoint) if endpoint else NullExporter()))
    agentops.init(tracer_provider=provider, auto_start_session=False)
    for n in range(LEFT_RUNNING):
        agentops.start_session(name=f"left{n}")
        for _ in range(EVENTS_EACH):
            agentops.record(agentops.ActionEvent(action_type=f"left{n}"))
    time.sleep(0.2)  # the exporter is now stuck on a batch
    print("ready", flush=True)
    if how == "exception":
        raise RuntimeError("leaving by an exception")
    if how == "sigterm":
        time.sleep(60)


def timed_exit(
    command: list[str], how: str, env: dict[str, str] | None = None, timeout: float = 300
) -> tuple[float, int | None, str]:
    """Run ``command`` until its "ready" line, send SIGTERM if ``how`` says so, and time the
    rest: seconds to the end of the process, its exit code, its stderr."""
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=errors, text=True, env=env
        )
        try:
            line = process.stdout.readline().strip() if process.stdout else ""
            started = time.monotonic()
            if how == "sigterm" and line == "ready":
                process.send_signal(signal.SIGTERM)
            process.wait(timeout=timeout)
            took = time.monotonic() - started
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        errors.seek(0)
        stderr = errors.read()
    if line != "ready" or process.returncode != EXIT_CODES[how]:
        tail = "\n".join(stderr.strip().splitlines()[-10:])
        raise SystemExit(f"{command[2:]} {how} exited {process.returncode}:\n{tail}")
    return took, process.returncode, stderr


def exit_seconds(how: str, hung: bool) -> float:
    """Seconds from the agent's "ready" line (and SIGTERM, if ``how`` says so) to its end."""
    command = [sys.executable, __file__, "agent", how]
    with contextlib.ExitStack() as stack:
        if hung:
            command += ["--endpoint", stack.enter_context(hung_collector())]
        return timed_exit(command, how, timeout=120)[0]


def exits(rounds: int) -> dict[str, Any]:
    results: dict[str, Any] = {
        "rounds": rounds,
        "left_running": LEFT_RUNNING,
        "events_each": EVENTS_EACH,
    }
    for how in HOWS:
        seconds: dict[bool, list[float]] = {True: [], False: []}
        for index in range(rounds):
            for hung in (True, False) if index % 2 == 0 else (False, True):
                seconds[hung].append(exit_seconds(how, hung))
        results[how] = {
            "hung": statistics.median(seconds[True]),
            "hung_max": max(seconds[True]),
            "null": statistics.median(seconds[False]),
        }
    results["flush_bound"] = _flush_bound()
    return results


def _flush_bound() -> float:
    from opentelemetry_instrumentation_agentops._engine.drain import FLUSH_SECONDS

    return FLUSH_SECONDS


# -- exit times of the first-session program, by collector (issue #21) ------------------

COLLECTORS = ("up", "down", "hung", "slow", "500", "429")
SLOW_SECONDS = 2.0  # how long the slow collector takes to answer each request
# Each set to 1 s with a hung collector: which of them shortens the exit (the SDK's units).
TIMEOUT_VARIABLES = {
    "OTEL_EXPORTER_OTLP_TIMEOUT": "1",
    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "1",
    "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT": "1",
    "OTEL_BSP_EXPORT_TIMEOUT": "1000",
    "OTEL_METRIC_EXPORT_TIMEOUT": "1000",
}
METRICS_OFF = {"OTEL_METRICS_EXPORTER": "none"}


def first_session(how: str, count: int) -> None:
    """The program whose exit is timed: init()'s own pipeline, ``count`` sessions left open."""
    import opentelemetry_instrumentation_agentops as agentops

    agentops.init(auto_start_session=False)  # OTLP/HTTP traces and metrics, from OTEL_*
    for n in range(count):
        agentops.start_session(name=f"open {n}")
        agentops.record(agentops.ActionEvent(action_type="plan"))
    print("ready", flush=True)
    if how == "exception":
        raise RuntimeError("leaving by an exception")
    if how == "sigterm":
        time.sleep(600)


@contextlib.contextmanager
def collector(kind: str) -> Iterator[tuple[str, list[tuple[str, bytes]] | None]]:
    """The base URL of an OTLP/HTTP collector that is ``kind``; what it accepted (200)."""
    if kind == "down":
        yield f"http://127.0.0.1:{free_port()}", None
    elif kind == "hung":
        with hung_collector() as endpoint:
            yield endpoint.removesuffix("/v1/traces"), None
    else:
        delay = SLOW_SECONDS if kind == "slow" else 0.0
        status = int(kind) if kind.isdigit() else 200
        with otlp_collector(delay, status) as (base, received):
            yield base, received if status == 200 else None


def run_program(how: str, kind: str, env: dict[str, str], count: int = 1) -> dict[str, Any]:
    """One run of ``first_session``: its exit's seconds, the lines printed, the sessions
    the collector accepted (None when it accepts nothing)."""
    command = [sys.executable, __file__, "first-session", how, "--count", str(count)]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    with collector(kind) as (base, received):
        environment.update(OTEL_EXPORTER_OTLP_ENDPOINT=base, **env)
        took, _, stderr = timed_exit(command, how, environment, timeout=600)
        time.sleep(0.2)  # the collector's last answer
        arrived = None
        if received is not None:
            roots = [s for s in otlp_span_dicts(received) if s["parent_span_id"] is None]
            arrived = len({s["attributes"]["session.id"] for s in roots})
    lines = [x for x in stderr.splitlines() if x.strip() and not x.startswith((" ", "Traceback"))]
    return {"seconds": took, "lines": len(lines), "arrived": arrived}


def exit_cases() -> list[tuple[str, str, str, dict[str, str]]]:
    """(label, how, collector, environment) of every exit timed by ``exit-times``."""
    cases = []
    for kind in COLLECTORS:
        for metrics, env in (("on", {}), ("off", METRICS_OFF)):
            cases.append((f"{kind}, metrics {metrics}", "exit", kind, env))
    for how in ("exception", "sigterm"):
        for metrics, env in (("on", {}), ("off", METRICS_OFF)):
            cases.append((f"hung, metrics {metrics}, by {how}", how, "hung", env))
    for kind in ("hung", "down"):
        for variable, value in TIMEOUT_VARIABLES.items():
            label = f"{kind}, metrics on, {variable}={value}"
            cases.append((label, "exit", kind, {variable: value}))
    return cases


def exit_times(rounds: int, only: str | None = None) -> dict[str, Any]:
    results: dict[str, Any] = {"rounds": rounds, "slow_seconds": SLOW_SECONDS}
    for label, how, kind, env in exit_cases():
        if only and only not in label:
            continue
        runs = [run_program(how, kind, env) for _ in range(rounds)]
        seconds = [r["seconds"] for r in runs]
        results[label] = {
            "median": statistics.median(seconds),
            "min": min(seconds),
            "max": max(seconds),
            "lines": [r["lines"] for r in runs],
            "arrived": [r["arrived"] for r in runs],
        }
        say(f"{label}: {results[label]}")
    return results


def exit_many(count: int, rounds: int) -> dict[str, Any]:
    results: dict[str, Any] = {"count": count, "rounds": rounds}
    for how in ("exit", "sigterm"):
        runs = [run_program(how, "up", {}, count) for _ in range(rounds)]
        results[how] = {
            "seconds": [r["seconds"] for r in runs],
            "arrived": [r["arrived"] for r in runs],
        }
        say(f"{how}: {results[how]}")
    return results


def say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def main() -> None:
    parser = argparse.ArgumentParser()
    modes = parser.add_subparsers(dest="mode", required=True)
    for name in ("offline", "offline-null"):
        modes.add_parser(name).add_argument("--count", type=int, required=True)
    modes.add_parser("exits").add_argument("--rounds", type=int, default=3)
    times = modes.add_parser("exit-times")
    times.add_argument("--rounds", type=int, default=3)
    times.add_argument("--only", help="only the cases whose label contains this")
    many = modes.add_parser("exit-many")
    many.add_argument("--count", type=int, default=20_000)
    many.add_argument("--rounds", type=int, default=3)
    child = modes.add_parser("agent", help="the program exits times (not a measurement)")
    child.add_argument("how", choices=HOWS)
    child.add_argument("--endpoint", help="OTLP/HTTP traces endpoint; default: null exporter")
    first = modes.add_parser("first-session", help="the program exit-times times")
    first.add_argument("how", choices=HOWS)
    first.add_argument("--count", type=int, default=1)
    args = parser.parse_args()
    if args.mode == "agent":
        agent(args.how, args.endpoint)
        return
    if args.mode == "first-session":
        first_session(args.how, args.count)
        return
    if args.mode == "exits":
        result = exits(args.rounds)
    elif args.mode == "exit-times":
        result = exit_times(args.rounds, args.only)
    elif args.mode == "exit-many":
        result = exit_many(args.count, args.rounds)
    else:
        result = offline(args.count, args.mode == "offline")
    sys.stdout.write(json.dumps({"mode": args.mode, **result}) + "\n")
    sys.stdout.flush()
    if args.mode == "offline":
        os._exit(0)  # the SDK's shutdown at exit would try the collector that is down, again


if __name__ == "__main__":
    main()
