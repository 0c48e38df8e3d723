"""The examples run and produce the sessions they promise (no backend: in-memory and files)."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from compat.kernel import SETUP_PIPELINE, kernel
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor
from support.span_file import read_spans

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CUSTOMERS = ["alice", "bob", "carol", "dave"]


@pytest.fixture(scope="module")
def desk():
    """The support desk example, imported as its script would see its directory."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        return importlib.import_module("support_desk")
    finally:
        sys.path.remove(str(EXAMPLES))


@pytest.fixture
def openai_instrumented():
    OpenAIInstrumentor().instrument()
    yield
    OpenAIInstrumentor().uninstrument()


def test_support_desk_serves_each_customer_in_its_own_session(desk, openai_instrumented, spans):
    with desk.FakeOpenAIServer() as server:
        sessions = asyncio.run(desk.run_desk(server.base_url))

    assert [s.name for s in sessions] == [f"support {c}" for c in CUSTOMERS]
    assert len({s.trace_id for s in sessions}) == 4
    roots = {r.name: r for r in spans.roots()}
    assert sorted(roots) == sorted(f"session {s.name}" for s in sessions)
    # Served concurrently: every conversation started before any ended.
    assert max(r.start_time for r in roots.values()) < min(r.end_time for r in roots.values())

    for session in sessions:
        root = roots[f"session {session.name}"]
        trace_spans = spans.of_trace(session.trace_id)
        names = sorted(s.name for s in trace_spans if s is not root)
        # Every span of the conversation is in its trace, under its root, stamped with its id.
        for span in trace_spans:
            assert span.attributes["session.id"] == session.session_id
            assert span is root or span.parent is not None
        chats = [s for s in trace_spans if s.name.startswith("chat ")]
        attributes = root.attributes
        assert attributes["agentops.session.llm_calls"] == len(chats)
        assert attributes["agentops.session.tool_calls"] == len(
            [n for n in names if n.startswith("execute_tool ")]
        )
        assert attributes["agentops.session.actions"] == len(
            [n for n in names if n.startswith("action ")]
        )
        assert attributes["gen_ai.usage.input_tokens"] == sum(
            s.attributes.get("gen_ai.usage.input_tokens", 0) for s in chats
        )
        assert "create_agent support-agent" in names
        if session.name == "support dave":
            assert session.end_state == "Fail"
            assert root.status.status_code.name == "ERROR"
            assert "escalated" in attributes["agentops.session.end_state_reason"]
            assert names == [
                "action escalate_to_human",
                "chat fail-model",
                "create_agent support-agent",
            ]
            assert attributes["agentops.session.errors"] == 1
        else:
            assert session.end_state == "Success"
            assert root.status.status_code.name == "OK"
            assert len(chats) == 2  # a tool call, then the answer
            assert attributes["agentops.session.tool_calls"] == 1
            assert attributes["agentops.session.errors"] == 0
            assert "action send_reply" in names
    bob = spans.of_trace(sessions[1].trace_id)
    assert {s.name for s in bob} >= {"execute_tool lookup_order", "action issue_refund"}


def test_support_desk_script_prints_one_summary_per_session(tmp_path):
    sessions_file = tmp_path / "sessions.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOPS_"))}
    env["OTEL_TRACES_EXPORTER"] = "none"
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "support_desk.py"), "--sessions-file", str(sessions_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "4 conversations served: 3 Success, 1 Fail"
    lines = [line for line in done.stderr.splitlines() if line.startswith("Session ")]
    ended = dict(re.findall(r"^Session support (\w+) ended (\w+) ", "\n".join(lines), re.M))
    assert ended == {"alice": "Success", "bob": "Success", "carol": "Success", "dave": "Fail"}
    assert all("| trace_id=" in line for line in lines)
    written = json.loads(sessions_file.read_text())
    assert [s["name"] for s in written] == [f"support {c}" for c in CUSTOMERS]
    for item in written:
        assert f"trace_id={item['trace_id']}" in done.stderr
        assert item["session_id"].replace("-", "") == item["trace_id"]


def notebook_cells() -> list[str]:
    notebook = json.loads((EXAMPLES / "notebook.ipynb").read_text())
    assert (notebook["nbformat"], notebook["nbformat_minor"]) >= (4, 5)
    cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in cells)
    return ["".join(c["source"]) for c in cells]


def test_notebook_runs_in_a_kernel_and_a_rerun_starts_a_fresh_session(tmp_path):
    cells = notebook_cells()
    span_file = tmp_path / "spans.jsonl"
    with kernel(tmp_path, span_file) as notebook:
        notebook.run(SETUP_PIPELINE)
        # Run the notebook top to bottom, then its cells again, without restarting the kernel.
        outputs = [notebook.run(cell) for _ in range(2) for cell in cells]
        ids = notebook.run("print(session.session_id)")
    logged = "".join(outputs)
    assert logged.count(" ended Success ") == 2, logged
    roots = [s for s in read_spans(span_file) if s["parent_span_id"] is None]
    assert len(roots) == 2
    assert roots[-1]["attributes"]["session.id"] == ids.strip()
    for root in roots:
        attributes = root["attributes"]
        assert attributes["agentops.session.end_state"] == "Success"
        assert attributes["agentops.session.tags"] == ["notebook"]
        assert attributes["agentops.session.llm_calls"] == 1
        assert attributes["agentops.session.tool_calls"] == 1
        assert attributes["agentops.session.actions"] == 1
        assert attributes["gen_ai.usage.input_tokens"] == 42
