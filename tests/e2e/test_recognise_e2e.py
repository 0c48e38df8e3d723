"""Sessions you can recognise, in Phoenix's sessions view (read through its GraphQL API, as its
Sessions tab reads it): for each session its id, its user, its first input, its last output,
its number of traces and its token usage, compared with what the fake model served.

The token usage is the check that the session root, which carries the run's messages and the
session's token totals, is not taken for one more LLM call (Phoenix 20.26.1 reads a span with
GenAI messages and no operation name as one): the root says it is an ``AGENT``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Any

import openai
import pytest
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor

import opentelemetry_instrumentation_agentops as agentops
from examples.fake_openai import FakeOpenAIServer

from .phoenix import PhoenixServer, session_views, wait_for_spans
from .test_conversations_e2e import CONVERSATION, chat_server
from .test_phoenix_backend import _exporter, _provider
from .test_sessions_e2e import new_project, poll

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))
import support_desk as desk  # noqa: E402  (the example, as its script imports its neighbours)
from chat_server import talk  # noqa: E402

CAPTURE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


def shown_sessions(url: str, project: str, traces: dict[str, int]) -> dict[str, dict[str, Any]]:
    """The sessions view once it lists the expected sessions, each with its traces and with
    its last run's root in (a root ends last: its output is the last thing to arrive)."""

    def complete(found: dict[str, dict[str, Any]]) -> bool:
        return {k: v["numTraces"] for k, v in found.items()} == traces and all(
            v["lastOutput"] is not None for v in found.values()
        )

    return poll(lambda: session_views(url, project), complete)


def stored_trace(url: str, trace_id: str, spans: int, project: str) -> list[dict[str, Any]]:
    """Every span of the trace once all ``spans`` are stored, its root included."""
    return poll(
        lambda: wait_for_spans(url, trace_id, spans, project),
        lambda found: any(s["parent_id"] is None for s in found),
    )


def assert_conversation_id_everywhere(spans: list[dict[str, Any]], session_id: str) -> None:
    for span in spans:
        attributes = span["attributes"]
        assert attributes["session.id"] == session_id, span["name"]
        assert attributes["gen_ai.conversation.id"] == session_id, span["name"]


async def serve_each_ticket(servers: dict[int, FakeOpenAIServer], prefix: str) -> list[Any]:
    """The desk's conversations, concurrently, each against a fake model of its own: what each
    server served is what its conversation used."""
    clients = {
        number: openai.AsyncOpenAI(base_url=server.base_url, api_key="fake-key", max_retries=0)
        for number, server in servers.items()
    }
    try:
        return list(
            await asyncio.gather(*(desk.serve(clients[t.number], t, prefix) for t in desk.TICKETS))
        )
    finally:
        for client in clients.values():
            await client.close()


def test_the_support_desks_sessions_show_ticket_customer_question_answer_and_tokens(
    phoenix: PhoenixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = new_project("desk-sessions")
    prefix = f"{project}-"  # Phoenix keeps session ids across projects: this run's are its own
    monkeypatch.setenv(CAPTURE, "span_only")  # as scripts/demo.sh runs the desk
    provider = _provider(_exporter("http", phoenix), project)
    agentops.init(tracer_provider=provider, auto_start_session=False, instrument_llm_calls=False)
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        with contextlib.ExitStack() as stack:
            servers = {t.number: stack.enter_context(FakeOpenAIServer()) for t in desk.TICKETS}
            sessions = asyncio.run(serve_each_ticket(servers, prefix))
    finally:
        instrumentor.uninstrument()
    assert provider.force_flush(10_000)
    provider.shutdown()

    for session in sessions:  # every span of every conversation, stamped with its ticket
        analytics = session.get_analytics()
        spans = 2 + analytics["LLM calls"] + analytics["Tool calls"] + analytics["Actions"]
        found = stored_trace(phoenix.url, f"{session.trace_id:032x}", spans, project)
        assert_conversation_id_everywhere(found, session.session_id)
    shown = shown_sessions(phoenix.url, project, {s.session_id: 1 for s in sessions})
    for ticket in desk.TICKETS:
        served = servers[ticket.number].served
        answers = [s["content"] for s in served if s["content"] is not None]
        view = shown[f"{prefix}ticket-{ticket.number}"]
        assert view["userId"] == ticket.customer
        assert view["firstInput"] == {"value": ticket.question, "mimeType": "text"}
        assert view["lastOutput"] == {
            "value": answers[-1] if answers else desk.ESCALATED,
            "mimeType": "text",
        }
        prompt = sum(s["prompt_tokens"] for s in served)
        completion = sum(s["completion_tokens"] for s in served)
        assert view["tokenUsage"] == {
            "prompt": prompt,
            "completion": completion,
            "total": prompt + completion,
        }
    assert shown[f"{prefix}ticket-1045"]["tokenUsage"]["total"] == 0  # dave's model was down


def test_a_chat_served_turn_by_turn_shows_its_user_first_message_last_reply_and_tokens(
    phoenix: PhoenixServer,
) -> None:
    project = new_project("chat-sessions")
    conversation, user = f"{project}-chat", f"{project}-user"
    with chat_server(phoenix, project, **{CAPTURE: "span_only"}) as url:
        turns = [talk(url, conversation, message, user_id=user) for message in CONVERSATION]
        shown = shown_sessions(phoenix.url, project, {conversation: len(CONVERSATION)})
        for turn in turns:
            tool_calls = "A-1001" in turn["reply"]
            found = stored_trace(phoenix.url, turn["trace_id"], 2 + tool_calls, project)
            assert_conversation_id_everywhere(found, conversation)

    view = shown[conversation]
    assert view["userId"] == user
    assert view["firstInput"] == {"value": CONVERSATION[0], "mimeType": "text"}
    assert view["lastOutput"] == {"value": turns[-1]["reply"], "mimeType": "text"}
    prompt = sum(t["usage"]["input_tokens"] for t in turns)
    completion = sum(t["usage"]["output_tokens"] for t in turns)
    assert view["tokenUsage"] == {
        "prompt": prompt,
        "completion": completion,
        "total": prompt + completion,
    }


def test_with_content_capture_off_the_view_shows_the_user_and_no_content(
    phoenix: PhoenixServer,
) -> None:
    project = new_project("chat-no-content")
    conversation, user = f"{project}-chat", f"{project}-user"
    with chat_server(phoenix, project) as url:
        turn = talk(url, conversation, CONVERSATION[1], user_id=user)
        found = stored_trace(phoenix.url, turn["trace_id"], 3, project)
        views = poll(lambda: session_views(phoenix.url, project), lambda v: conversation in v)
    view = views[conversation]
    assert (view["userId"], view["firstInput"], view["lastOutput"]) == (user, None, None)
    assert view["tokenUsage"]["total"] == sum(turn["usage"].values())
    assert not any(
        key.startswith(
            (
                "input.",
                "output.",
                "gen_ai.input.",
                "gen_ai.output.",
                "llm.input_messages",
                "llm.output_messages",
            )
        )
        for span in found
        for key in span["attributes"]
    )
