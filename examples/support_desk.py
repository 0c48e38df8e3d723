"""A support desk agent serving several customers at once: one session per conversation.

Offline and deterministic. The real ``openai`` client talks to the local fake OpenAI-compatible
server (``fake_openai.py``, started here), traced by the OpenAI instrumentation
(``opentelemetry-instrumentation-genai-openai``), which ``init()`` turns on. The desk's tools
and actions are recorded with this package's decorators. Four customers are served
concurrently with asyncio, each conversation in its own session (its own trace), named after
its ticket (``session.id`` = ``ticket-1042``) and its customer (``user.id`` = ``alice``):

* alice asks where her order is: the model calls the ``lookup_order`` tool, then answers;
* bob wants a refund: ``lookup_order``, then the ``issue_refund`` action;
* carol is locked out: ``check_account``, then the ``send_reset_link`` action;
* dave's billing question goes to a model that is down (HTTP 500): the desk escalates it to a
  human and the session ends **Fail**.

With content capture on (``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=span_only``, which
the OpenAI instrumentation reads too), each session's root carries the customer's question
and the desk's last answer, read from the conversation's first and last model calls; dave's
escalation is the desk's own answer (``session.set_output()``). Phoenix's sessions view then
shows, for each ticket, its customer, its first input and its last output.

Each ended session logs one summary line. Spans go where the standard ``OTEL_*`` variables say
(``init()`` sets up OTLP/HTTP to localhost:4318 when no TracerProvider is configured). Phoenix
takes traces but no metrics: turn the metrics off, or their exporter logs a 405 failure::

    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:6006 OTEL_METRICS_EXPORTER=none \
        python examples/support_desk.py                                 # Phoenix
    OTEL_TRACES_EXPORTER=none python examples/support_desk.py          # the summary lines only

``--sessions-file PATH`` writes the sessions (name, ids, user, end state, analytics) as JSON;
``--session-prefix P`` puts ``P`` before each ticket's session id (backends such as Phoenix keep
session ids across projects: tests give each run ids of its own).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
from fake_openai import FAIL_MODEL, FakeOpenAIServer
from opentelemetry import trace

import opentelemetry_instrumentation_agentops as agentops

LOGGER_NAME = "opentelemetry_instrumentation_agentops"
SYSTEM_PROMPT = "You are the support desk of an online shop. Answer briefly and kindly."
DEFAULT_MODEL = "gpt-4o-mini"
# The billing model is down today: the fake server answers it with HTTP 500.
MODEL_BY_TOPIC = {"billing": FAIL_MODEL}
TOOL_BY_TOPIC = {
    "order": "lookup_order",
    "refund": "lookup_order",
    "login": "check_account",
    "billing": "check_account",
}
WORK_SECONDS = 0.05  # simulated back-office latency, so the conversations interleave

# The shop's back office, as the tools see it.
ORDERS = {
    "alice": {"order": "A-1001", "status": "shipped", "carrier": "DHL"},
    "bob": {"order": "B-2002", "status": "delivered", "item": "USB-C charger"},
}
ACCOUNTS = {
    "carol": {"email": "carol@example.com", "locked": True},
    "dave": {"email": "dave@example.com", "plan": "pro", "locked": False},
}


@dataclass(frozen=True)
class Ticket:
    number: int
    customer: str
    topic: str
    question: str

    @property
    def model(self) -> str:
        return MODEL_BY_TOPIC.get(self.topic, DEFAULT_MODEL)


TICKETS = (
    Ticket(1042, "alice", "order", "Where is my order? It still has not arrived."),
    Ticket(1043, "bob", "refund", "The charger I got is broken and I want my money back."),
    Ticket(1044, "carol", "login", "I cannot log in, my account is locked."),
    Ticket(1045, "dave", "billing", "Please cancel my subscription at the end of the month."),
)


def tool_schema(name: str, customer: str) -> dict[str, Any]:
    """An OpenAI tool definition; the enum pins the argument to this conversation's customer."""
    customer_id = {"type": "string", "enum": [customer]}
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": f"{name.replace('_', ' ')} of a customer",
            "parameters": {
                "type": "object",
                "properties": {"customer_id": customer_id},
                "required": ["customer_id"],
            },
        },
    }


@agentops.track_agent("support-agent")
class SupportAgent:
    """One agent per conversation; its tool and action spans carry its agent id and name."""

    def __init__(self, client: openai.AsyncOpenAI, ticket: Ticket) -> None:
        self.client = client
        self.ticket = ticket
        self.messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": ticket.question},
        ]

    async def answer(self) -> str:
        """Ask the model, run the tools it calls, and return its final answer."""
        message = await self._chat()
        while message.tool_calls:
            self.messages.append(message.model_dump(exclude_none=True))
            for call in message.tool_calls:
                result = self.use_tool(call.function.name, json.loads(call.function.arguments))
                self.messages.append(
                    {"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)}
                )
            message = await self._chat()
        return message.content or ""

    async def _chat(self) -> Any:
        tool = tool_schema(TOOL_BY_TOPIC[self.ticket.topic], self.ticket.customer)
        reply = await self.client.chat.completions.create(
            model=self.ticket.model, messages=self.messages, tools=[tool]
        )
        return reply.choices[0].message

    def use_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        tools = {"lookup_order": self.lookup_order, "check_account": self.check_account}
        return tools[name](**arguments)

    @agentops.record_tool("lookup_order")
    def lookup_order(self, customer_id: str) -> dict[str, Any]:
        return ORDERS.get(customer_id, {"status": "no order found"})

    @agentops.record_tool("check_account")
    def check_account(self, customer_id: str) -> dict[str, Any]:
        return ACCOUNTS.get(customer_id, {"status": "no account found"})

    async def follow_up(self) -> None:
        """What the desk does besides answering, by topic."""
        if self.ticket.topic == "refund":
            await self.issue_refund(ORDERS[self.ticket.customer]["order"])
        elif self.ticket.topic == "login":
            await self.send_reset_link(ACCOUNTS[self.ticket.customer]["email"])

    @agentops.record_action("issue_refund")
    async def issue_refund(self, order: str) -> str:
        await asyncio.sleep(WORK_SECONDS)
        return f"refund for {order} issued"

    @agentops.record_action("send_reset_link")
    async def send_reset_link(self, email: str) -> str:
        await asyncio.sleep(WORK_SECONDS)
        return f"reset link sent to {email}"

    @agentops.record_action("send_reply")
    async def send_reply(self, text: str) -> None:
        await asyncio.sleep(WORK_SECONDS)

    @agentops.record_action("escalate_to_human")
    async def escalate(self, reason: str) -> None:
        await asyncio.sleep(WORK_SECONDS)


ESCALATED = "I have passed your request to a colleague, who will answer you by email today."


async def serve(client: openai.AsyncOpenAI, ticket: Ticket, prefix: str = "") -> agentops.Session:
    """One conversation, one session: Success when answered, Fail when escalated."""
    # Each asyncio task has its own OTel context, so concurrent sessions never mix.
    with agentops.start_session(
        name=f"support {ticket.customer}",
        tags=[ticket.topic],
        session_id=f"{prefix}ticket-{ticket.number}",
        user_id=ticket.customer,
    ) as session:
        agent = SupportAgent(client, ticket)
        try:
            answer = await agent.answer()
        except openai.APIError as exc:
            reason = f"the model failed ({type(exc).__name__}); escalated to a human"
            await agent.escalate(reason)
            session.set_output(ESCALATED)  # what the customer was told (content capture on)
            session.end_session("Fail", reason)
            return session
        await agent.follow_up()
        await agent.send_reply(answer)
    return session


async def run_desk(
    base_url: str, tickets: Iterable[Ticket] = TICKETS, session_prefix: str = ""
) -> list[agentops.Session]:
    """Serve every ticket concurrently against the OpenAI-compatible API at ``base_url``."""
    client = openai.AsyncOpenAI(base_url=base_url, api_key="fake-key", max_retries=0)
    try:
        return list(await asyncio.gather(*(serve(client, t, session_prefix) for t in tickets)))
    finally:
        await client.close()


def describe(session: agentops.Session) -> dict[str, Any]:
    return {
        "name": session.name,
        "session_id": session.session_id,
        "user_id": session.user_id,
        "trace_id": format(session.trace_id, "032x"),
        "end_state": session.end_state,
        "end_state_reason": session.end_state_reason,
        "analytics": session.get_analytics(),
    }


def setup_telemetry() -> None:
    """Sessions and OpenAI spans on one pipeline, set up from the standard OTEL_* variables."""
    logging.basicConfig(format="%(message)s", level=logging.WARNING)
    logging.getLogger(LOGGER_NAME).setLevel(logging.INFO)  # one summary line per ended session
    # Keeps a TracerProvider already set (e.g. by opentelemetry-instrument), else makes one.
    # It also turns on the installed OpenAI instrumentation (instrument_llm_calls=True, the
    # default), unless one is already active: no OpenAIInstrumentor().instrument() of our own.
    agentops.init(auto_start_session=False, service_name="support-desk", tags=["support-desk"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions-file", type=Path, help="write the sessions here as JSON")
    parser.add_argument("--session-prefix", default="", help="put before each session id")
    args = parser.parse_args(argv)
    setup_telemetry()
    with FakeOpenAIServer() as server:
        sessions = asyncio.run(run_desk(server.base_url, session_prefix=args.session_prefix))
    # Export before reporting, so whoever reads the sessions file finds the spans sent.
    force_flush = getattr(trace.get_tracer_provider(), "force_flush", None)
    if force_flush is not None:
        force_flush(10_000)
    failed = sum(s.end_state == agentops.EndState.FAIL for s in sessions)
    print(f"{len(sessions)} conversations served: {len(sessions) - failed} Success, {failed} Fail")
    if args.sessions_file:
        args.sessions_file.write_text(json.dumps([describe(s) for s in sessions], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
