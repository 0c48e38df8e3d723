"""A LangGraph ReAct agent on langchain-openai against the fake server, in sessions.

One model call that asks for the tool, the tool, one model call that answers. Used by
``tests/frameworks/test_langgraph_*.py``: one file per LangChain tracer, each run in its
own process by ``scripts/frameworks.sh`` (OpenLLMetry's tracer stays in LangChain's
callback managers after ``uninstrument()``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.prebuilt import create_react_agent

import opentelemetry_instrumentation_agentops as agentops
from opentelemetry_instrumentation_agentops._runtime.owner import RUNTIME
from support.frameworks import (
    MODELS,
    QUESTIONS,
    counted,
    instrumented,
    scopes,
    served,
    session_ids,
)

GENAI_OPENAI = "opentelemetry.instrumentation.genai.openai"


@tool
def lookup_order(order_id: str) -> str:
    """Find an order by its id."""
    return f"order {order_id} shipped yesterday"


def react_agent(server: Any, model: str) -> Any:
    llm = ChatOpenAI(model=model, base_url=server.base_url, api_key="test-key", max_retries=0)
    return create_react_agent(llm, [lookup_order])


async def _run_in_session(server: Any, model: str, question: str) -> Any:
    with agentops.start_session(name=f"langgraph {model}") as session:
        await react_agent(server, model).ainvoke({"messages": [("user", question)]})
    return session


def check_one_session(server: Any, spans: Any, factories: tuple, expected: set[str]) -> None:
    """One session: its totals are what the server served, from the expected tracers."""
    with instrumented(factories), agentops.start_session(name="langgraph") as session:
        react_agent(server, MODELS[0]).invoke({"messages": [("user", QUESTIONS[0])]})
    assert served(server, MODELS[0])[:2] == (2, 1)
    assert scopes(spans, session) == expected
    assert counted(session) == served(server, MODELS[0])
    assert session_ids(spans, session) == {session.session_id}


def check_concurrent_sessions(server: Any, factories: tuple) -> None:
    """Two sessions in two asyncio tasks: each counts its own calls."""

    async def both() -> list[Any]:
        runs = (_run_in_session(server, m, q) for m, q in zip(MODELS, QUESTIONS, strict=True))
        return await asyncio.gather(*runs)

    with instrumented(factories):
        sessions = asyncio.run(both())
    for session, model in zip(sessions, MODELS, strict=True):
        assert counted(session) == served(server, model), model


def check_input_and_output(server: Any, factories: tuple) -> None:
    """Content capture on: the root's input is the question, its output the last answer served,
    read from the tracers' own message attributes (and their roles)."""
    RUNTIME.settings.capture_content = True
    with instrumented(factories), agentops.start_session(name="langgraph") as session:
        react_agent(server, MODELS[0]).invoke({"messages": [("user", QUESTIONS[0])]})
    answers = [s["content"] for s in server.served if s["content"] is not None]
    attributes = session.span.attributes
    assert (attributes["input.value"], attributes["output.value"]) == (QUESTIONS[0], answers[-1])
