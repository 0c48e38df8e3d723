"""Running AgentOps programs in a fresh interpreter, as their users wrote them.

Each program runs behind a socket guard (every DNS lookup and connection is
recorded and refused), with the project's instrumentor active and an SDK
provider exporting to a span file. It ends by printing a ``REPORT`` line: the
network attempts, whether ``print``/``__import__`` were patched, whether an
``agentops.log`` was written, which provider is global, and the threads left.

``order="after"`` instruments before the program's own code runs;
``order="before"`` runs the program's setup (imports, ``from agentops import``,
decorated functions and classes) first, then instruments, then the rest.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from support.span_file import read_spans, run_script

SOCKET_GUARD = """
import socket as _socket

_NET = []


def _refuse(*args, **kwargs):
    _NET.append(repr(args)[:200])
    raise OSError("network blocked by the compat tests")


_socket.getaddrinfo = _socket.create_connection = _refuse
_socket.socket.connect = _socket.socket.connect_ex = _refuse
"""

PRELUDE = (
    SOCKET_GUARD
    + """
# Underscored names: the program below may rebind trace, json, os, ...
import builtins as _builtins
import json as _json
import logging as _logging
import os as _os
import threading as _threading

from opentelemetry import metrics as _metrics
from opentelemetry import trace as _trace

_BUILTINS = (_builtins.print, _builtins.__import__)
_OTEL_LOGGER = _logging.getLogger("opentelemetry")
_OTEL_LOGGER_STATE = (_OTEL_LOGGER.propagate, list(_OTEL_LOGGER.handlers), _OTEL_LOGGER.level)
_PROVIDER = make_provider()
_EXPLICIT = _os.environ.get("COMPAT_PROVIDER") == "explicit"
if not _EXPLICIT:
    _trace.set_tracer_provider(_PROVIDER)
_THREADS = set(_threading.enumerate())

from opentelemetry_instrumentation_agentops import AgentOpsInstrumentor as _Instrumentor

_INSTRUMENTOR = _Instrumentor()


def instrument():
    _INSTRUMENTOR.instrument(tracer_provider=_PROVIDER if _EXPLICIT else None)


def report(**extra):
    _PROVIDER.force_flush()
    for thread in set(_threading.enumerate()) - _THREADS:
        thread.join(2)
    provider = _trace.get_tracer_provider()
    logger_state = (_OTEL_LOGGER.propagate, list(_OTEL_LOGGER.handlers), _OTEL_LOGGER.level)
    left = set(_threading.enumerate()) - _THREADS
    _builtins.print("REPORT " + _json.dumps({
        "net": _NET,
        "builtins_patched": (_builtins.print, _builtins.__import__) != _BUILTINS,
        "agentops_log": _os.path.exists("agentops.log"),
        "global_provider": "ours" if provider is _PROVIDER else type(provider).__name__,
        "meter_provider": type(_metrics.get_meter_provider()).__name__,
        "otel_logger_changed": logger_state != _OTEL_LOGGER_STATE,
        "new_threads": sorted(t.name for t in left if t.is_alive()),
        **extra,
    }, default=str))

"""
)


class Run:
    """A finished program: its spans, its report and its output."""

    def __init__(self, spans: list[dict[str, Any]], report: dict[str, Any], output: str) -> None:
        self.spans, self.report, self.output = spans, report, output

    def named(self, name: str) -> list[dict[str, Any]]:
        return [s for s in self.spans if s["name"] == name]

    def one(self, name: str) -> dict[str, Any]:
        found = self.named(name)
        names = sorted(s["name"] for s in self.spans)
        assert len(found) == 1, f"expected one {name!r}, got {names}"
        return found[0]

    def roots(self) -> list[dict[str, Any]]:
        return [s for s in self.spans if s["parent_span_id"] is None]

    def children(self, parent: dict[str, Any]) -> list[dict[str, Any]]:
        return [s for s in self.spans if s["parent_span_id"] == parent["span_id"]]

    def in_trace(self, root: dict[str, Any]) -> list[str]:
        return sorted(s["name"] for s in self.spans if s["trace_id"] == root["trace_id"])

    def assert_clean(self) -> None:
        """Nothing AgentOps' own init would have done happened."""
        report = self.report
        assert report["net"] == [], f"network attempted: {report['net']}"
        assert not report["builtins_patched"], "print or __import__ was patched"
        assert not report["agentops_log"], "agentops.log was written"
        assert report["meter_provider"].startswith(("_Proxy", "Proxy", "NoOp")), report
        assert not report["otel_logger_changed"], "the opentelemetry logger was changed"
        assert report["new_threads"] == [], f"threads left running: {report['new_threads']}"


def run_program(
    tmp_path: Path,
    setup: str,
    run: str = "",
    *,
    order: str = "after",
    provider: str = "global",
    timeout: float = 60,
) -> Run:
    """Run ``setup`` then ``run`` (dedented source) with the instrumentor as ``order`` says."""
    setup, run = textwrap.dedent(setup), textwrap.dedent(run)
    parts = [setup, "instrument()\n", run] if order == "before" else ["instrument()\n", setup, run]
    body = PRELUDE + "\n".join(parts) + "\nreport()\n"
    span_file = tmp_path / "spans.jsonl"
    done = run_script(
        tmp_path, body, span_file=span_file, timeout=timeout, COMPAT_PROVIDER=provider
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"the program failed:\n{output}"
    lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
    assert lines, f"no report:\n{output}"
    return Run(read_spans(span_file), json.loads(lines[-1][len("REPORT ") :]), output)
