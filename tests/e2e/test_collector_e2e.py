"""A real collector in between: the application, then rotel, then Phoenix.

The same program runs three times, each into a Phoenix project of its own: exporting straight
to Phoenix, and through rotel (``support/rotel.py``) taking OTLP/HTTP or OTLP/gRPC. What
Phoenix stores must be the same every time: span for span, their parents, status, events and
attributes (session ids, end states and totals included), and the same sessions in its
sessions view. Only the ids the program draws at random (agent and event ids) may differ.
``test_conversations_e2e.py`` kills a live session's process with SIGKILL along the same
routes: its snapshots arrive through the collector too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.span_file import run_script

from .phoenix import PhoenixServer, project_spans
from .routes import DIRECT, ROUTES, THROUGH_ROTEL, otlp_route
from .test_sessions_e2e import listed_sessions, new_project, poll

pytestmark = pytest.mark.e2e

PROGRAM = """
import opentelemetry_instrumentation_agentops as agentops

agentops.init(auto_start_session=False)  # exports OTLP as the OTEL_* variables say
RUN = os.environ["RUN"]  # session ids are unique across a Phoenix server's projects


@agentops.record_tool("lookup_order")
def lookup_order(order):
    return {"order": order, "status": "shipped"}


@agentops.record_action("charge_card")
def charge_card():
    raise ValueError("card declined")


@agentops.track_agent("desk")
def desk():
    lookup_order(42)
    agentops.record(
        agentops.LLMEvent(model="gpt-4o", prompt_tokens=10, completion_tokens=5, cost=0.01)
    )


checkout = agentops.start_session(name="checkout", session_id=f"checkout-{RUN}", tags=["e2e"])
desk()
agentops.record(agentops.ActionEvent(action_type="reply"))
try:
    charge_card()
except ValueError:
    pass
agentops.end_session("Fail", "the card was declined")

with agentops.start_session(name="refund", session_id=f"refund-{RUN}", attributes={"customer": 7}):
    lookup_order(43)
    agentops.record(agentops.LLMEvent(model="gpt-4o-mini", prompt_tokens=3, completion_tokens=4))

agentops.start_session(name="left running", session_id=f"left-{RUN}")  # ended at exit
"""
# checkout: root, invoke_agent desk, execute_tool, chat, action reply, action charge_card;
# refund: root, execute_tool, chat; left running: its root, exported at exit.
SPANS = 10
RANDOM = ("gen_ai.agent.id", "agentops.event.id")  # drawn afresh by every run
SESSION_IDS = ("session.id", "gen_ai.conversation.id")  # "checkout-<run>", ...


def shape(spans: list[dict[str, Any]], run: str) -> list[tuple[str, ...]]:
    """What Phoenix stored, without the ids and times that differ from run to run."""
    names = {s["context"]["span_id"]: s["name"] for s in spans}

    def value(key: str, found: Any) -> Any:
        if key in RANDOM:
            return "<random>"
        return found.replace(run, "<run>") if key in SESSION_IDS else found

    def one(span: dict[str, Any]) -> tuple[str, ...]:
        attributes = {k: value(k, v) for k, v in span["attributes"].items()}
        events = [
            (e["name"], {k: v for k, v in e["attributes"].items() if k != "exception.stacktrace"})
            for e in span["events"]
        ]
        return (
            span["name"],
            names.get(span["parent_id"], "<root>") if span["parent_id"] else "<root>",
            span["status_code"],
            span["status_message"],
            json.dumps(attributes, sort_keys=True),
            json.dumps(events, sort_keys=True),
        )

    return sorted(one(s) for s in spans)


def run_along(phoenix: PhoenixServer, route: str, where: Path) -> tuple[list, dict]:
    """Run PROGRAM with its spans going along ``route``; what Phoenix stored of it."""
    project = new_project(run_of(route))
    with otlp_route(phoenix, route) as otlp:
        done = run_script(
            where,
            PROGRAM,
            timeout=60,
            RUN=run_of(route),
            OTEL_RESOURCE_ATTRIBUTES=f"openinference.project.name={project}",
            OTEL_METRICS_EXPORTER="none",  # Phoenix takes none, nor does rotel pass any on here
            OTEL_INSTRUMENTATION_AGENTOPS_LIVE_INTERVAL="0",  # snapshots: the SIGKILL test
            **otlp,
        )
        assert done.returncode == 0, done.stderr
        spans = poll(
            lambda: project_spans(phoenix.url, project),
            lambda found: len(found) >= SPANS,
            context=f"{route}: stderr:\n{done.stderr}",
        )
        sessions = listed_sessions(phoenix.url, project, 3)
    return spans, sessions


def run_of(route: str) -> str:
    return route.replace(" ", "-").lower()


def test_sessions_arrive_through_rotel_as_they_do_directly(
    phoenix: PhoenixServer, tmp_path: Path
) -> None:
    stored = {route: run_along(phoenix, route, tmp_path) for route in ROUTES}

    direct_spans, direct_sessions = stored[DIRECT]
    assert len(direct_spans) == SPANS
    roots = {s["name"]: s for s in direct_spans if s["parent_id"] is None}
    checkout = roots["session checkout"]["attributes"]
    assert checkout["agentops.session.end_state"] == "Fail"
    assert (checkout["agentops.session.llm_calls"], checkout["agentops.session.tool_calls"]) == (
        1,
        1,
    )
    assert checkout["gen_ai.usage.input_tokens"] == 10
    assert roots["session refund"]["attributes"]["agentops.session.end_state"] == "Success"
    assert roots["session left running"]["attributes"]["agentops.session.end_state"] == (
        "Indeterminate"
    )
    run = run_of(DIRECT)
    assert set(direct_sessions) == {f"checkout-{run}", f"refund-{run}", f"left-{run}"}

    for route in THROUGH_ROTEL:
        spans, sessions = stored[route]
        assert shape(spans, run_of(route)) == shape(direct_spans, run), route
        assert viewed(sessions, run_of(route)) == viewed(direct_sessions, run), route


def viewed(sessions: dict[str, dict], run: str) -> dict[str, tuple[int, ...]]:
    """Phoenix's sessions view: traces per session, and the sums of its LLM calls' tokens."""
    return {
        sid.replace(run, "<run>"): (
            len(s["traces"]),
            s["token_count_prompt"],
            s["token_count_completion"],
        )
        for sid, s in sessions.items()
    }
