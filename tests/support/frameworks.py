"""Agent frameworks in sessions, against the fake OpenAI server: what was served, what counted.

Each test runs a framework with one mix of instrumentations (``instrumented``), inside one
or two sessions, each session on its own model so that the fake server's ``served`` list
tells which requests were that session's (``check_one_session``, ``check_concurrent_*``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from opentelemetry import trace

import opentelemetry_instrumentation_agentops as agentops
from examples.fake_openai import FakeOpenAIServer
from support.conventions import totals

MODELS = ("gpt-4o-mini", "gpt-4o")  # one per concurrent session
QUESTIONS = ("Where is my order 1234?", "I want a refund for order 99")
GENAI_OPENAI = "opentelemetry.instrumentation.genai.openai"  # the client instrumentation's scope


@contextlib.contextmanager
def instrumented(factories: tuple[Callable[[], Any], ...]) -> Iterator[None]:
    """Each instrumentor of ``factories`` on the tests' provider while the block runs."""
    provider = trace.get_tracer_provider()
    done: list[Any] = []
    try:
        for factory in factories:
            instrumentor = factory()
            instrumentor.instrument(tracer_provider=provider)
            done.append(instrumentor)
        yield
    finally:
        for instrumentor in reversed(done):
            instrumentor.uninstrument()


def served(server: FakeOpenAIServer, model: str, *, llm: bool = True) -> tuple[int, ...]:
    """What a session's totals should read: the server's answers to ``model``.

    LLM calls and tokens only when ``llm`` (an instrumentation that traces model calls).
    """
    answers = [s for s in server.served if s["model"] == model]
    tools = sum(s["tool_call"] for s in answers)
    if not llm:
        return (0, tools, 0, 0)
    return (
        len(answers),
        tools,
        sum(s["prompt_tokens"] for s in answers),
        sum(s["completion_tokens"] for s in answers),
    )


def counted(session: Any) -> tuple[int, ...]:
    """LLM calls, tool calls, input and output tokens on an ended session's root."""
    return totals(session.span)


def scopes(spans: Any, session: Any) -> set[str]:
    """The instrumentation scopes of the spans of ``session``'s trace, other than ours."""
    names = {s.instrumentation_scope.name for s in spans.of_trace(session.trace_id)}
    return names - {"opentelemetry_instrumentation_agentops"}


def session_ids(spans: Any, session: Any) -> set[str]:
    """The ``session.id`` values on the spans of ``session``'s trace."""
    return {s.attributes.get("session.id") for s in spans.of_trace(session.trace_id)}


def check_one_session(
    server: FakeOpenAIServer,
    spans: Any,
    factories: tuple[Callable[[], Any], ...],
    expected: set[str],
    run: Callable[[FakeOpenAIServer, str, str], Any],
    *,
    tools: int = 1,
) -> None:
    """One session around ``run(server, model, question)``: its totals are what the server
    served it, the expected tracers traced it, and its id is on every span of its trace."""
    with instrumented(factories), agentops.start_session(name="framework") as session:
        run(server, MODELS[0], QUESTIONS[0])
    assert served(server, MODELS[0])[1] == tools  # the agent used its tool
    assert scopes(spans, session) == expected
    assert counted(session) == served(server, MODELS[0])
    assert session_ids(spans, session) == {session.session_id}


def check_concurrent_sessions(
    server: FakeOpenAIServer,
    factories: tuple[Callable[[], Any], ...],
    run: Callable[[FakeOpenAIServer, str, str], Awaitable[Any]],
) -> None:
    """Two sessions in two asyncio tasks, each on its own model: each counts its own calls."""

    async def one(model: str, question: str) -> Any:
        with agentops.start_session(name=f"framework {model}") as session:
            await run(server, model, question)
        return session

    async def both() -> list[Any]:
        return await asyncio.gather(*(one(m, q) for m, q in zip(MODELS, QUESTIONS, strict=True)))

    with instrumented(factories):
        sessions = asyncio.run(both())
    for session, model in zip(sessions, MODELS, strict=True):
        assert counted(session) == served(server, model), model


def check_concurrent_threads(
    server: FakeOpenAIServer,
    factories: tuple[Callable[[], Any], ...],
    run: Callable[[FakeOpenAIServer, str, str], Any],
) -> None:
    """Two sessions in two threads (a framework without asyncio): each counts its own calls."""

    def one(model: str, question: str) -> Any:
        with agentops.start_session(name=f"framework {model}") as session:
            run(server, model, question)
        return session

    with instrumented(factories), ThreadPoolExecutor(max_workers=2) as pool:
        sessions = list(pool.map(one, MODELS, QUESTIONS))
    for session, model in zip(sessions, MODELS, strict=True):
        assert counted(session) == served(server, model), model
