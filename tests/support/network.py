"""Loopback endpoints for tests: a free port, and OTLP/HTTP collectors that work or hang.

- ``free_port()``: a port nobody listens on, so connecting to it is refused (until a server
  the test starts binds it); ``free_ports(n)``: n of them, all different;
- ``otlp_collector()``: an OTLP/HTTP endpoint that keeps each request and answers 200 (or
  another status, after a delay: a collector that fails or is slow); ``otlp_spans()`` /
  ``otlp_span_dicts()`` read the spans it received, ``otlp_logs()`` the log records;
- ``hung_collector()``: one that accepts connections and never answers.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


def free_port() -> int:
    """A loopback port nobody listens on: connections are refused until someone binds it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_ports(count: int) -> list[int]:
    """``count`` different free ports: all held while picked, so no two are the same."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]


class _Collector(BaseHTTPRequestHandler):
    """Keeps (path, body) of every POST in ``server.received`` and answers ``server.status``
    (200: success) after ``server.delay`` seconds."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.server.delay:
            time.sleep(self.server.delay)
        self.server.received.append((self.path, body))
        status = self.server.status
        reply = ExportTraceServiceResponse().SerializeToString() if status == 200 else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def otlp_collector(
    delay: float = 0.0, status: int = 200
) -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    """An OTLP/HTTP collector on loopback: its base URL and the (path, body) it received.

    ``delay``: seconds before each answer (a slow collector); ``status``: the answer's
    HTTP status (500, or 429 to ask for a retry: the request is kept all the same).
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    server.received, server.delay, server.status = [], delay, status
    server.daemon_threads = True  # a slow answer in progress never holds the test's exit
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.received
    finally:
        server.shutdown()
        server.server_close()


def otlp_spans(received: list[tuple[str, bytes]]) -> list[tuple[str, dict[str, str]]]:
    """(name, string attributes) of every span the collector received on /v1/traces."""
    return [
        (span["name"], {k: v for k, v in span["attributes"].items() if isinstance(v, str)})
        for span in otlp_span_dicts(received)
    ]


def otlp_span_dicts(received: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    """Every span received on /v1/traces, as ``support.span_file`` writes spans (the same
    keys: name, trace_id, span_id, parent_span_id, attributes, resource), so the lookups of
    ``support.spans`` read both."""
    spans = []
    for path, body in received:
        if path != "/v1/traces":  # session metrics and log records beside: /v1/metrics, /v1/logs
            assert path in ("/v1/metrics", "/v1/logs"), path
            continue
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            resource = _key_values(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    spans.append(
                        {
                            "name": span.name,
                            "trace_id": span.trace_id.hex(),
                            "span_id": span.span_id.hex(),
                            "parent_span_id": span.parent_span_id.hex() or None,
                            "attributes": _key_values(span.attributes),
                            "resource": resource,
                        }
                    )
    return spans


def _key_values(pairs: Any) -> dict[str, Any]:
    return {pair.key: _any_value(pair.value) for pair in pairs}


def _any_value(value: Any) -> Any:
    """An OTLP AnyValue as Python: str, bool, int, float or a list of them."""
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_any_value(v) for v in value.array_value.values]
    return None if kind is None else getattr(value, kind)


def otlp_logs(received: list[tuple[str, bytes]]) -> list[tuple[str, dict[str, Any]]]:
    """(body, attributes) of every log record the collector received on /v1/logs."""
    records = []
    for path, body in received:
        if path != "/v1/logs":
            continue
        request = ExportLogsServiceRequest.FromString(body)
        for resource_logs in request.resource_logs:
            for scope_logs in resource_logs.scope_logs:
                for record in scope_logs.log_records:
                    records.append((record.body.string_value, _key_values(record.attributes)))
    return records


@contextlib.contextmanager
def hung_collector() -> Iterator[str]:
    """An OTLP/HTTP traces endpoint that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(256)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1/traces"
