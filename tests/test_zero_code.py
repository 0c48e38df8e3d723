"""``opentelemetry-instrument`` on a script with no OpenTelemetry code, in real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "examples" / "zero_code_agent.py"
BIN = Path(sys.executable).parent


def run_instrumented(*args: str, **env: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
    full_env = {
        **os.environ,
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        **env,
    }
    command = [str(BIN / "opentelemetry-instrument"), sys.executable, str(SCRIPT), *args]
    done = subprocess.run(command, env=full_env, capture_output=True, text=True, timeout=120)
    return done, parse_console_spans(done.stdout)


def parse_console_spans(text: str) -> list[dict]:
    """The ConsoleSpanExporter prints one JSON object per span, one after another."""
    decoder, spans, index = json.JSONDecoder(), [], 0
    while True:
        start = text.find("{", index)
        if start < 0:
            return spans
        span, index = decoder.raw_decode(text, start)
        spans.append(span)


def session_root(spans: list[dict]) -> dict:
    (root,) = [s for s in spans if s["name"].startswith("session")]
    return root


def test_instrumented_script_gets_sessions_for_its_spans():
    done, spans = run_instrumented(OTEL_INSTRUMENTATION_AGENTOPS_AUTO_START_SESSION="true")
    assert done.returncode == 0, done.stderr
    root = session_root(spans)
    assert root["name"] == "session zero_code_agent.py"
    assert root["parent_id"] is None
    assert root["attributes"]["agentops.session.end_state"] == "Success"
    assert root["attributes"]["agentops.session.actions"] == 1
    assert root["attributes"]["agentops.session.tool_calls"] == 2
    session_id = root["attributes"]["session.id"]
    others = [s for s in spans if s is not root]
    assert len(others) == 3
    assert all(s["context"]["trace_id"] == root["context"]["trace_id"] for s in others)
    assert all(s["attributes"]["session.id"] == session_id for s in others)


@pytest.mark.parametrize(
    ("mode", "code", "reason"), [("raise", 1, "RuntimeError"), ("exit2", 2, "status 2")]
)
def test_auto_session_fails_with_the_process(mode, code, reason):
    done, spans = run_instrumented(mode, OTEL_INSTRUMENTATION_AGENTOPS_AUTO_START_SESSION="true")
    assert done.returncode == code
    root = session_root(spans)
    assert root["attributes"]["agentops.session.end_state"] == "Fail"
    assert reason in root["attributes"]["agentops.session.end_state_reason"]
    assert root["status"]["status_code"] == "ERROR"


def test_without_auto_start_decorated_calls_are_still_traced():
    done, spans = run_instrumented()
    assert done.returncode == 0, done.stderr
    assert not [s for s in spans if s["name"].startswith("session")]
    assert {s["name"] for s in spans} == {"action answer", "execute_tool lookup_order"}


def test_disabled_instrumentation_produces_no_sessions():
    done, spans = run_instrumented(
        OTEL_INSTRUMENTATION_AGENTOPS_AUTO_START_SESSION="true",
        OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="agentops",
    )
    assert done.returncode == 0, done.stderr
    assert spans == []
