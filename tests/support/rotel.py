"""Run rotel, a real OpenTelemetry collector, between the application and a backend.

rotel (``pip install rotel``, in the ``test`` extra) is a collector written in Rust whose wheel
ships the ``rotel-agent`` binary. ``rotel_collector(endpoint, protocol)`` runs it on free
loopback ports, taking OTLP over gRPC and HTTP and relaying every trace to ``endpoint`` over
``protocol`` (``"grpc"`` or ``"http"``), until the block ends::

    with phoenix_server() as px, rotel_collector(px.grpc_endpoint, "grpc") as collector:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint("http"), ...}

It batches for at most ``BATCH_TIMEOUT`` before it forwards, keeps nothing and has no API: what
it relayed is read from the backend. Its pid and log files stay in its own working directory.
"""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from support.network import free_ports

BATCH_TIMEOUT = "200ms"  # rotel's default, named here: how long it may hold a span
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


@dataclass(frozen=True)
class Collector:
    """Where a running rotel listens."""

    grpc_port: int
    http_port: int
    pid: int
    log_path: Path

    def endpoint(self, protocol: str) -> str:
        """``OTEL_EXPORTER_OTLP_ENDPOINT`` for an application sending over ``protocol``."""
        port = self.grpc_port if protocol == "grpc" else self.http_port
        return f"http://127.0.0.1:{port}"


def rotel_binary() -> Path:
    """The ``rotel-agent`` executable inside the installed ``rotel`` package."""
    spec = importlib.util.find_spec("rotel")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("rotel is not installed: it is in the test extra, pip install rotel")
    return Path(next(iter(spec.submodule_search_locations))) / "rotel-agent"


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _log_tail(path: Path, lines: int = 20) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return "(no log)"


@contextlib.contextmanager
def rotel_collector(exporter_endpoint: str, protocol: str) -> Iterator[Collector]:
    """rotel relaying OTLP to ``exporter_endpoint`` over ``protocol``, stopped at the end."""
    work_dir = Path(tempfile.mkdtemp(prefix="rotel-"))
    grpc_port, http_port = free_ports(2)
    log_path = work_dir / "rotel.out"
    command = [
        str(rotel_binary()),
        "start",
        f"--otlp-grpc-endpoint=127.0.0.1:{grpc_port}",
        f"--otlp-http-endpoint=127.0.0.1:{http_port}",
        "--exporter=otlp",
        f"--otlp-exporter-endpoint={exporter_endpoint}",
        f"--otlp-exporter-protocol={protocol}",
        f"--batch-timeout={BATCH_TIMEOUT}",
        f"--pid-file={work_dir / 'rotel.pid'}",  # its defaults are shared files in /tmp
        f"--log-file={work_dir / 'rotel.log'}",
    ]
    try:
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while not (_listening(grpc_port) and _listening(http_port)):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"rotel did not start:\n{_log_tail(log_path)}")
                time.sleep(0.05)
            yield Collector(grpc_port, http_port, process.pid, log_path)
        finally:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
