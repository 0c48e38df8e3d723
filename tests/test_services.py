"""Sessions across services, in real processes (design.md section 9, issue 24).

Each scenario serves two customers at once, each in a session of its own, and checks the
called service's spans one by one (``support.services.check_downstream_spans``):

- HTTP: ``examples/multi_service_agent.py`` calls ``examples/tool_service.py`` (a WSGI
  server traced by ``opentelemetry-instrumentation-wsgi``, in a process of its own) with
  ``urllib``, traced by ``opentelemetry-instrumentation-urllib``. Both processes export
  OTLP/HTTP to a collector run by the test; the tool service's server span records the
  ``baggage`` header it received (``OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST``).
- MCP: an agent calls an MCP server (the official ``mcp`` package, over stdio) with
  OpenInference's MCP instrumentation on both sides; each process exports to its own span
  file, and the tool answers the ``_meta`` its request carried.

With the setting off in the calling process, no baggage leaves it: the called service
receives none and its spans carry no session id, though they still join each trace.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support.network import otlp_collector, otlp_span_dicts
from support.services import check_downstream_spans, customer
from support.span_file import last_json, read_spans, run_script, write_script

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
AGENT, TOOLS = "support-agent", "tool-service"  # the two services' service.name
BAGGAGE_HEADER = "http.request.header.baggage"  # the server span's record of the header
SESSION_KEYS = ("session.id", "gen_ai.conversation.id", "user.id")


# -- an agent calling a tool service over HTTP -----------------------------------------------


def run_multi_service_agent(tmp_path: Path, *args: str) -> tuple[list[dict], list[dict]]:
    """Run the example (agent and tool service); its sessions, and every span both sent."""
    sessions_file = tmp_path / "sessions.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOPS_"))}
    with otlp_collector() as (endpoint, received):
        env.update(
            OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
            OTEL_METRICS_EXPORTER="none",
            OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST="baggage",
        )
        command = [sys.executable, str(EXAMPLES / "multi_service_agent.py"), *args]
        done = subprocess.run(
            [*command, "--sessions-file", str(sessions_file)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        spans = otlp_span_dicts(received)
    return json.loads(sessions_file.read_text()), spans


def of_service(spans: list[dict], name: str) -> list[dict]:
    return [s for s in spans if s["resource"].get("service.name") == name]


@pytest.fixture(scope="module")
def http_on(tmp_path_factory) -> tuple[list[dict], list[dict]]:
    return run_multi_service_agent(tmp_path_factory.mktemp("http-on"))


@pytest.fixture(scope="module")
def http_off(tmp_path_factory) -> tuple[list[dict], list[dict]]:
    return run_multi_service_agent(tmp_path_factory.mktemp("http-off"), "--no-propagate")


SERVED = {"POST /tools/lookup_order", "lookup_order", "chat gpt-4o-mini"}  # by the tool service


def test_the_tool_services_spans_carry_the_session_that_called_them(http_on):
    sessions, spans = http_on
    check_downstream_spans(sessions, of_service(spans, TOOLS), stamped=True, names=SERVED)
    for session in sessions:
        (server,) = [
            s
            for s in of_service(spans, TOOLS)
            if s["trace_id"] == session["trace_id"] and BAGGAGE_HEADER in s["attributes"]
        ]
        assert server["attributes"][BAGGAGE_HEADER] == [
            f"session.id={session['session_id']},user.id={customer(session)}"
        ]


def test_each_process_counts_its_own_llm_calls(http_on):
    sessions, spans = http_on
    for session in sessions:
        in_trace = [s for s in spans if s["trace_id"] == session["trace_id"]]
        (root,) = [s for s in in_trace if s["parent_span_id"] is None]
        agent_calls = [s for s in of_service(in_trace, AGENT) if s["name"].startswith("chat ")]
        tool_calls = [s for s in of_service(in_trace, TOOLS) if s["name"].startswith("chat ")]
        assert root["attributes"]["agentops.session.llm_calls"] == len(agent_calls) == 2
        assert session["analytics"]["LLM calls"] == 2
        # The tool service's call is counted on its own span: the backend adds it up.
        assert [s["attributes"]["session.id"] for s in tool_calls] == [session["session_id"]]


def test_with_the_setting_off_no_baggage_reaches_the_tool_service(http_off):
    sessions, spans = http_off
    check_downstream_spans(sessions, of_service(spans, TOOLS), stamped=False, names=SERVED)
    assert not [s for s in spans if BAGGAGE_HEADER in s["attributes"]]  # no header arrived
    for session in sessions:  # the agent's own spans still carry its session
        agent_spans = [s for s in of_service(spans, AGENT) if s["trace_id"] == session["trace_id"]]
        assert {s["attributes"]["session.id"] for s in agent_spans} == {session["session_id"]}


# -- an agent calling an MCP server over stdio -----------------------------------------------

MCP_SERVER = """
trace.set_tracer_provider(make_provider())
import opentelemetry_instrumentation_agentops as agentops

agentops.init(auto_start_session=False, propagate_session=True, instrument_llm_calls=False)
if os.environ["MCP_INSTRUMENTATION"] == "openinference":  # before mcp is imported
    from openinference.instrumentation.mcp import MCPInstrumentor

    MCPInstrumentor().instrument()
import anyio
from mcp.server.mcpserver import Context, MCPServer

server = MCPServer("orders")
tracer = trace.get_tracer("orders")


@server.tool()
async def lookup_order(customer_id: str, ctx: Context) -> str:
    meta = ctx.request_context.meta or {}
    with tracer.start_as_current_span("query orders"):
        await anyio.sleep(0.1)  # both sessions' calls are in here at once
        with tracer.start_as_current_span("format answer"):
            pass
    received = {key: meta.get(key) for key in ("traceparent", "baggage")}
    return json.dumps({"customer_id": customer_id, "received": received})


server.run("stdio")
"""

MCP_AGENT = """
trace.set_tracer_provider(make_provider())
import asyncio

import opentelemetry_instrumentation_agentops as agentops

if os.environ["MCP_INSTRUMENTATION"] == "openinference":  # before mcp is imported
    from openinference.instrumentation.mcp import MCPInstrumentor

    MCPInstrumentor().instrument()
from mcp import Client, StdioServerParameters


async def serve(client, customer):
    attributes = {"user.id": customer}
    with agentops.start_session(name=f"support {customer}", attributes=attributes) as session:
        result = await client.call_tool("lookup_order", {"customer_id": customer})
    answer = json.loads(result.content[0].text)
    return {
        "name": session.name,
        "session_id": session.session_id,
        "trace_id": format(session.trace_id, "032x"),
        "received": answer["received"],
    }


async def main():
    server = StdioServerParameters(
        command=sys.executable,
        args=[os.environ["MCP_SERVER"]],
        env={**os.environ, "SPAN_FILE": os.environ["SERVER_SPAN_FILE"]},
    )
    rounds = {}
    async with Client(server) as client:  # one connection: both sessions' calls interleave
        for propagate in ("on", "off"):
            agentops.init(
                auto_start_session=False,
                propagate_session=propagate == "on",
                instrument_llm_calls=False,  # no model here: openai is not even imported
            )
            rounds[propagate] = await asyncio.gather(serve(client, "alice"), serve(client, "bob"))
    return rounds


print(json.dumps(asyncio.run(main())))
"""


def run_mcp_agent(tmp_path: Path, instrumentation: str) -> tuple[dict[str, Any], list[dict]]:
    """Two rounds of two concurrent sessions (setting on, then off) calling one MCP server;
    the sessions of each round, with the ``_meta`` each call carried, and the server's spans."""
    server_spans = tmp_path / "server.jsonl"
    server = write_script(tmp_path, MCP_SERVER, "mcp_server.py")
    done = run_script(
        tmp_path,
        MCP_AGENT,
        span_file=tmp_path / "agent.jsonl",
        name="mcp_agent.py",
        timeout=120,
        MCP_SERVER=str(server),
        SERVER_SPAN_FILE=str(server_spans),
        MCP_INSTRUMENTATION=instrumentation,
    )
    assert done.returncode == 0, done.stderr
    return last_json(done.stdout), read_spans(server_spans)


@pytest.fixture(scope="module")
def mcp_instrumented(tmp_path_factory) -> tuple[dict[str, Any], list[dict]]:
    return run_mcp_agent(tmp_path_factory.mktemp("mcp"), "openinference")


MCP_SERVED = {"tools/call lookup_order", "query orders", "format answer"}


def test_the_mcp_servers_spans_carry_the_session_that_called_them(mcp_instrumented):
    rounds, server_spans = mcp_instrumented
    sessions = rounds["on"]  # the later round's spans, unstamped, are checked as outside them
    check_downstream_spans(sessions, server_spans, stamped=True, names=MCP_SERVED)
    for session in sessions:
        assert session["received"]["baggage"] == (
            f"session.id={session['session_id']},user.id={customer(session)}"
        )


def test_with_the_setting_off_no_baggage_reaches_the_mcp_server(mcp_instrumented):
    rounds, server_spans = mcp_instrumented
    sessions, earlier = rounds["off"], {s["trace_id"] for s in rounds["on"]}
    spans = [s for s in server_spans if s["trace_id"] not in earlier]
    check_downstream_spans(sessions, spans, stamped=False, names=MCP_SERVED)
    for session in sessions:
        assert session["received"]["baggage"] is None
        assert session["received"]["traceparent"]  # the trace still crosses


def test_without_an_mcp_instrumentation_only_the_servers_own_spans_are_stamped(tmp_path):
    """What ``mcp`` 2.x does alone: it carries the whole W3C context in ``_meta``, but uses it
    only as the parent of its own server spans, so the tool's spans never see the baggage."""
    rounds, server_spans = run_mcp_agent(tmp_path, "none")
    for session in rounds["on"]:
        assert session["received"]["baggage"]  # sent all the same
        mine = [s for s in server_spans if s["trace_id"] == session["trace_id"]]
        assert {s["name"] for s in mine} >= MCP_SERVED
        for span in mine:
            of_mcp = span["name"].startswith(("tools/call ", "tools/list"))
            assert ("session.id" in span["attributes"]) is of_mcp, span["name"]
