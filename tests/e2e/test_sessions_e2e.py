"""Sessions end to end: OTLP over HTTP and gRPC into a real Phoenix, read back over its REST API.

Every way in is covered: a TracerProvider passed to ``init()`` (in process), ``init()`` making
its own pipeline (``exporter=`` or the standard ``OTEL_*`` variables, in a fresh interpreter),
``opentelemetry-instrument`` on a script with no OpenTelemetry code, and the example support-desk
agent. Each test sends to a Phoenix project of its own, so the checks stay exact on a shared
server. Only what Phoenix keeps is asserted (design.md section 4 minus resource and span kind).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.span_file import last_json, run_script

import opentelemetry_instrumentation_agentops as agentops

from .phoenix import PhoenixServer, get_sessions, project_id, wait_for_spans
from .test_phoenix_backend import _exporter, _provider

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def new_project(label: str) -> str:
    return f"e2e-{label}-{uuid.uuid4().hex[:8]}"


def poll(
    fetch: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 60.0, context: str = ""
) -> Any:
    """``fetch()`` until ``done(result)`` (ingest is asynchronous); ``context`` explains a fail."""
    deadline = time.monotonic() + timeout
    while True:
        result = fetch()
        if done(result):
            return result
        assert time.monotonic() < deadline, f"gave up waiting; last result: {result!r}\n{context}"
        time.sleep(0.2)


def session_trace(url: str, trace_id: str, n: int, project: str) -> tuple[dict, list[dict]]:
    """The trace's root and the other spans, once ``n`` spans including the root arrived."""
    spans = poll(
        lambda: wait_for_spans(url, trace_id, n, project),
        lambda found: any(s["parent_id"] is None for s in found),
    )
    (root,) = [s for s in spans if s["parent_id"] is None]
    return root, [s for s in spans if s is not root]


def assert_in_session(root: dict, children: list[dict], session_id: str) -> None:
    """The root is a session root; every other span of the trace hangs under it."""
    assert root["name"].startswith("session")
    assert root["attributes"]["session.id"] == session_id
    assert root["attributes"]["gen_ai.conversation.id"] == session_id
    span_ids = {root["context"]["span_id"]} | {c["context"]["span_id"] for c in children}
    for child in children:
        assert child["parent_id"] in span_ids, child["name"]
        assert child["attributes"]["session.id"] == session_id, child["name"]


def listed_sessions(url: str, project: str, expected: int, context: str = "") -> dict[str, dict]:
    """Phoenix's sessions of the project (grouped by ``session.id``), once ``expected`` exist."""
    sessions = poll(
        lambda: get_sessions(url, project), lambda found: len(found) >= expected, context=context
    )
    return {s["session_id"]: s for s in sessions}


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOPS_"))}
    env.update(extra)
    return env


# -- in process: a TracerProvider with an OTLP exporter, given to init() -----------------------


@pytest.mark.parametrize("kind", ["http", "grpc"])
def test_session_with_events_arrives_as_one_trace(phoenix: PhoenixServer, kind: str) -> None:
    project = new_project(f"provider-{kind}")
    provider = _provider(_exporter(kind, phoenix), project)
    agentops.init(tracer_provider=provider, auto_start_session=False)
    other = provider.get_tracer("e2e.other-instrumentation")

    @agentops.record_action("charge_card")
    def charge_card() -> None:
        raise ValueError("card declined")

    with other.start_as_current_span("http request") as outer:
        session = agentops.start_session(name="checkout", tags=["e2e", kind])
        session.record(
            agentops.LLMEvent(model="gpt-4o", prompt_tokens=10, completion_tokens=5, cost=0.01)
        )
        lookup = agentops.ToolEvent(name="lookup_cart")
        session.record(lookup)
        session.record(agentops.ActionEvent(action_type="reply"))
        session.record(agentops.ErrorEvent(trigger_event=lookup, exception=KeyError("sku-9")))
        with pytest.raises(ValueError):
            charge_card()
        chat = {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 7}
        with other.start_as_current_span("chat gpt-4o-mini", attributes=chat):
            pass  # another instrumentation's span: stamped, and counted in the totals
        session.end_session("Fail", "the card was declined")
    assert provider.force_flush(10_000)
    provider.shutdown()

    root, children = session_trace(phoenix.url, f"{session.trace_id:032x}", 7, project)
    # A root even though a span was current when it started: that span is in another trace.
    assert outer.get_span_context().trace_id != session.trace_id
    assert_in_session(root, children, session.session_id)
    assert all(c["parent_id"] == root["context"]["span_id"] for c in children)
    assert root["name"] == "session checkout"
    assert root["status_code"] == "ERROR"
    assert root["status_message"] == "the card was declined"
    assert {
        k: v for k, v in root["attributes"].items() if k.startswith(("agentops.", "gen_ai.usage"))
    } == {
        "agentops.session.name": "checkout",
        "agentops.session.tags": ["e2e", kind],
        "agentops.session.end_state": "Fail",
        "agentops.session.end_state_reason": "the card was declined",
        "agentops.session.llm_calls": 2,
        "agentops.session.tool_calls": 1,
        "agentops.session.actions": 2,
        "agentops.session.errors": 2,
        "agentops.session.cost_usd": 0.01,
        "gen_ai.usage.input_tokens": 17,
        "gen_ai.usage.output_tokens": 5,
    }
    by_name = {c["name"]: c for c in children}
    assert sorted(by_name) == [
        "action charge_card",
        "action reply",
        "chat gpt-4o",
        "chat gpt-4o-mini",
        "error KeyError",
        "execute_tool lookup_cart",
    ]
    llm = by_name["chat gpt-4o"]["attributes"]
    assert llm["gen_ai.operation.name"] == "chat"
    assert llm["gen_ai.request.model"] == "gpt-4o"
    assert (llm["gen_ai.usage.input_tokens"], llm["gen_ai.usage.output_tokens"]) == (10, 5)
    assert llm["agentops.event.type"] == "llms"
    tool = by_name["execute_tool lookup_cart"]["attributes"]
    assert (tool["gen_ai.operation.name"], tool["gen_ai.tool.name"]) == (
        "execute_tool",
        "lookup_cart",
    )
    assert by_name["action reply"]["attributes"]["agentops.action.type"] == "reply"
    for failed, error_type in (
        ("error KeyError", "KeyError"),
        ("action charge_card", "ValueError"),
    ):
        span = by_name[failed]
        assert span["status_code"] == "ERROR"
        exception = next(e for e in span["events"] if e["name"] == "exception")
        assert exception["attributes"]["exception.type"] == error_type
    assert by_name["error KeyError"]["attributes"]["error.type"] == "KeyError"

    sessions = listed_sessions(phoenix.url, project, 1)
    assert [t["trace_id"] for t in sessions[session.session_id]["traces"]] == [
        f"{session.trace_id:032x}"
    ]


# -- a fresh interpreter: init() makes its own OTLP pipeline ----------------------------------

INIT_SCRIPT = """
import opentelemetry_instrumentation_agentops as agentops

if os.environ["HOW"] == "exporter":
    if os.environ["KIND"] == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        exporter = OTLPSpanExporter(endpoint=os.environ["ENDPOINT"], insecure=True)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        exporter = OTLPSpanExporter(endpoint=os.environ["ENDPOINT"])
    session = agentops.init(exporter=exporter, tags=["init"])
else:
    session = agentops.init(tags=["init"])  # OTLP from the OTEL_* variables
agentops.record(agentops.ActionEvent(action_type="greet"))
agentops.record(agentops.LLMEvent(model="gpt-4o-mini", prompt_tokens=3, completion_tokens=4))
agentops.end_session("Success")
left = agentops.start_session(name="left running")  # ended Indeterminate and exported at exit
print(json.dumps([session.session_id, left.session_id]))
"""


@pytest.mark.parametrize(
    ("how", "kind"), [("exporter", "http"), ("exporter", "grpc"), ("env", "http"), ("env", "grpc")]
)
def test_init_exports_its_sessions_and_those_left_running_at_exit(
    phoenix: PhoenixServer, tmp_path: Path, how: str, kind: str
) -> None:
    project = new_project(f"init-{how}-{kind}")
    endpoint = phoenix.grpc_endpoint if kind == "grpc" else phoenix.otlp_http_endpoint
    env = {"HOW": how, "KIND": kind, "ENDPOINT": endpoint}
    env["OTEL_RESOURCE_ATTRIBUTES"] = f"openinference.project.name={project}"
    if how == "env":
        env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc" if kind == "grpc" else "http/protobuf"
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = (
            phoenix.grpc_endpoint if kind == "grpc" else phoenix.url
        )
    done = run_script(tmp_path, INIT_SCRIPT, timeout=60, **env)
    assert done.returncode == 0, done.stderr
    ended_id, left_id = last_json(done.stdout)

    root, children = session_trace(phoenix.url, ended_id.replace("-", ""), 3, project)
    assert_in_session(root, children, ended_id)
    assert root["attributes"]["agentops.session.end_state"] == "Success"
    assert root["attributes"]["agentops.session.tags"] == ["init"]
    assert root["status_code"] == "OK"
    assert sorted(c["name"] for c in children) == ["action greet", "chat gpt-4o-mini"]
    assert root["attributes"]["gen_ai.usage.output_tokens"] == 4

    left, _ = session_trace(phoenix.url, left_id.replace("-", ""), 1, project)
    assert left["name"] == "session left running"
    assert left["attributes"]["agentops.session.end_state"] == "Indeterminate"
    assert "exited" in left["attributes"]["agentops.session.end_state_reason"]
    assert left["status_code"] == "UNSET"
    assert set(listed_sessions(phoenix.url, project, 2)) == {ended_id, left_id}


# -- zero code: opentelemetry-instrument -----------------------------------------------------


@pytest.mark.parametrize(("kind", "mode"), [("http", "ok"), ("grpc", "ok"), ("http", "raise")])
def test_opentelemetry_instrument_exports_the_process_session(
    phoenix: PhoenixServer, kind: str, mode: str
) -> None:
    project = new_project(f"zero-code-{kind}")
    env = clean_env(
        OTEL_INSTRUMENTATION_AGENTOPS_AUTO_START_SESSION="true",
        OTEL_EXPORTER_OTLP_ENDPOINT=phoenix.grpc_endpoint if kind == "grpc" else phoenix.url,
        OTEL_EXPORTER_OTLP_PROTOCOL="grpc" if kind == "grpc" else "http/protobuf",
        OTEL_RESOURCE_ATTRIBUTES=f"openinference.project.name={project}",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
    )
    command = [
        str(BIN / "opentelemetry-instrument"),
        sys.executable,
        str(ROOT / "examples" / "zero_code_agent.py"),
        mode,
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == (1 if mode == "raise" else 0), done.stderr

    (session_id,) = listed_sessions(phoenix.url, project, 1, f"stderr:\n{done.stderr}")
    root, children = session_trace(phoenix.url, session_id.replace("-", ""), 4, project)
    assert_in_session(root, children, session_id)
    assert root["name"] == "session zero_code_agent.py"
    assert sorted(c["name"] for c in children) == [
        "action answer",
        "execute_tool lookup_order",
        "execute_tool lookup_order",  # the second one ran in a thread: still in the session
    ]
    assert root["attributes"]["agentops.session.tool_calls"] == 2
    assert root["attributes"]["agentops.session.actions"] == 1
    if mode == "raise":
        assert root["attributes"]["agentops.session.end_state"] == "Fail"
        assert root["status_code"] == "ERROR"
        assert "RuntimeError" in root["status_message"]
        assert any(e["name"] == "exception" for e in root["events"])
    else:
        assert root["attributes"]["agentops.session.end_state"] == "Success"
        assert root["status_code"] == "OK"


# -- the example agent, as the README quick start runs it ------------------------------------


def test_support_desk_example_sessions_arrive(phoenix: PhoenixServer, tmp_path: Path) -> None:
    project = new_project("support-desk")
    sessions_file = tmp_path / "sessions.json"
    env = clean_env(
        OTEL_EXPORTER_OTLP_ENDPOINT=phoenix.url,
        OTEL_RESOURCE_ATTRIBUTES=f"openinference.project.name={project}",
    )
    command = [
        sys.executable,
        str(ROOT / "examples" / "support_desk.py"),
        "--sessions-file",
        str(sessions_file),
        "--session-prefix",  # Phoenix keeps session ids across projects: this run's are its own
        f"{project}-",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    written = {s["name"]: s for s in json.loads(sessions_file.read_text())}
    assert sorted(written) == [f"support {c}" for c in ("alice", "bob", "carol", "dave")]

    for name, item in written.items():
        analytics = item["analytics"]
        # root + create_agent + one span per LLM call, tool call and action
        n = 2 + analytics["LLM calls"] + analytics["Tool calls"] + analytics["Actions"]
        root, children = session_trace(phoenix.url, item["trace_id"], n, project)
        assert_in_session(root, children, item["session_id"])
        assert root["name"] == f"session {name}"
        attributes = root["attributes"]
        assert attributes["agentops.session.llm_calls"] == analytics["LLM calls"]
        chats = [c for c in children if c["name"].startswith("chat ")]
        assert len(chats) == analytics["LLM calls"]
        assert attributes["gen_ai.usage.input_tokens"] == sum(
            c["attributes"].get("gen_ai.usage.input_tokens", 0) for c in chats
        )
        if name == "support dave":
            assert attributes["agentops.session.end_state"] == "Fail"
            assert root["status_code"] == "ERROR"
            assert [c["status_code"] for c in chats] == ["ERROR"]
        else:
            assert attributes["agentops.session.end_state"] == "Success"
            assert root["status_code"] == "OK"
    listed = listed_sessions(phoenix.url, project, 4)
    assert set(listed) == {item["session_id"] for item in written.values()}

    # The demo's last step: one Phoenix link per session trace.
    links = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "demo_links.py"),
            "--url",
            phoenix.url,
            "--project",
            project,
            str(sessions_file),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert links.returncode == 0, links.stderr
    pid = project_id(phoenix.url, project)
    for item in written.values():
        url = f"{phoenix.url}/projects/{pid}/traces/{item['trace_id']}"
        assert url in links.stdout
