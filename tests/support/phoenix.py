"""Start, stop and query a throwaway Arize Phoenix server, the real backend of the tests.

Phoenix is the real OTLP backend of the e2e tests: it takes OTLP/HTTP on ``<url>/v1/traces`` and
OTLP/gRPC on its own port, and has a REST API to read back what arrived. It lives in its own venv
(``.venv-phoenix``) because it pins far more than this project should depend on.

Typical use, outside pytest too::

    with phoenix_server() as px:
        exporter = OTLPSpanExporter(endpoint=px.otlp_http_endpoint)
        ...
        spans = wait_for_spans(px.url, trace_id_hex, n=2)

``phoenix_server()`` picks fresh ports for every server; ``run_phoenix(http_port, grpc_port,
work_dir)`` runs one on ports the caller chose, so an outage test can stop it and start it
again behind the same endpoint. The e2e tier imports all this through ``tests/e2e/phoenix.py``.

Only what Phoenix keeps may be asserted: span names, parent links, span attributes, events, status
and times. Resource attributes (``service.name``) and the OTel span kind are not stored.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.network import free_port

__all__ = [
    "INSTALL_COMMAND",
    "PHOENIX_VERSION",
    "PhoenixServer",
    "PhoenixUnavailableError",
    "default_phoenix_bin",
    "find_phoenix",
    "get_json",
    "get_sessions",
    "graphql",
    "healthy",
    "phoenix_server",
    "project_id",
    "project_spans",
    "run_phoenix",
    "session_views",
    "wait_for_spans",
]

PHOENIX_VERSION = "20.26.1"
INSTALL_COMMAND = (
    "python -m venv .venv-phoenix && "
    f".venv-phoenix/bin/pip install 'arize-phoenix=={PHOENIX_VERSION}'"
)
REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 120.0  # seconds; about 10-25 s on a 2-core machine, far more on a cold disk
STOP_TIMEOUT = 15.0


class PhoenixUnavailableError(RuntimeError):
    """Phoenix could not be found or started; the message says how to fix it."""


@dataclass(frozen=True)
class PhoenixServer:
    """Where a running Phoenix listens. ``pid`` is None for a reused external server."""

    url: str  # http://127.0.0.1:PORT: UI, REST API and OTLP/HTTP
    grpc_endpoint: str  # http://127.0.0.1:PORT for the OTLP/gRPC exporter (insecure=True)
    pid: int | None = None
    log_path: Path | None = None

    @property
    def otlp_http_endpoint(self) -> str:
        """The full OTLP/HTTP traces endpoint: Phoenix has no separate 4318 listener."""
        return f"{self.url}/v1/traces"


def default_phoenix_bin() -> Path:
    """``$PHOENIX_BIN``, else ``<repo>/.venv-phoenix/bin/phoenix``."""
    return Path(os.environ.get("PHOENIX_BIN") or REPO_ROOT / ".venv-phoenix" / "bin" / "phoenix")


def get_json(url: str, timeout: float = 10.0) -> Any:
    """GET ``url`` and decode its JSON body. HTTP errors propagate as ``urllib.error.HTTPError``."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


def healthy(url: str) -> bool:
    """Whether the Phoenix at ``url`` answers ``GET /healthz`` with 200."""
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:  # URLError, connection refused and timeouts are all OSErrors
        return False


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _server_env(work_dir: str, http_port: int, grpc_port: int) -> dict[str, str]:
    # Drop inherited OTEL_*/PHOENIX_* settings (a test may aim OTEL_* at this very server) and
    # PYTHON* paths (Phoenix must import from its own venv only).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OTEL_", "PHOENIX_")) and k not in ("PYTHONPATH", "PYTHONHOME")
    }
    env.update(
        PHOENIX_HOST="127.0.0.1",
        PHOENIX_PORT=str(http_port),
        PHOENIX_GRPC_PORT=str(grpc_port),
        PHOENIX_WORKING_DIR=work_dir,
        PHOENIX_SQL_DATABASE_URL="sqlite:///:memory:",
        PHOENIX_TELEMETRY_ENABLED="false",
        PHOENIX_ALLOW_EXTERNAL_RESOURCES="false",
        PHOENIX_DISABLE_AGENT_ASSISTANT="true",
        PHOENIX_AGENTS_DISABLE_BASH="true",
    )
    return env


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop by PID: SIGTERM, then SIGKILL if it has not exited in time."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT)


def find_phoenix(phoenix_bin: Path | str | None = None) -> Path:
    """The phoenix executable (``phoenix_bin``, else ``default_phoenix_bin()``).

    Raises ``PhoenixUnavailableError`` saying how to install it when it is missing.
    """
    binary = Path(phoenix_bin) if phoenix_bin else default_phoenix_bin()
    if not binary.is_file() or not os.access(binary, os.X_OK):
        raise PhoenixUnavailableError(
            f"Phoenix binary not found at {binary}. Install it from the repository root with:\n"
            f"    {INSTALL_COMMAND}\n"
            "(or `scripts/phoenix.sh install`), or set PHOENIX_BIN to a phoenix executable, "
            "or PHOENIX_URL to a running server."
        )
    return binary


@contextlib.contextmanager
def run_phoenix(
    http_port: int,
    grpc_port: int,
    work_dir: Path | str,
    phoenix_bin: Path | str | None = None,
    startup_timeout: float = STARTUP_TIMEOUT,
) -> Iterator[PhoenixServer]:
    """Run a private Phoenix on the given loopback ports until the block ends, then stop it.

    It gets an in-memory database, keeps its files in ``work_dir`` (created if missing) and
    appends its output to ``work_dir/phoenix.log``. The block starts once it is healthy.
    Raises ``PhoenixUnavailableError`` with a fix-it message when the binary is missing or
    the server does not come up.
    """
    binary = find_phoenix(phoenix_bin)
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    log_path = work_dir / "phoenix.log"
    url = f"http://127.0.0.1:{http_port}"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [str(binary), "serve"],
            env=_server_env(str(work_dir), http_port, grpc_port),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=work_dir,
        )
    try:
        deadline = time.monotonic() + startup_timeout
        while not healthy(url):
            if proc.poll() is not None:
                raise PhoenixUnavailableError(
                    f"Phoenix exited with code {proc.returncode} during startup. "
                    f"Log tail:\n{_log_tail(log_path)}"
                )
            if time.monotonic() > deadline:
                raise PhoenixUnavailableError(
                    f"Phoenix was not healthy at {url}/healthz after {startup_timeout:.0f} s. "
                    f"Log tail:\n{_log_tail(log_path)}"
                )
            time.sleep(0.25)
        yield PhoenixServer(
            url=url,
            grpc_endpoint=f"http://127.0.0.1:{grpc_port}",
            pid=proc.pid,
            log_path=log_path,
        )
    finally:
        _stop(proc)


@contextlib.contextmanager
def phoenix_server(
    phoenix_bin: Path | str | None = None, startup_timeout: float = STARTUP_TIMEOUT
) -> Iterator[PhoenixServer]:
    """Yield a running Phoenix: the one at ``$PHOENIX_URL`` if set, else a fresh private one.

    A fresh server gets free loopback ports, an in-memory database and a temp working dir, and is
    stopped and cleaned up on exit. Raises ``PhoenixUnavailableError`` with a fix-it message when
    the binary is missing or the server does not come up.
    """
    external = os.environ.get("PHOENIX_URL")
    if external:
        url = external.rstrip("/")
        if not healthy(url):
            raise PhoenixUnavailableError(f"PHOENIX_URL={external} does not answer GET /healthz")
        grpc = os.environ.get("PHOENIX_GRPC", "http://127.0.0.1:4317")
        yield PhoenixServer(url=url, grpc_endpoint=grpc)
        return

    binary = find_phoenix(phoenix_bin)
    work_dir = tempfile.mkdtemp(prefix="phoenix-e2e-")
    try:
        with run_phoenix(free_port(), free_port(), work_dir, binary, startup_timeout) as server:
            yield server
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def _quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


def _paged(url: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield every item of a paged Phoenix list endpoint, following ``next_cursor``."""
    query = dict(params)
    while True:
        page = get_json(f"{url}?{urllib.parse.urlencode(query, doseq=True)}")
        yield from page["data"]
        if not page.get("next_cursor"):
            return
        query["cursor"] = page["next_cursor"]


def wait_for_spans(
    url: str,
    trace_id_hex: str | int,
    n: int,
    project: str = "default",
    timeout: float = 60.0,
) -> list[dict[str, Any]]:
    """Poll until at least ``n`` spans of the trace are stored, and return them all.

    Ingest is asynchronous, so a span is not queryable the moment the exporter returns. An ``int``
    trace id is formatted as 32 hex digits. Raises ``AssertionError`` on timeout, naming how many
    of the expected spans arrived.
    """
    trace_id = format(trace_id_hex, "032x") if isinstance(trace_id_hex, int) else trace_id_hex
    endpoint = f"{url.rstrip('/')}/v1/projects/{_quote(project)}/spans"
    deadline = time.monotonic() + timeout
    spans: list[dict[str, Any]] = []
    while True:
        try:
            spans = list(_paged(endpoint, {"trace_id": trace_id, "limit": 1000}))
        except urllib.error.HTTPError as exc:
            # 404 until the first span of a new project arrives: keep waiting.
            if exc.code != 404:
                raise
        if len(spans) >= n:
            return spans
        if time.monotonic() > deadline:
            names = sorted(s["name"] for s in spans)
            raise AssertionError(
                f"only {len(spans)} of {n} spans of trace {trace_id} reached Phoenix project "
                f"{project!r} within {timeout:.0f} s: {names}"
            )
        time.sleep(0.2)


def project_spans(url: str, project: str) -> list[dict[str, Any]]:
    """Every span stored in a project so far, all pages; none while it does not exist (404)."""
    endpoint = f"{url.rstrip('/')}/v1/projects/{_quote(project)}/spans"
    try:
        return list(_paged(endpoint, {"limit": 1000}))
    except urllib.error.HTTPError as exc:
        if exc.code != 404:
            raise
        return []


def get_sessions(url: str, project: str = "default") -> list[dict[str, Any]]:
    """Return the sessions of a project (``GET /v1/projects/{p}/sessions``), all pages.

    Phoenix groups spans into a session by their ``session.id`` attribute. Each item has ``id``
    (a GlobalID), ``session_id`` (the attribute value), ``project_id``, ``start_time``,
    ``end_time``, ``traces`` (``id``, ``trace_id``, ``start_time``, ``end_time``) and
    ``token_count_prompt`` / ``_completion`` / ``_total``.
    """
    endpoint = f"{url.rstrip('/')}/v1/projects/{_quote(project)}/sessions"
    return list(_paged(endpoint, {"limit": 100}))


def project_id(url: str, name: str) -> str:
    """Return the GlobalID of the project called ``name``; ``LookupError`` if it does not exist."""
    try:
        body = get_json(f"{url.rstrip('/')}/v1/projects/{_quote(name)}")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise LookupError(f"no Phoenix project named {name!r} at {url}") from exc
        raise
    return str(body["data"]["id"])


def graphql(url: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    """POST a GraphQL query to Phoenix (``/graphql``, what its UI reads); its ``data``.

    Raises ``AssertionError`` with Phoenix's messages when the answer has errors.
    """
    request = urllib.request.Request(
        f"{url.rstrip('/')}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)
    assert not answer.get("errors"), answer["errors"]
    return answer["data"]


# What each row of a project's Sessions tab shows (Phoenix 20.26.1's ProjectSession type).
_SESSIONS_VIEW = """
query ($project: ID!, $after: String) {
  node(id: $project) {
    ... on Project {
      sessions(first: 100, after: $after) {
        edges {
          node {
            sessionId
            userId
            numTraces
            firstInput { value mimeType }
            lastOutput { value mimeType }
            tokenUsage { prompt completion total }
          }
        }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""


def session_views(url: str, project: str) -> dict[str, dict[str, Any]]:
    """Phoenix's sessions view of a project, by session id: ``userId``, ``numTraces``,
    ``firstInput`` / ``lastOutput`` (``value``, ``mimeType``; None when absent) and
    ``tokenUsage`` (``prompt``, ``completion``, ``total``), as its Sessions tab shows them.

    Empty while the project does not exist yet.
    """
    try:
        pid = project_id(url, project)
    except LookupError:
        return {}
    found: dict[str, dict[str, Any]] = {}
    after = None
    while True:
        page = graphql(url, _SESSIONS_VIEW, {"project": pid, "after": after})["node"]["sessions"]
        found.update((edge["node"]["sessionId"], edge["node"]) for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]
