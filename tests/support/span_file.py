"""A span exporter that appends each finished span as one JSON line to a file.

Subprocess tests use it behind a ``BatchSpanProcessor``, so a span only reaches
the file if the SDK really exported it (at the latest by its shutdown at exit).
Each line carries the exporting process id, so a parent and a forked child can
share one file.

``run_script`` runs a test's script in a fresh interpreter after ``PREAMBLE``,
which imports this module (``tests/`` is put on ``PYTHONPATH``) and defines
``make_provider()``: an SDK provider exporting to ``SPAN_FILE`` in batches;
``last_json`` reads the report the script printed last.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult


def _hex(value: int | None, width: int) -> str | None:
    return None if value is None else format(value, f"0{width}x")


def _attributes(attributes: Any) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in (attributes or {}).items()}


def span_to_dict(span: ReadableSpan) -> dict[str, Any]:
    context = span.context
    parent = span.parent
    return {
        "pid": os.getpid(),
        "name": span.name,
        "trace_id": _hex(context.trace_id, 32),
        "span_id": _hex(context.span_id, 16),
        "parent_span_id": _hex(parent.span_id, 16) if parent is not None else None,
        "parent_is_remote": bool(parent.is_remote) if parent is not None else None,
        "attributes": _attributes(span.attributes),
        "status": {
            "code": span.status.status_code.name,
            "description": span.status.description,
        },
        "events": [
            {"name": e.name, "attributes": _attributes(e.attributes), "timestamp": e.timestamp}
            for e in span.events
        ],
        "links": [
            {
                "trace_id": _hex(link.context.trace_id, 32),
                "span_id": _hex(link.context.span_id, 16),
                "attributes": _attributes(link.attributes),
            }
            for link in span.links
        ],
        "start": span.start_time,
        "end": span.end_time,
        "resource": _attributes(span.resource.attributes) if span.resource else {},
    }


class FileSpanExporter(SpanExporter):
    """Appends one JSON line per span to ``path`` (one ``write`` per batch)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        text = "".join(json.dumps(span_to_dict(s), default=str) + "\n" for s in spans)
        with self._lock, open(self.path, "a", encoding="utf-8") as file:
            file.write(text)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def read_spans(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The spans exported to ``path`` so far (none if the file does not exist)."""
    file = Path(path)
    if not file.exists():
        return []
    return [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line]


# -- running scripts in a fresh interpreter ------------------------------------

TESTS_DIR = str(Path(__file__).resolve().parent.parent)

PREAMBLE = '''\
import json
import os
import sys
import time

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from support.span_file import FileSpanExporter

SPAN_FILE = os.environ["SPAN_FILE"]


def make_provider():
    """An SDK provider exporting to SPAN_FILE in batches (flushed by the SDK at exit)."""
    provider = TracerProvider()
    provider.add_span_processor(
        BatchSpanProcessor(FileSpanExporter(SPAN_FILE), schedule_delay_millis=50)
    )
    return provider

'''


def script_env(span_file: str | os.PathLike[str], **extra: str) -> dict[str, str]:
    """The test's environment without OTEL_*/AGENTOPS_* settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOPS_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (TESTS_DIR, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env["SPAN_FILE"] = os.fspath(span_file)
    env.update(extra)
    return env


def write_script(directory: Path, body: str, name: str = "script.py") -> Path:
    """``PREAMBLE`` (imports, SPAN_FILE, make_provider) followed by the dedented ``body``."""
    path = Path(directory) / name
    path.write_text(PREAMBLE + textwrap.dedent(body), encoding="utf-8")
    return path


def run_script(
    directory: Path,
    body: str,
    *,
    span_file: str | os.PathLike[str] | None = None,
    timeout: float = 30,
    name: str = "script.py",
    **env: str,
) -> subprocess.CompletedProcess[str]:
    """Run ``body`` in a fresh interpreter; spans go to ``span_file`` (default spans.jsonl)."""
    span_file = span_file if span_file is not None else Path(directory) / "spans.jsonl"
    script = write_script(directory, body, name)
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=directory,
        env=script_env(span_file, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def last_json(stdout: str) -> Any:
    """The last line a script printed, decoded from JSON (its report)."""
    return json.loads(stdout.strip().splitlines()[-1])


def signal_when_ready(
    directory: Path, body: str, sig: int, *, timeout: float = 30, **env: str
) -> tuple[int, str]:
    """Run ``body`` until it prints "ready", then send ``sig``.

    Returns the exit code and stderr; ``timeout`` (from the signal) only guards against a hang.
    """
    script = write_script(directory, body)
    process = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=directory,
        env=script_env(Path(directory) / "spans.jsonl", **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline().strip()
        assert line == "ready", (line, process.stderr.read() if process.poll() else "")
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, stderr
