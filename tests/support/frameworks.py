"""Agent frameworks in sessions, against the fake OpenAI server: what was served, what counted.

Each test runs a framework with one mix of instrumentations (``instrumented``), inside one
or two sessions, each session on its own model so that the fake server's ``served`` list
tells which requests were that session's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from opentelemetry import trace

from examples.fake_openai import FakeOpenAIServer
from support.conventions import totals

MODELS = ("gpt-4o-mini", "gpt-4o")  # one per concurrent session
QUESTIONS = ("Where is my order 1234?", "I want a refund for order 99")


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
