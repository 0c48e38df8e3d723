"""Synthetic LLM and tool spans in each convention the totals count (design.md section 4).

A ``Convention`` says which attributes make a span an LLM call or a tool call and where
its tokens go, and when the kind is written: at the start (``None``), right after it
(``AFTER_START``: OpenLLMetry's LangChain tracer), or at the end with the usage
(``AT_END``: OpenInference's LangChain tracer), so that a span processor sees it only
when the span ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from opentelemetry import context, trace

LLM, TOOL = "llm", "tool"
AFTER_START, AT_END = "after-start", "at-end"


@dataclass(frozen=True)
class Convention:
    name: str
    llm: dict[str, str]
    tool: dict[str, str]
    input_key: str
    output_key: str
    answer: dict[str, str]  # what an LLM span that reached a model writes at its end
    late: str | None = None  # when the kind is written, if not at the start

    def kind_attributes(self, kind: str) -> dict[str, str]:
        return self.llm if kind == LLM else self.tool

    def usage(self, tokens: tuple[int, int]) -> dict[str, int]:
        return {self.input_key: tokens[0], self.output_key: tokens[1]}


GENAI = Convention(
    "genai",
    {"gen_ai.operation.name": "chat"},
    {"gen_ai.operation.name": "execute_tool"},
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    {"gen_ai.response.id": "chatcmpl-1"},
)
GENAI_LEGACY = replace(
    GENAI,
    name="genai-legacy",
    llm={"gen_ai.operation.name": "text_completion"},
    input_key="gen_ai.usage.prompt_tokens",
    output_key="gen_ai.usage.completion_tokens",
)
OPENINFERENCE = Convention(
    "openinference",
    {"openinference.span.kind": "LLM"},
    {"openinference.span.kind": "TOOL"},
    "llm.token_count.prompt",
    "llm.token_count.completion",
    {"llm.output_messages.0.message.role": "assistant"},
)
OPENLLMETRY = Convention(
    "openllmetry",
    {"llm.request.type": "chat"},
    {"traceloop.span.kind": "tool"},
    "llm.usage.prompt_tokens",
    "llm.usage.completion_tokens",
    {"gen_ai.completion.0.role": "assistant"},
)
EARLY = (GENAI, GENAI_LEGACY, OPENINFERENCE, OPENLLMETRY)
ALL = EARLY + tuple(
    replace(c, name=f"{c.name}-{late}", late=late) for late in (AFTER_START, AT_END) for c in EARLY
)

# Attributes every non-GenAI span in these tests carries (an HTTP client's).
HTTP = {"http.request.method": "POST", "url.full": "http://127.0.0.1/v1/chat/completions"}


def start_call(
    tracer: Any,
    convention: Convention,
    kind: str,
    *,
    name: str | None = None,
    parent: context.Context | None = None,
    attributes: dict[str, Any] | None = None,
    start_time: int | None = None,
) -> trace.Span:
    """Start (not end) a call span of ``convention``; the kind after start when ``late``.

    ``attributes`` are written at the start besides the kind.
    """
    kind_attributes = convention.kind_attributes(kind)
    span = tracer.start_span(
        name or f"{convention.name} {kind}",
        context=parent,
        attributes={**(attributes or {}), **({} if convention.late else kind_attributes)},
        start_time=start_time,
    )
    if convention.late == AFTER_START:
        span.set_attributes(kind_attributes)
    return span


def end_call(
    span: trace.Span,
    convention: Convention,
    tokens: tuple[int, int] | None,
    kind: str = LLM,
    *,
    answered: bool = True,
    end_time: int | None = None,
) -> None:
    """End a call span, with its usage written at the end as instrumentations do.

    An LLM span also gets its convention's sign of an answer (a response, output messages)
    unless not ``answered``: a span labelled LLM that never reached a model.
    """
    if convention.late == AT_END:
        span.set_attributes(convention.kind_attributes(kind))
    if kind == LLM and answered:
        span.set_attributes(convention.answer)
    if tokens is not None:
        span.set_attributes(convention.usage(tokens))
    span.end(end_time)


@contextlib.contextmanager
def call(
    tracer: Any,
    convention: Convention,
    kind: str = LLM,
    tokens: tuple[int, int] | None = None,
    **options: Any,
) -> Iterator[trace.Span]:
    """A call span, current while the block runs."""
    span = start_call(tracer, convention, kind, **options)
    with trace.use_span(span, end_on_exit=False):
        yield span
    end_call(span, convention, tokens, kind)


@contextlib.contextmanager
def http_span(tracer: Any) -> Iterator[trace.Span]:
    """A plain span between two calls, as an HTTP instrumentation makes one."""
    with tracer.start_as_current_span("POST", attributes=HTTP) as span:
        yield span


def totals(root: Any) -> tuple[int, int, int, int]:
    """LLM calls, tool calls, input and output tokens written on a session's root."""
    attributes = root.attributes
    return (
        attributes["agentops.session.llm_calls"],
        attributes["agentops.session.tool_calls"],
        attributes["gen_ai.usage.input_tokens"],
        attributes["gen_ai.usage.output_tokens"],
    )
