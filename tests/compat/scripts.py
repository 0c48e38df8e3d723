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
import os as _guard_os
import socket as _socket

_NET = []
# Only the fake OpenAI server of the test (host:port in COMPAT_ALLOW) may be reached.
_ALLOWED = {tuple(a.rsplit(":", 1)) for a in _guard_os.environ.get("COMPAT_ALLOW", "").split()}
_REAL = (_socket.getaddrinfo, _socket.create_connection, _socket.socket.connect,
         _socket.socket.connect_ex)


def _allowed(address):
    return isinstance(address, tuple) and (str(address[0]), str(address[1])) in _ALLOWED


def _refuse(args):
    _NET.append(repr(args)[:200])
    raise OSError("network blocked by the compat tests")


def _getaddrinfo(host, port, *args, **kwargs):
    if _allowed((host, port)):
        return _REAL[0](host, port, *args, **kwargs)
    _refuse((host, port))


def _create_connection(address, *args, **kwargs):
    if _allowed(address):
        return _REAL[1](address, *args, **kwargs)
    _refuse(address)


def _connect(self, address):
    if _allowed(address):
        return _REAL[2](self, address)
    _refuse(address)


def _connect_ex(self, address):
    if _allowed(address):
        return _REAL[3](self, address)
    _refuse(address)


_socket.getaddrinfo, _socket.create_connection = _getaddrinfo, _create_connection
_socket.socket.connect, _socket.socket.connect_ex = _connect, _connect_ex
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
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry import trace as _trace

_BUILTINS = (_builtins.print, _builtins.__import__)
_OTEL_LOGGER = _logging.getLogger("opentelemetry")
_OTEL_LOGGER_STATE = (_OTEL_LOGGER.propagate, list(_OTEL_LOGGER.handlers), _OTEL_LOGGER.level)
_MODE = _os.environ.get("COMPAT_PROVIDER")
_EXPLICIT = _MODE == "explicit"
if _MODE == "none":  # no pipeline: the first global SDK provider set gets the span file
    _PROVIDER = None
    _set_provider = _trace.set_tracer_provider

    def _set_and_export(provider):
        _set_provider(provider)
        global _PROVIDER
        if _PROVIDER is None and _trace.get_tracer_provider() is provider:
            _PROVIDER = provider
            provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(SPAN_FILE)))

    _trace.set_tracer_provider = _set_and_export
else:
    _PROVIDER = make_provider()
    if not _EXPLICIT:
        _trace.set_tracer_provider(_PROVIDER)
_THREADS = set(_threading.enumerate())

from opentelemetry_instrumentation_agentops import AgentOpsInstrumentor as _Instrumentor

_INSTRUMENTOR = _Instrumentor()


def instrument():
    _INSTRUMENTOR.instrument(tracer_provider=_PROVIDER if _EXPLICIT else None)


def report(**extra):
    if _PROVIDER is not None:
        _PROVIDER.force_flush()
    for thread in set(_threading.enumerate()) - _THREADS:
        thread.join(2)
    provider = _trace.get_tracer_provider()
    logger_state = (_OTEL_LOGGER.propagate, list(_OTEL_LOGGER.handlers), _OTEL_LOGGER.level)
    # This package's own live-session thread (a daemon) is not agentops' to leave behind.
    left = {t for t in set(_threading.enumerate()) - _THREADS if t.name != "agentops-live"}
    _builtins.print("REPORT " + _json.dumps({
        "net": _NET,
        "builtins_patched": (_builtins.print, _builtins.__import__) != _BUILTINS,
        "agentops_log": _os.path.exists("agentops.log"),
        "global_provider": "ours" if provider is _PROVIDER else type(provider).__name__,
        "exported_by": type(_PROVIDER).__module__ if _PROVIDER is not None else None,
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
    env: dict[str, str] | None = None,
) -> Run:
    """Run ``setup`` then ``run`` (dedented source) with the instrumentor as ``order`` says.

    ``provider``: "global" (an SDK provider set globally first), "explicit" (given to
    ``instrument()`` only) or "none" (no pipeline: the first SDK provider the program
    makes global, such as the one ``init()`` sets up, gets the span file).
    """
    setup, run = textwrap.dedent(setup), textwrap.dedent(run)
    parts = [setup, "instrument()\n", run] if order == "before" else ["instrument()\n", setup, run]
    body = PRELUDE + "\n".join(parts) + "\nreport()\n"
    span_file = tmp_path / "spans.jsonl"
    extra = {"COMPAT_PROVIDER": provider, **(env or {})}
    if provider == "none":
        extra.setdefault("OTEL_TRACES_EXPORTER", "none")  # init() adds no OTLP exporter
    done = run_script(tmp_path, body, span_file=span_file, timeout=timeout, **extra)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"the program failed:\n{output}"
    lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
    assert lines, f"no report:\n{output}"
    return Run(read_spans(span_file), json.loads(lines[-1][len("REPORT ") :]), output)


# -- what AgentOps' programs expect (they are read by ``programs.py``) --------------------------

AGENTOPS_API_KEY = "11111111-1111-4111-8111-111111111111"  # AgentOps' own tests' key


def openai_env(server: Any) -> dict[str, str]:
    """What a program needs to reach the fake OpenAI server, and AgentOps' key set."""
    return {
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_API_KEY": "sk-fake",
        "AGENTOPS_API_KEY": AGENTOPS_API_KEY,
        "COMPAT_ALLOW": f"127.0.0.1:{server.port}",
    }
