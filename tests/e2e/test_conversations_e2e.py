"""Sessions in time, in a real Phoenix: a conversation of many runs, and a live session killed.

- The example chat server serves a conversation turn by turn, one run per request: Phoenix's
  sessions view shows one session for it, with one trace per turn.
- A process killed with SIGKILL mid-session never exports its root, but its snapshot spans
  arrived while it ran: Phoenix shows the session and its totals so far, whether they went
  straight to Phoenix or through a real collector (rotel, over HTTP or gRPC: ``routes.py``).
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.span_file import write_script

from .phoenix import PhoenixServer, get_sessions, wait_for_spans
from .routes import ROUTES, otlp_route
from .test_sessions_e2e import clean_env, new_project, poll

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))
from chat_server import talk  # noqa: E402  (the example's own client)

LIVE = "agentops.session.live"
CONVERSATION = [
    "Hello, I have a question.",
    "Where is my order?",
    "I would rather have a refund.",
    "Thanks, bye!",
]


def exporting_env(phoenix: PhoenixServer, project: str, **extra: str) -> dict[str, str]:
    """OTLP/HTTP to Phoenix, into ``project``, exported within 50 ms of a span's end;
    ``extra`` adds or overrides variables (another OTLP endpoint: ``routes.otlp_route``)."""
    env = clean_env(
        OTEL_EXPORTER_OTLP_ENDPOINT=phoenix.url,
        OTEL_RESOURCE_ATTRIBUTES=f"openinference.project.name={project}",
        OTEL_BSP_SCHEDULE_DELAY="50",
        OTEL_METRICS_EXPORTER="none",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def project_sessions(url: str, project: str) -> list[dict]:
    """The project's sessions; none while the project does not exist yet (404)."""
    try:
        return get_sessions(url, project)
    except urllib.error.HTTPError as exc:
        if exc.code != 404:
            raise
        return []


def sessions_by_id(url: str, project: str, traces: dict[str, int]) -> dict[str, dict]:
    """Phoenix's sessions of the project once each has the expected number of traces."""

    def complete(found: list[dict]) -> bool:
        counts = {s["session_id"]: len(s["traces"]) for s in found}
        return counts == traces

    found = poll(lambda: project_sessions(url, project), complete)
    return {s["session_id"]: s for s in found}


@contextlib.contextmanager
def chat_server(phoenix: PhoenixServer, project: str, **env: str) -> Iterator[str]:
    """The example chat server exporting to ``project``, until the block ends: its URL."""
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "chat_server.py"), "--port", "0"],
        env=exporting_env(phoenix, project, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = server.stdout.readline().split()
        assert started[:3] == ["chat", "server", "on"], (started, server.stderr.read())
        yield started[3]
    finally:
        server.terminate()
        server.wait(30)


def test_a_conversation_served_turn_by_turn_is_one_session_with_a_trace_per_turn(
    phoenix: PhoenixServer,
) -> None:
    project = new_project("chat")
    # Phoenix keeps session ids across projects: this run's are its own.
    conversation, another = f"{project}-conversation", f"{project}-another"
    with chat_server(phoenix, project) as url:
        turns = [talk(url, conversation, message) for message in CONVERSATION]
        other = talk(url, another, "Hi")
        sessions = sessions_by_id(
            phoenix.url, project, {conversation: len(CONVERSATION), another: 1}
        )
        roots = {
            turn["trace_id"]: next(
                s
                for s in wait_for_spans(phoenix.url, turn["trace_id"], 2, project)
                if s["parent_id"] is None
            )
            for turn in turns
        }

    chat = sessions[conversation]
    assert sorted(t["trace_id"] for t in chat["traces"]) == sorted(t["trace_id"] for t in turns)
    assert [t["trace_id"] for t in sessions[another]["traces"]] == [other["trace_id"]]
    for root in roots.values():  # each turn a run of its own: its own end state and totals
        assert root["name"] == "session chat turn"
        assert root["attributes"]["session.id"] == conversation
        assert root["attributes"]["gen_ai.conversation.id"] == conversation
        assert root["attributes"]["agentops.session.end_state"] == "Success"
        assert root["attributes"]["agentops.session.llm_calls"] == 1
    order_turn = roots[turns[1]["trace_id"]]
    assert order_turn["attributes"]["agentops.session.tool_calls"] == 1
    output_tokens = sum(r["attributes"]["gen_ai.usage.output_tokens"] for r in roots.values())
    assert chat["token_count_completion"] == output_tokens  # Phoenix sums the turns' LLM calls


LONG_RUN = """
import signal

import opentelemetry_instrumentation_agentops as agentops

agentops.init(auto_start_session=False)
session = agentops.start_session(
    session_id=os.environ["SESSION_ID"], name="nightly import", tags=["batch"],
    attributes={"rows": 5000},
)
print(json.dumps({"trace_id": f"{session.trace_id:032x}"}), flush=True)
session.record(agentops.LLMEvent(model="m", prompt_tokens=100, completion_tokens=10))
session.record(agentops.ToolEvent(name="load_rows"))
time.sleep(0.75)  # the first snapshot (at 0.5 s) has 1 LLM call
session.record(agentops.LLMEvent(model="m", prompt_tokens=50, completion_tokens=5))
time.sleep(1.0)  # the second (at 1.5 s) has 2; the next would be at 3.5 s
print("ready", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("route", ROUTES)
def test_a_session_killed_with_sigkill_leaves_its_last_snapshot(
    phoenix: PhoenixServer, tmp_path: Path, route: str
) -> None:
    project = new_project("killed")
    session_id = f"killed-job-{project}"  # unique on the server: Phoenix keys sessions by it
    script = write_script(tmp_path, LONG_RUN)
    with otlp_route(phoenix, route) as otlp:  # the collector, if any, outlives the process
        env = exporting_env(
            phoenix, project, OTEL_INSTRUMENTATION_AGENTOPS_LIVE_INTERVAL="0.5", **otlp
        )
        env.update(PYTHONPATH=str(ROOT / "tests"), SPAN_FILE=str(tmp_path / "unused.jsonl"))
        env["SESSION_ID"] = session_id
        process = subprocess.Popen(
            [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True
        )
        try:
            trace_id = json.loads(process.stdout.readline())["trace_id"]
            assert process.stdout.readline().strip() == "ready"
            time.sleep(0.5)  # ten export periods: the second snapshot has left the process
            process.send_signal(signal.SIGKILL)
            assert process.wait(10) == -signal.SIGKILL
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

        spans = poll(
            lambda: wait_for_spans(phoenix.url, trace_id, 5, project),
            lambda found: len([s for s in found if s["attributes"].get(LIVE)]) >= 2,
        )
    assert all(s["parent_id"] is not None for s in spans)  # the root never left the process
    snapshots = sorted(
        (s for s in spans if s["attributes"].get(LIVE)),
        key=lambda s: s["start_time"],
    )
    assert len(snapshots) == 2
    last = snapshots[-1]
    assert last["name"] == "session nightly import"
    assert last["start_time"] == last["end_time"]
    assert last["span_kind"] == "AGENT"  # the root's kind: its totals are no LLM call's
    ours = {k: v for k, v in last["attributes"].items() if not k.startswith("llm.token_count.")}
    assert ours.pop(LIVE) is True
    assert ours == {
        "session.id": session_id,
        "gen_ai.conversation.id": session_id,
        "agentops.session.name": "nightly import",
        "agentops.session.tags": ["batch"],
        "rows": 5000,
        "agentops.session.llm_calls": 2,
        "agentops.session.tool_calls": 1,
        "agentops.session.actions": 0,
        "agentops.session.errors": 0,
        "gen_ai.usage.input_tokens": 150,
        "gen_ai.usage.output_tokens": 15,
    }
    assert snapshots[0]["attributes"]["agentops.session.llm_calls"] == 1
    assert {s["parent_id"] for s in snapshots} == {
        c["parent_id"] for c in spans if c["name"] == "chat m"
    }  # the snapshots hang under the (lost) root, as the events do
    # The session is in Phoenix's sessions view, though its root never arrived.
    (session,) = poll(lambda: project_sessions(phoenix.url, project), lambda found: len(found) == 1)
    assert session["session_id"] == session_id
    assert [t["trace_id"] for t in session["traces"]] == [trace_id]
    # Phoenix sums the LLM calls' tokens only: the snapshots repeat totals, never add to them.
    assert (session["token_count_prompt"], session["token_count_completion"]) == (150, 15)
