"""Agent programs in a fresh interpreter, for the fault tests.

Scripts start with ``support.span_file.PREAMBLE`` (``SPAN_FILE``, ``make_provider()``,
``FileSpanExporter``) and ``HELPERS`` below; a span counts as exported only if it reached
the JSON-lines span file. The faults (a collector port that refuses connections, one that
accepts them and never answers) come from ``support.network``; lookups in the exported spans
from ``support.spans``.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from support.span_file import last_json, read_spans, run_script, signal_when_ready
from support.spans import session_roots

from .checks import LEDGER, SUBPROCESS_PEAK_KB

HELPERS = '''\
import opentelemetry_instrumentation_agentops as agentops


def peak_rss_kb():
    """The process's peak resident memory (ru_maxrss would include its parent's before exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def report(**figures):
    figures["peak_rss_kb"] = peak_rss_kb()
    print(json.dumps(figures), flush=True)

'''


def figures(stdout: str, name: str) -> dict[str, Any]:
    """The JSON line the script printed last (its ``report(...)``)."""
    result = last_json(stdout)
    SUBPROCESS_PEAK_KB[name] = result.get("peak_rss_kb", 0)
    return result


def run_agent(tmp_path: Path, body: str, timeout: float = 60, **env: str):
    """Run HELPERS + ``body``; returns (completed process, exported spans)."""
    LEDGER["agent processes run"] += 1
    result = run_script(tmp_path, HELPERS + body, timeout=timeout, **env)
    return result, read_spans(tmp_path / "spans.jsonl")


def run_until_signal(
    tmp_path: Path, body: str, sig: int = signal.SIGTERM, timeout: float = 30, **env: str
) -> tuple[int, str, list[dict]]:
    """Start the agent, wait for its "ready" line, send ``sig``.

    Returns the exit code, stderr and the spans (``timeout``: a guard against a hang).
    """
    LEDGER["agent processes run"] += 1
    returncode, stderr = signal_when_ready(tmp_path, HELPERS + body, sig, timeout=timeout, **env)
    return returncode, stderr, read_spans(tmp_path / "spans.jsonl")


def count(spans: list[dict]) -> None:
    """Add the exported spans and sessions a test checked to the figures."""
    LEDGER["spans checked"] += len(spans)
    LEDGER["sessions checked"] += sum(len(r) for r in session_roots(spans).values())
