"""An agent whose tool runs in another service: each session spans two processes.

Offline and deterministic. Two customers are served at once, each conversation in its own
session. The agent asks the model (the local fake OpenAI server, ``fake_openai.py``, started
here), the model calls the ``lookup_order`` tool, and the agent runs it by calling the tool
service (``tool_service.py``, started here as a process of its own) over HTTP with
``urllib``, traced by ``opentelemetry-instrumentation-urllib``; the tool service asks the
model too. Both processes call ``init(propagate_session=True)``: the session's id (and the
customer, as ``user.id``) travel in each request's W3C baggage, so every span of the tool
service carries the session it served. ``--no-propagate`` keeps them in this process (the
default of the package): the tool service's spans still join each session's trace, but
carry no session id.

Each process counts its own work: a session's root counts the agent's two model calls,
the tool service's model call is counted on its own span, and a backend's session view adds
them up. Spans of both processes go where the standard ``OTEL_*`` variables say::

    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:6006 python examples/multi_service_agent.py
    OTEL_TRACES_EXPORTER=none python examples/multi_service_agent.py   # the summary lines only

``--sessions-file PATH`` writes the sessions (name, ids, end state, analytics) as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
from fake_openai import FakeOpenAIServer
from opentelemetry import trace
from opentelemetry.instrumentation.urllib import URLLibInstrumentor

import opentelemetry_instrumentation_agentops as agentops

HERE = Path(__file__).resolve().parent
LOGGER_NAME = "opentelemetry_instrumentation_agentops"
MODEL = "gpt-4o-mini"
CUSTOMERS = ("alice", "bob")
LOOKUP_ORDER = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "the order of a customer",
        "parameters": {
            "type": "object",
            "properties": {"customer_id": {"type": "string"}},
            "required": ["customer_id"],
        },
    },
}


@contextlib.contextmanager
def tool_service(llm_base_url: str) -> Iterator[str]:
    """The tool service in a process of its own; its URL. Stopped with SIGINT (Ctrl-C)."""
    command = [sys.executable, str(HERE / "tool_service.py"), "--port", "0"]
    process = subprocess.Popen(
        [*command, "--llm-base-url", llm_base_url],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line.startswith("tool service on "):
            raise RuntimeError(f"the tool service did not start: {line!r}")
        yield line.split()[-1]
    finally:
        process.send_signal(signal.SIGINT)  # a normal exit: it exports its spans first
        process.wait(timeout=30)


@agentops.record_tool("lookup_order")
def lookup_order(tool_url: str, customer_id: str) -> dict[str, Any]:
    """The tool, run by the tool service: the session travels in the request's baggage."""
    request = urllib.request.Request(
        f"{tool_url}/tools/lookup_order",
        data=json.dumps({"customer_id": customer_id}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        result: dict[str, Any] = json.loads(response.read())
        return result


async def serve(client: openai.AsyncOpenAI, tool_url: str, customer: str) -> agentops.Session:
    """One conversation, one session: ask the model, run the tools it calls, answer."""
    attributes = {"user.id": customer}  # the end user: sent along as baggage too
    with agentops.start_session(name=f"support {customer}", attributes=attributes) as session:
        messages: list[dict[str, Any]] = [{"role": "user", "content": "Where is my order?"}]
        message = await ask(client, messages)
        while message.tool_calls:
            messages.append(message.model_dump(exclude_none=True))
            for call in message.tool_calls:
                # to_thread() runs the call in a copy of this task's context: the session's.
                result = await asyncio.to_thread(lookup_order, tool_url, customer)
                messages.append(
                    {"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)}
                )
            message = await ask(client, messages)
    return session


async def ask(client: openai.AsyncOpenAI, messages: list[dict[str, Any]]) -> Any:
    reply = await client.chat.completions.create(
        model=MODEL, messages=messages, tools=[LOOKUP_ORDER]
    )
    return reply.choices[0].message


async def run_agent(llm_base_url: str, tool_url: str) -> list[agentops.Session]:
    """Serve every customer concurrently, each in a session of its own."""
    client = openai.AsyncOpenAI(base_url=llm_base_url, api_key="fake-key", max_retries=0)
    try:
        return list(await asyncio.gather(*(serve(client, tool_url, c) for c in CUSTOMERS)))
    finally:
        await client.close()


def describe(session: agentops.Session) -> dict[str, Any]:
    return {
        "name": session.name,
        "session_id": session.session_id,
        "trace_id": format(session.trace_id, "032x"),
        "end_state": session.end_state,
        "analytics": session.get_analytics(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-propagate", action="store_true", help="no session in baggage")
    parser.add_argument("--sessions-file", type=Path, help="write the sessions here as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(format="%(message)s", level=logging.WARNING)
    logging.getLogger(LOGGER_NAME).setLevel(logging.INFO)  # one summary line per session
    agentops.init(
        auto_start_session=False,
        service_name="support-agent",
        propagate_session=not args.no_propagate,
    )
    URLLibInstrumentor().instrument()  # traceparent and baggage on every urllib request
    with FakeOpenAIServer() as llm, tool_service(llm.base_url) as tool_url:
        sessions = asyncio.run(run_agent(llm.base_url, tool_url))
    force_flush = getattr(trace.get_tracer_provider(), "force_flush", None)
    if force_flush is not None:  # exported before the sessions file says they ended
        force_flush(10_000)
    print(f"{len(sessions)} conversations served across two services")
    if args.sessions_file:
        args.sessions_file.write_text(json.dumps([describe(s) for s in sessions], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
