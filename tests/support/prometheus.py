"""A throwaway Prometheus on loopback for end-to-end tests, and PromQL over its HTTP API.

Prometheus is Debian's package (``bash scripts/prometheus.sh install``); it runs through
``scripts/prometheus.sh serve``, the same command the demo uses, scraping one target every
second. Typical use::

    with prometheus_server("127.0.0.1:9464") as prometheus:
        wait_for(prometheus.url, "sum(agentops_session_active)", lambda r: r == [...])
        rows = query(prometheus.url, 'sum by (le) (agentops_session_duration_seconds_bucket)')
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .network import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "prometheus.sh"
INSTALL_COMMAND = "bash scripts/prometheus.sh install"
STARTUP_TIMEOUT = 60.0


class PrometheusUnavailableError(RuntimeError):
    """Prometheus could not be found or started; the message says how to fix it."""


@dataclass(frozen=True)
class PrometheusServer:
    url: str  # http://127.0.0.1:PORT: the UI and the HTTP API
    version: str
    log_path: Path


def binary() -> str | None:
    return shutil.which(os.environ.get("PROMETHEUS_BIN", "prometheus"))


def version() -> str:
    """The first line of ``prometheus --version``."""
    found = binary()
    if found is None:
        raise PrometheusUnavailableError(f"Prometheus is not installed; run: {INSTALL_COMMAND}")
    done = subprocess.run([found, "--version"], capture_output=True, text=True, timeout=30)
    return (done.stdout or done.stderr).splitlines()[0].strip()


@contextlib.contextmanager
def prometheus_server(
    target: str, port: int | None = None, scrape_interval: str = "1s"
) -> Iterator[PrometheusServer]:
    """A Prometheus on ``port`` (default: a free one) scraping ``target`` (host:port), stopped
    and deleted on exit."""
    found_version = version()
    work = Path(tempfile.mkdtemp(prefix="agentops-prometheus-"))
    port = port or free_port()
    log_path = work / "prometheus.log"
    env = {
        **os.environ,
        "PROMETHEUS_PORT": str(port),
        "PROMETHEUS_TARGET": target,
        "PROMETHEUS_SCRAPE_INTERVAL": scrape_interval,
        "PROMETHEUS_DIR": str(work),
    }
    with open(log_path, "wb") as log:
        # Its own process group: stopping it stops the script and the server it started.
        process = subprocess.Popen(
            ["bash", str(SCRIPT), "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, log_path)
        yield PrometheusServer(url, found_version, log_path)
    finally:
        _stop(process)
        shutil.rmtree(work, ignore_errors=True)


def _wait_ready(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:  # not listening yet, or not ready (503)
            pass
        time.sleep(0.2)
    tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
    raise PrometheusUnavailableError(f"Prometheus did not become ready at {url}:\n{tail}")


def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def query(url: str, promql: str, at: float | None = None) -> list[dict[str, Any]]:
    """An instant PromQL query: the ``result`` list of the vector Prometheus answers."""
    params = {"query": promql}
    if at is not None:
        params["time"] = f"{at:.3f}"
    request = f"{url}/api/v1/query?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.load(response)
    except urllib.error.HTTPError as error:  # a bad query: say which and why
        raise AssertionError(
            f"PromQL {promql!r}: {error.read().decode(errors='replace')}"
        ) from None
    assert body["status"] == "success", body
    return body["data"]["result"]


def by_label(rows: list[dict[str, Any]], label: str | None = None) -> dict[str, float]:
    """``{label value: sample value}`` of a query's rows (``""`` for rows without the label)."""
    return {row["metric"].get(label, "") if label else "": float(row["value"][1]) for row in rows}


def wait_for(
    url: str,
    promql: str,
    condition: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 60.0,
) -> list[dict[str, Any]]:
    """Query until ``condition(rows)`` holds (scrapes are periodic); the last rows, or fail."""
    deadline = time.monotonic() + timeout
    rows = query(url, promql)
    while not condition(rows):
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout:.0f} s, {promql!r} still gives {rows}")
        time.sleep(0.25)
        rows = query(url, promql)
    return rows
