"""What other instrumentations' spans add to a session's totals (design.md section 4).

Synthetic spans in every convention of ``conventions.TABLE``, alone and nested in each
other, made with the real SDK through the provider of ``tests/conftest.py``; totals are
read from the session's exported root span.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Status, StatusCode
from support.conventions import (
    ALL,
    AT_END,
    GENAI,
    LLM,
    OPENINFERENCE,
    OPENLLMETRY,
    TOOL,
    end_call,
    http_span,
    start_call,
    totals,
)
from support.conventions import call as traced_call
from support.runtime import Tracer

import opentelemetry_instrumentation_agentops as agentops
from opentelemetry_instrumentation_agentops._engine import processor

FRAMEWORK = Tracer("vendor.framework")
CLIENT = Tracer("vendor.client")
ONCE = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def run_session(body) -> tuple[int, int, int, int]:
    """The totals of a session whose body is ``body()``."""
    session = agentops.start_session(name="counting")
    try:
        body()
    finally:
        session.end_session("Success")
    return totals(session.span)


@pytest.mark.parametrize("convention", ALL, ids=lambda c: c.name)
def test_each_convention_counts_an_llm_call_with_its_tokens_and_a_tool_call(convention):
    def body():
        with traced_call(CLIENT, convention, LLM, (12, 5)):
            pass
        with traced_call(CLIENT, convention, TOOL):
            pass

    assert run_session(body) == (1, 1, 12, 5)


def test_spans_of_no_convention_and_usage_outside_calls_count_nothing():
    def body():
        with http_span(CLIENT):
            pass
        # An agent span summing the usage of the calls inside it (OpenLLMetry's crewai).
        usage = {"gen_ai.usage.input_tokens": 40, "gen_ai.operation.name": "invoke_agent"}
        CLIENT.start_span("researcher.agent", attributes=usage).end()

    assert run_session(body) == (0, 0, 0, 0)


def test_sequential_calls_each_count():
    def body():
        for tokens in ((1, 2), (3, 4)):
            with (
                traced_call(FRAMEWORK, OPENINFERENCE, LLM, tokens),
                traced_call(CLIENT, GENAI, LLM, tokens),
            ):
                pass

    assert run_session(body) == (2, 0, 4, 6)


pairs = st.tuples(st.integers(1, 1000), st.integers(1, 1000))


@ONCE
@given(
    outer=st.sampled_from(ALL),
    inner=st.sampled_from(ALL),
    kind=st.sampled_from((LLM, TOOL)),
    between=st.booleans(),
    same_tracer=st.booleans(),
    outer_tokens=st.none() | pairs,
    inner_tokens=st.none() | pairs,
    inner_ends_first=st.booleans(),
)
def test_one_call_traced_twice_counts_once_with_the_outermost_tokens(
    outer, inner, kind, between, same_tracer, outer_tokens, inner_tokens, inner_ends_first
):
    inner_tracer = FRAMEWORK if same_tracer else CLIENT

    def body():
        outer_span = start_call(FRAMEWORK, outer, kind)
        with trace.use_span(outer_span, end_on_exit=False):
            http = FRAMEWORK.start_span("POST") if between else None
            with trace.use_span(http or outer_span, end_on_exit=False):
                inner_span = start_call(inner_tracer, inner, kind)
        if inner_ends_first:
            end_call(inner_span, inner, inner_tokens, kind)
        end_call(outer_span, outer, outer_tokens, kind)
        if not inner_ends_first:
            end_call(inner_span, inner, inner_tokens, kind)
        if http is not None:
            http.end()

    tokens = outer_tokens or inner_tokens or (0, 0)
    if outer.late == AT_END and inner_ends_first and inner_tokens:
        # Counted when the inner span ended, before the outer one said it was a call.
        tokens = inner_tokens
    calls = (1, 0) if kind == LLM else (0, 1)
    assert run_session(body) == (*calls, *tokens)


@pytest.mark.parametrize("framework", [c for c in ALL if c.late], ids=lambda c: c.name)
def test_a_late_llm_span_not_made_current_is_one_call_with_the_client_span_inside_it(framework):
    """OpenInference's LangChain tracer: the client's chat span is its sibling, not its child."""

    def body():
        chain = FRAMEWORK.start_span("RunnableSequence")
        llm = start_call(FRAMEWORK, framework, LLM, parent=trace.set_span_in_context(chain))
        with traced_call(CLIENT, GENAI, LLM, (7, 3)):  # under the session's root
            pass
        end_call(llm, framework, (7, 3))
        chain.end()

    assert run_session(body) == (1, 0, 7, 3)


def test_parallel_late_calls_of_one_instrumentation_each_count():
    """Two LangGraph branches: overlapping LLM spans of one tracer are two calls."""
    late = next(c for c in ALL if c.late == AT_END and c.name.startswith("openinference"))

    def branches():
        root = trace.set_span_in_context(agentops.get_current_session().span)
        first = start_call(FRAMEWORK, late, LLM, parent=root)
        second = start_call(FRAMEWORK, late, LLM, parent=root)
        end_call(second, late, (1, 1))
        end_call(first, late, (2, 2))

    assert run_session(branches) == (2, 0, 3, 3)


@pytest.mark.parametrize("convention", ALL, ids=lambda c: c.name)
def test_our_tool_inside_another_tool_span_counts_once_with_its_cost(convention):
    @agentops.tool(cost=0.25)
    def lookup() -> str:
        return "found"

    def body():
        with traced_call(FRAMEWORK, convention, TOOL):
            lookup()
        with traced_call(FRAMEWORK, convention, TOOL):
            pass

    session = agentops.start_session(name="tools")
    body()
    session.end_session("Success")
    assert totals(session.span)[:2] == (0, 2)
    assert session.span.attributes["agentops.session.cost_usd"] == pytest.approx(0.25)


@pytest.mark.parametrize("convention", ALL, ids=lambda c: c.name)
def test_another_tool_span_inside_our_tool_counts_once(convention):
    @agentops.record_tool("search")
    def search() -> None:
        with traced_call(CLIENT, convention, TOOL):
            pass

    assert run_session(search) == (0, 1, 0, 0)


def test_our_llm_event_inside_a_chat_span_counts_once_with_its_own_tokens():
    def body():
        with traced_call(CLIENT, GENAI, LLM, (50, 60)):
            agentops.record(agentops.LLMEvent(model="m", prompt_tokens=5, completion_tokens=6))

    assert run_session(body) == (1, 0, 5, 6)


def test_chat_spans_inside_our_tool_are_llm_calls():
    @agentops.record_tool("summarise")
    def summarise() -> None:
        with traced_call(CLIENT, GENAI, LLM, (3, 4)):
            pass

    assert run_session(summarise) == (1, 1, 3, 4)


@pytest.mark.parametrize(
    ("key", "value"),
    [("agentops.tool.cost_usd", 0.5), ("agentops.llm.cost_usd", 0.5), ("llm.cost.total", 0.5)],
)
def test_costs_on_other_spans_roll_into_the_session_once_per_call(key, value):
    def body():
        with traced_call(FRAMEWORK, OPENINFERENCE, LLM) as outer:
            outer.set_attribute(key, value)
            with traced_call(CLIENT, GENAI, LLM) as inner:
                inner.set_attribute(key, value)

    session = agentops.start_session()
    body()
    session.end_session()
    assert session.span.attributes["agentops.session.cost_usd"] == pytest.approx(value)


def test_other_spans_with_status_error_are_errors():
    def body():
        span = CLIENT.start_span("POST")
        span.set_status(Status(StatusCode.ERROR, "boom"))
        span.end()

    session = agentops.start_session()
    body()
    session.end_session()
    assert session.span.attributes["agentops.session.errors"] == 1


def test_spans_started_while_an_agent_runs_carry_its_identity(spans):
    @agentops.agent(name="researcher")
    def research() -> None:
        with traced_call(CLIENT, GENAI, LLM, (1, 1)):
            pass
        CLIENT.start_span("named", attributes={"gen_ai.agent.id": "mine"}).end()

    with agentops.start_session():
        research()
    agent_span = spans.one("invoke_agent researcher")
    chat = spans.one("genai llm")
    assert chat.attributes["gen_ai.agent.id"] == agent_span.attributes["gen_ai.agent.id"]
    assert chat.attributes["gen_ai.agent.name"] == "researcher"
    assert spans.one("named").attributes["gen_ai.agent.id"] == "mine"


def test_a_span_outside_any_agent_has_no_agent_identity(spans):
    with agentops.start_session(), traced_call(CLIENT, GENAI, LLM):
        pass
    assert "gen_ai.agent.id" not in spans.one("genai llm").attributes


def test_the_processor_forgets_every_span_once_ended_and_bounds_the_ones_never_ended(
    monkeypatch,
):
    provider = TracerProvider()
    mine = processor.SessionSpanProcessor()
    provider.add_span_processor(mine)
    tracer = provider.get_tracer("vendor.other")
    with agentops.start_session():
        with traced_call(tracer, OPENLLMETRY, LLM, (1, 1)), http_span(tracer):
            assert len(mine._open) == 2
        assert mine._open == {}
        monkeypatch.setattr(processor, "MAX_OPEN", 10)
        leaked = [tracer.start_span("never ended") for _ in range(50)]
        assert len(mine._open) == 10
        for span in leaked:
            span.end()
    assert mine._open == {}
