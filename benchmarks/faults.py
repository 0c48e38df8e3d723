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
  to the null exporter, ``rounds`` pairs of each kind, alternating which runs first.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from harness import NullExporter
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from scale import rss_bytes

HOWS = ("exit", "exception", "sigterm")
EXIT_CODES = {"exit": 0, "exception": 1, "sigterm": -signal.SIGTERM}
LEFT_RUNNING, EVENTS_EACH = 3, 700  # enough for the exporter to be stuck on a batch, more queued


def _otlp(endpoint: str, **options: Any) -> Any:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=endpoint, **options)


def offline(count: int, down: bool) -> dict[str, Any]:
    import opentelemetry_instrumentation_agentops as agentops

    if down:
        with socket.socket() as sock:  # a port nobody listens on: connections are refused
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        exporter = _otlp(f"http://127.0.0.1:{port}/v1/traces", timeout=1)
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


@contextlib.contextmanager
def hung_collector() -> Iterator[str]:
    """An OTLP/HTTP endpoint that accepts connections (the backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(256)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1/traces"


def exit_seconds(how: str, hung: bool) -> float:
    """Seconds from the agent's "ready" line (and SIGTERM, if ``how`` says so) to its end."""
    command = [sys.executable, __file__, "agent", how]
    with contextlib.ExitStack() as stack:
        if hung:
            command += ["--endpoint", stack.enter_context(hung_collector())]
        errors = stack.enter_context(tempfile.TemporaryFile("w+"))
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
        try:
            line = process.stdout.readline().strip() if process.stdout else ""
            started = time.monotonic()
            if how == "sigterm" and line == "ready":
                process.send_signal(signal.SIGTERM)
            process.wait(timeout=120)
            took = time.monotonic() - started
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        if line != "ready" or process.returncode != EXIT_CODES[how]:
            errors.seek(0)
            tail = "\n".join(errors.read().strip().splitlines()[-10:])
            raise SystemExit(f"agent {how} (hung: {hung}) exited {process.returncode}:\n{tail}")
    return took


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
    from opentelemetry_instrumentation_agentops._engine.exits import FLUSH_TIMEOUT_MILLIS

    return FLUSH_TIMEOUT_MILLIS / 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    modes = parser.add_subparsers(dest="mode", required=True)
    for name in ("offline", "offline-null"):
        modes.add_parser(name).add_argument("--count", type=int, required=True)
    modes.add_parser("exits").add_argument("--rounds", type=int, default=3)
    child = modes.add_parser("agent", help="the program exits times (not a measurement)")
    child.add_argument("how", choices=HOWS)
    child.add_argument("--endpoint", help="OTLP/HTTP traces endpoint; default: null exporter")
    args = parser.parse_args()
    if args.mode == "agent":
        agent(args.how, args.endpoint)
        return
    if args.mode == "exits":
        result = exits(args.rounds)
    else:
        result = offline(args.count, args.mode == "offline")
    sys.stdout.write(json.dumps({"mode": args.mode, **result}) + "\n")
    sys.stdout.flush()
    if args.mode == "offline":
        os._exit(0)  # the SDK's shutdown at exit would try the collector that is down, again


if __name__ == "__main__":
    main()
