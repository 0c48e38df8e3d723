"""crewai's spans, as its two instrumentations write them, counted in a session's totals.

crewai is too large to install for a test, so the spans are recorded here from the
instrumentations' source: ``opentelemetry-instrumentation-crewai`` 0.62.4 (OpenLLMetry,
``instrumentation.py``: its crew, task, agent and LLM wrappers) and
``openinference-instrumentation-crewai`` 1.1.21 (``_event_listener.py``: the span specs
built from crewai's events). Names, nesting and attributes are theirs; attributes they
write after the start are written after the start here too.
"""

from __future__ import annotations

import contextlib

import pytest
from support.conventions import GENAI, LLM, totals
from support.conventions import call as traced_call
from support.runtime import Tracer

import opentelemetry_instrumentation_agentops as agentops

OPENLLMETRY = Tracer("opentelemetry.instrumentation.crewai", "0.62.4")
OPENINFERENCE = Tracer("openinference.instrumentation.crewai", "1.1.21")
CLIENT = Tracer("opentelemetry.instrumentation.genai.openai")
CREWAI = {"gen_ai.provider.name": "crewai", "gen_ai.operation.name": "invoke_agent"}
USAGE = ((120, 14), (160, 22))  # the two model calls of the crew's one task


@contextlib.contextmanager
def span(tracer, name, start=None, end=None):
    """A current span with attributes at its start, more written before its end."""
    with tracer.start_as_current_span(name, attributes=start) as current:
        yield current
        current.set_attributes(end or {})


def openllmetry_crew(client_spans: bool) -> None:
    """Crew.kickoff > Task.execute_sync > Agent.execute_task > LLM.call, twice."""
    agent = {**CREWAI, "traceloop.span.kind": "agent"}
    summary = {
        "gen_ai.agent.name": "Support agent",
        "gen_ai.request.model": "gpt-4o-mini",
        # The agent's token summary: the sum of its calls, not one more call.
        "gen_ai.usage.input_tokens": sum(u[0] for u in USAGE),
        "gen_ai.usage.output_tokens": sum(u[1] for u in USAGE),
    }
    with (
        span(OPENLLMETRY, "crewai.workflow", CREWAI, {"crewai.crew.result": "done"}),
        span(OPENLLMETRY, "Answer the customer.task", {**CREWAI, "traceloop.span.kind": "task"}),
        span(OPENLLMETRY, "Support agent.agent", agent, summary),
    ):
        for prompt, completion in USAGE:
            llm = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini"}
            usage = {
                "gen_ai.response.model": "gpt-4o-mini",
                "gen_ai.usage.input_tokens": prompt,
                "gen_ai.usage.output_tokens": completion,
            }
            with span(OPENLLMETRY, "gpt-4o-mini.llm", llm, usage):
                if client_spans:  # crewai's LLM calls the openai client inside the span
                    with traced_call(CLIENT, GENAI, LLM, (prompt, completion)):
                        pass


def openinference_crew() -> None:
    """The crew's CHAIN span > the agent's AGENT span > LLM and TOOL spans."""
    crew_end = {"llm.token_count.total": sum(sum(u) for u in USAGE)}
    agent = {"openinference.span.kind": "AGENT", "agent.role": "Support agent"}
    with (
        span(OPENINFERENCE, "Crew.kickoff", {"openinference.span.kind": "CHAIN"}, crew_end),
        span(OPENINFERENCE, "Support agent", agent),
    ):
        for index, (prompt, completion) in enumerate(USAGE):
            llm = {"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini"}
            usage = {
                "llm.token_count.prompt": prompt,
                "llm.token_count.completion": completion,
                "llm.token_count.total": prompt + completion,
            }
            with span(OPENINFERENCE, "gpt-4o-mini.llm_call", llm, usage):
                pass
            if index == 0:
                tool = {
                    "openinference.span.kind": "TOOL",
                    "tool.name": "lookup_order",
                    "tool.class": "LookupOrderTool",
                    "tool.agent_role": "Support agent",
                    "tool.run_attempts": 1,
                }
                with span(OPENINFERENCE, "lookup_order.run", tool):
                    pass


TOKENS = tuple(sum(u[i] for u in USAGE) for i in (0, 1))


@pytest.mark.parametrize("client_spans", [False, True], ids=["alone", "with-genai-openai"])
def test_openllmetry_crewai_counts_its_llm_spans_not_the_agent_summary(client_spans):
    with agentops.start_session(name="crew") as session:
        openllmetry_crew(client_spans)
    assert totals(session.span) == (2, 0, *TOKENS)  # it traces no tool


def test_openinference_crewai_counts_llm_and_tool_spans_not_the_crew_total():
    with agentops.start_session(name="crew") as session:
        openinference_crew()
    assert totals(session.span) == (2, 1, *TOKENS)
