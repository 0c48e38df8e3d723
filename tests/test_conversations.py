"""Conversations: many runs sharing one ``session_id``, each on its own trace (design.md 9)."""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Sampler
from support.runtime import configure
from support.span_file import read_spans, run_script

import opentelemetry_instrumentation_agentops as agentops

CHAT = "chat-123"


def root_of(spans, session):
    (root,) = [s for s in spans.of_trace(session.trace_id) if s.parent is None]
    return root


def in_run(session, name: str, attributes: dict) -> None:
    """A span of another instrumentation, made while ``session`` is current."""
    with (
        session.activate(),
        trace.get_tracer("vendor").start_as_current_span(name, attributes=attributes),
    ):
        pass


def test_runs_of_one_conversation_are_open_at_once_each_on_its_own_trace(spans):
    first = agentops.start_session(session_id=CHAT, name="turn 1")
    second = agentops.start_session(session_id=CHAT, name="turn 2")
    assert first.session_id == second.session_id == CHAT
    assert first.trace_id != second.trace_id
    assert agentops.get_active_sessions() == [first, second]

    # Other instrumentations' spans: each counted by the run whose trace it is in.
    in_run(first, "chat m", {"gen_ai.operation.name": "chat", "gen_ai.response.id": "r-1"})
    second.record(agentops.ToolEvent(name="search"))
    in_run(second, "execute_tool search", {"gen_ai.operation.name": "execute_tool"})
    first.end_session("Fail", "the user left")
    second.end_session("Success")

    one, two = root_of(spans, first), root_of(spans, second)
    for root in (one, two):
        assert root.attributes["session.id"] == CHAT
        assert root.attributes["gen_ai.conversation.id"] == CHAT
    assert one.attributes["agentops.session.end_state"] == "Fail"
    assert one.attributes["agentops.session.llm_calls"] == 1
    assert one.attributes["agentops.session.tool_calls"] == 0
    assert two.attributes["agentops.session.end_state"] == "Success"
    assert two.attributes["agentops.session.llm_calls"] == 0
    assert two.attributes["agentops.session.tool_calls"] == 2
    assert first.get_analytics()["LLM calls"] == 1
    assert second.get_analytics()["Tool calls"] == 2


def test_every_span_of_a_run_carries_the_conversation_id(spans):
    other = trace.get_tracer("another.instrumentation")
    with agentops.start_session(session_id=CHAT) as session, other.start_as_current_span("GET"):
        agentops.record(agentops.ActionEvent(action_type="reply"))
    names = {s.name: s for s in spans.of_trace(session.trace_id)}
    assert sorted(names) == ["GET", "action reply", "session"]
    assert all(s.attributes["session.id"] == CHAT for s in names.values())


def test_current_session_and_end_session_act_on_one_run(spans):
    first = agentops.start_session(session_id=CHAT)
    second = agentops.start_session(session_id=CHAT)
    assert agentops.get_current_session() is second  # started last, current here
    with first.activate():
        assert agentops.get_current_session() is first
        agentops.record(agentops.ActionEvent(action_type="in first"))
    agentops.end_session("Success")  # the current run: the second
    assert second.end_state == "Success" and first.is_running
    assert agentops.get_active_sessions() == [first]
    assert agentops.get_current_session() is first  # the only one running now
    agentops.end_session("Indeterminate")
    assert first.end_state == "Indeterminate"
    assert [s.name for s in spans.of_trace(first.trace_id) if s.parent] == ["action in first"]
    assert [s.name for s in spans.of_trace(second.trace_id) if s.parent] == []


def test_concurrent_runs_in_threads_keep_their_own_totals(spans):
    barrier = threading.Barrier(8)

    def turn(n: int):
        with agentops.start_session(session_id=CHAT, name=f"turn {n}") as session:
            barrier.wait(5)  # all eight runs are open at once
            for _ in range(n):
                agentops.record(agentops.LLMEvent(model="m", prompt_tokens=1))
        return session

    with ThreadPoolExecutor(8) as pool:
        sessions = list(pool.map(turn, range(1, 9)))
    assert len({s.trace_id for s in sessions}) == 8
    for n, session in enumerate(sessions, 1):
        root = root_of(spans, session)
        assert root.attributes["session.id"] == CHAT
        assert root.attributes["agentops.session.llm_calls"] == n
        assert root.attributes["gen_ai.usage.input_tokens"] == n
        assert len(spans.of_trace(session.trace_id)) == n + 1


def test_a_sampler_sees_the_conversation_id_at_the_start():
    seen = []

    class Recording(Sampler):
        def should_sample(self, parent_context, trace_id, name, kind=None, attributes=None, *a):
            seen.append(dict(attributes or {}))
            return ALWAYS_ON.should_sample(parent_context, trace_id, name, attributes=attributes)

        def get_description(self) -> str:
            return "Recording"

    configure(tracer_provider=TracerProvider(sampler=Recording()))
    agentops.start_session(session_id=CHAT).end_session()
    assert seen[0]["session.id"] == CHAT
    assert seen[0]["gen_ai.conversation.id"] == CHAT


def test_a_session_without_id_keeps_its_trace_uuid_and_a_continuation_its_trace(spans):
    session = agentops.start_session()
    assert session.session_id == str(uuid.UUID(int=session.trace_id))
    session.end_session()
    continued = agentops.start_session(inherited_session_id=session.session_id)
    assert (continued.trace_id, continued.session_id) == (session.trace_id, session.session_id)
    continued.end_session()


@pytest.mark.parametrize("given", ["", "   ", "x" * 257, 123, b"chat-1", ["chat"]])
def test_an_invalid_id_is_reported_and_replaced_by_a_generated_one(given, warnings_log, spans):
    session = agentops.start_session(session_id=given)
    assert session.session_id == str(uuid.UUID(int=session.trace_id))
    session.end_session()
    assert root_of(spans, session).attributes["session.id"] == session.session_id
    (message,) = [m for m in warnings_log() if "session_id" in m]
    assert "non-empty string of at most 256 characters" in message


def test_an_id_of_256_characters_is_kept():
    session = agentops.start_session(session_id="é" * 256)
    assert session.session_id == "é" * 256


def test_an_invalid_id_raises_in_strict_mode():
    configure(strict=True)
    with pytest.raises(agentops.InvalidArgumentError):
        agentops.start_session(session_id="")
    assert agentops.get_active_sessions() == []


# -- processes ----------------------------------------------------------------------------

TURNS_UNTIL_EXIT = """
trace.set_tracer_provider(make_provider())
import opentelemetry_instrumentation_agentops as agentops

for n in range(int(os.environ["RUNS"])):
    run = agentops.start_session(session_id="chat-123", name=os.environ["WHO"])
    run.record(agentops.LLMEvent(model="m", prompt_tokens=n + 1))
    if n == 0 and os.environ.get("END_FIRST"):
        run.end_session("Success")
print(json.dumps([s.trace_id for s in agentops.get_active_sessions()]))
"""


def test_runs_left_open_at_exit_are_each_ended(tmp_path):
    done = run_script(tmp_path, TURNS_UNTIL_EXIT, RUNS="3", WHO="a", END_FIRST="1")
    assert done.returncode == 0, done.stderr
    open_at_exit = json.loads(done.stdout.strip().splitlines()[-1])
    roots = [s for s in read_spans(tmp_path / "spans.jsonl") if s["parent_span_id"] is None]
    assert len(roots) == 3 and len({r["trace_id"] for r in roots}) == 3
    states = {int(r["trace_id"], 16): r["attributes"]["agentops.session.end_state"] for r in roots}
    assert sorted(states.values()) == ["Indeterminate", "Indeterminate", "Success"]
    assert all(states[t] == "Indeterminate" for t in open_at_exit)
    tokens = sorted(r["attributes"]["gen_ai.usage.input_tokens"] for r in roots)
    assert tokens == [1, 2, 3]  # each run its own totals


def test_two_processes_run_the_same_conversation_at_once(tmp_path):
    def run(who: str):
        span_file = tmp_path / f"{who}.jsonl"
        done = run_script(
            tmp_path, TURNS_UNTIL_EXIT, span_file=span_file, name=f"{who}.py", RUNS="2", WHO=who
        )
        assert done.returncode == 0, done.stderr
        return read_spans(span_file)

    with ThreadPoolExecutor(2) as pool:
        found = [s for spans in pool.map(run, ["a", "b"]) for s in spans]
    roots = [s for s in found if s["parent_span_id"] is None]
    assert sorted(r["name"] for r in roots) == ["session a"] * 2 + ["session b"] * 2
    assert len({r["trace_id"] for r in roots}) == 4
    assert {s["attributes"]["session.id"] for s in found} == {CHAT}
    assert {r["attributes"]["gen_ai.conversation.id"] for r in roots} == {CHAT}
