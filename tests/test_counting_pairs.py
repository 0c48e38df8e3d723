"""One model call traced by a framework and by the client library, however they nest and time.

design.md section 4 and docs/spans.rst ("One model call, two instrumentations"): the client
library's span is the call; a framework's LLM span counts only where no client span covers
it; a span labelled LLM that never reached a model is no call. The spans come from SDK
tracers named as the real instrumentations' scopes, with their attributes, recorded times
given explicitly (a framework may record an end time before the stream it returned is read)
and ended in any order; totals are read from the session's exported root.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry import trace
from support.conventions import (
    ALL,
    EARLY,
    GENAI,
    LLM,
    OPENINFERENCE,
    end_call,
    start_call,
    totals,
)
from support.runtime import Tracer

import opentelemetry_instrumentation_agentops as agentops

# Scopes of real frameworks' tracers, and of real client libraries' instrumentations.
FRAMEWORKS = (
    "openinference.instrumentation.llama_index",
    "openinference.instrumentation.langchain",
    "opentelemetry.instrumentation.langchain",
    "openinference.instrumentation.agno",
    "pydantic-ai",
    "strands.telemetry.tracer",
)
CLIENTS = (
    "opentelemetry.instrumentation.genai.openai",
    "openinference.instrumentation.openai",
    "opentelemetry.instrumentation.openai.v1",
)
LLAMA_INDEX = Tracer(FRAMEWORKS[0])
GENAI_OPENAI = Tracer(CLIENTS[0])
MODEL = {"llm.model_name": "gpt-4o-mini", "gen_ai.request.model": "gpt-4o-mini"}
EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Clock:
    """Recorded times, in order: ``next()`` is later than every time before it."""

    def __init__(self) -> None:
        self.now = time.time_ns()

    def next(self) -> int:
        self.now += 1_000
        return self.now


def in_session(body) -> tuple[int, int, int, int]:
    with agentops.start_session(name="pairs") as session:
        body(trace.set_span_in_context(session.span))
    return totals(session.span)


pairs = st.tuples(st.integers(1, 500), st.integers(1, 500))
call_plans = st.fixed_dictionaries(
    {
        "framework": st.none() | st.sampled_from(ALL),  # its convention, when it traces
        "client": st.none() | st.sampled_from(EARLY),
        "prepare": st.booleans(),  # a framework LLM span that never reaches the model first
        # nested: the client's span inside the framework's; siblings: both under one step
        # (llama-index); beside: the client's under the session's root, the framework's
        # under a chain span (LangChain's tracers, which never make their span current)
        "shape": st.sampled_from(("nested", "siblings", "beside")),
        "recorded_end": st.sampled_from(("before the client starts", "after the client ends")),
        "framework_ends_first": st.booleans(),  # the order of the end() calls
        "tokens": pairs,
        "framework_tokens": st.booleans(),
        "client_tokens": st.booleans(),
    }
).filter(lambda plan: plan["framework"] or plan["client"])


def end_later(span, convention, tokens, end_time=None):
    """A call's end, to run later."""
    return lambda: end_call(span, convention, tokens, end_time=end_time)


def run_call(framework, client, plan, root, clock: Clock, model=MODEL) -> None:
    """One model call: a step span, maybe a preparation span, the framework's and client's."""
    if plan["client"] is None:
        model = {key: "claude-sonnet-4" for key in MODEL} if model is None else model
    step = framework.start_span("run_agent_step", context=root, start_time=clock.next())
    in_step = trace.set_span_in_context(step)
    convention, client_convention = plan["framework"], plan["client"]
    if plan["prepare"]:
        prepare = start_call(
            framework,
            convention or OPENINFERENCE,
            LLM,
            name="OpenAI._prepare_chat_with_tools",
            parent=in_step,
            attributes=model,
            start_time=clock.next(),
        )
        end_call(prepare, convention or OPENINFERENCE, None, answered=False, end_time=clock.next())
    framework_span = client_span = None
    if convention is not None:
        framework_span = start_call(
            framework,
            convention,
            LLM,
            name="OpenAI.astream_chat",
            parent=in_step,
            attributes=model,
            start_time=clock.next(),
        )
    early = plan["recorded_end"] == "before the client starts"
    framework_end = clock.next() if early else None
    if client_convention is not None:
        if plan["shape"] == "nested" and framework_span is not None:
            parent = trace.set_span_in_context(framework_span)
        elif plan["shape"] == "beside":
            parent = root
        else:
            parent = in_step
        client_span = start_call(
            client,
            client_convention,
            LLM,
            name="chat gpt-4o-mini",
            parent=parent,
            attributes=MODEL,
            start_time=clock.next(),
        )
    client_end = clock.next()
    framework_end = framework_end or clock.next()
    ends = []
    if framework_span is not None:
        tokens = plan["tokens"] if plan["framework_tokens"] else None
        ends.append(end_later(framework_span, convention, tokens, framework_end))
    if client_span is not None:
        tokens = plan["tokens"] if plan["client_tokens"] else None
        ends.append(end_later(client_span, client_convention, tokens, client_end))
    for end in ends if plan["framework_ends_first"] else reversed(ends):
        end()
    step.end(clock.next())


def expected(plans) -> tuple[int, int, int, int]:
    """One call per plan, with its tokens when any of its spans carried them."""
    carried = [
        p["tokens"]
        for p in plans
        if (p["framework"] and p["framework_tokens"]) or (p["client"] and p["client_tokens"])
    ]
    return (len(plans), 0, sum(t[0] for t in carried), sum(t[1] for t in carried))


@EXAMPLES
@given(
    plans=st.lists(call_plans, min_size=1, max_size=4),
    framework=st.sampled_from(FRAMEWORKS),
    client=st.sampled_from(CLIENTS),
)
def test_each_model_call_counts_once_whatever_the_nesting_timing_and_order(
    plans, framework, client
):
    framework_tracer, client_tracer = trace.get_tracer(framework), trace.get_tracer(client)

    # A framework's call that no client span traces while the client instrumentation traces
    # other calls goes through another library: another model (a client call covers a
    # framework call of its model; docs/spans.rst says what it cannot tell apart).
    alone = MODEL if all(plan["client"] is None for plan in plans) else None

    def body(root):
        clock = Clock()
        for plan in plans:
            run_call(framework_tracer, client_tracer, plan, root, clock, alone)

    assert in_session(body) == expected(plans)


@EXAMPLES
@given(
    count=st.integers(1, 4),
    framework=st.sampled_from(FRAMEWORKS),
    convention=st.sampled_from(ALL),
    client=st.sampled_from(CLIENTS),
    data=st.data(),
)
def test_parallel_calls_count_once_each_whatever_order_their_spans_end_in(
    count, framework, convention, client, data
):
    """Parallel branches: every framework span starts, then every client span; any end order."""
    tokens = data.draw(st.lists(pairs, min_size=count, max_size=count))

    def body(root):
        clock = Clock()

        def started(scope, convention):
            tracer = trace.get_tracer(scope)
            return [
                start_call(
                    tracer, convention, LLM, parent=root, attributes=MODEL, start_time=clock.next()
                )
                for _ in range(count)
            ]

        framework_spans = started(framework, convention)
        client_spans = started(client, GENAI)
        ends = [
            *(end_later(s, convention, t) for s, t in zip(framework_spans, tokens, strict=True)),
            *(end_later(s, GENAI, t) for s, t in zip(client_spans, tokens, strict=True)),
        ]
        for end in data.draw(st.permutations(ends)):
            end()

    assert in_session(body) == (count, 0, sum(t[0] for t in tokens), sum(t[1] for t in tokens))


def llama_index_step(root, clock: Clock, tokens, client: bool) -> None:
    """What OpenInference's llama-index tracer records for one streamed model call of a
    ``FunctionAgent`` (4.6.1, llama-index-core 0.14.25), with genai-openai's chat span."""
    step = LLAMA_INDEX.start_span("BaseWorkflowAgent.run_agent_step", context=root)
    in_step = trace.set_span_in_context(step)
    llm = {"openinference.span.kind": "LLM", **MODEL, "llm.provider": "openai"}
    prepare = LLAMA_INDEX.start_span("OpenAI._prepare_chat_with_tools", context=in_step)
    prepare.set_attributes({**llm, "output.mime_type": "application/json"})
    prepare.end()
    stream = LLAMA_INDEX.start_span("OpenAI.astream_chat", context=in_step)
    stream.set_attributes({**llm, "llm.input_messages.0.message.role": "user"})
    returned = clock.next()  # the stream is returned: the end time OpenInference records
    if client:
        chat = GENAI_OPENAI.start_span(
            "chat gpt-4o-mini", context=in_step, attributes={"gen_ai.operation.name": "chat"}
        )
        usage = {"gen_ai.usage.input_tokens": tokens[0], "gen_ai.usage.output_tokens": tokens[1]}
        chat.set_attributes({**usage, "gen_ai.response.model": "gpt-4o-mini"})
        chat.end()
    # The stream is read: the span ends, with the end time recorded when it was returned.
    usage = {"llm.token_count.prompt": tokens[0], "llm.token_count.completion": tokens[1]}
    stream.set_attributes(usage)
    stream.end(returned)
    step.end()


@pytest.mark.parametrize("client", [False, True], ids=["alone", "with the client's tracer"])
def test_llama_index_counts_each_streamed_call_once_not_its_preparation(client):
    def body(root):
        clock = Clock()
        llama_index_step(root, clock, (8, 3), client=client)
        llama_index_step(root, clock, (12, 41), client=client)

    assert in_session(body) == (2, 0, 20, 44)


def test_a_span_labelled_llm_that_never_reached_a_model_is_no_call():
    def body(root):
        span = LLAMA_INDEX.start_span("OpenAI._prepare_chat_with_tools", context=root)
        span.set_attributes({"openinference.span.kind": "LLM", **MODEL})
        span.end()

    assert in_session(body) == (0, 0, 0, 0)


def test_a_client_library_span_is_a_call_with_or_without_an_answer():
    """The client library's span is the request itself: a failed one is a call too."""

    def body(root):
        GENAI_OPENAI.start_span(
            "chat gpt-4o-mini", context=root, attributes={"gen_ai.operation.name": "chat", **MODEL}
        ).end()

    assert in_session(body) == (1, 0, 0, 0)


def test_a_client_call_covers_no_framework_call_of_another_model_nor_one_started_after_it():
    """A framework's call to a model no client instrumentation sees, beside direct calls."""

    def body(root):
        direct = start_call(GENAI_OPENAI, GENAI, LLM, parent=root, attributes=MODEL)
        end_call(direct, GENAI, (1, 1))
        claude = {"llm.model_name": "claude-sonnet-4"}
        framework = start_call(LLAMA_INDEX, OPENINFERENCE, LLM, parent=root, attributes=claude)
        end_call(framework, OPENINFERENCE, (2, 2))
        later = start_call(LLAMA_INDEX, OPENINFERENCE, LLM, parent=root, attributes=MODEL)
        end_call(later, OPENINFERENCE, (3, 3))

    assert in_session(body) == (3, 0, 6, 6)
