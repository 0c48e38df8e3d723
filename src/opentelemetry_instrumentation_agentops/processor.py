"""The span processor that folds every span of a session's trace into the session.

Added once to each SDK TracerProvider the package uses. At span start it stamps
``session.id`` on any span in a running session's trace (other
instrumentations' spans included); at span end it counts other
instrumentations' spans in the session's totals: a ``chat`` (or any span with
``gen_ai.usage.*`` tokens) is an LLM call with its tokens, ``execute_tool`` a
tool call, status ERROR an error. The package's own spans are counted where
they are made, never here, so nothing is counted twice.
"""

from __future__ import annotations

import weakref
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import StatusCode

from . import attributes as attr
from .registry import session_for_trace

_LLM_OPERATIONS = {attr.OP_CHAT, "text_completion", "generate_content"}
# The keys on_end reads. One pass over a span's keys tells whether it has any: most spans have
# none, and each missing-key lookup on SDK attributes raises and catches a KeyError inside.
_COUNTED_KEYS = frozenset(
    {
        attr.OPERATION_NAME,
        attr.INPUT_TOKENS,
        attr.OUTPUT_TOKENS,
        attr.LEGACY_INPUT_TOKENS,
        attr.LEGACY_OUTPUT_TOKENS,
    }
)
_providers: weakref.WeakSet[Any] = weakref.WeakSet()


class SessionSpanProcessor(SpanProcessor):
    def on_start(self, span: Span, parent_context: Any = None) -> None:
        session = session_for_trace(span.context.trace_id)
        if session is not None and attr.SESSION_ID not in span.attributes:
            span.set_attribute(attr.SESSION_ID, session.session_id)

    def on_end(self, span: ReadableSpan) -> None:
        session = session_for_trace(span.context.trace_id)
        if session is None:  # most spans of most programs: no property read beyond this
            return
        scope = span.instrumentation_scope
        if scope is not None and scope.name == attr.TRACER_NAME:
            return
        attributes = span.attributes
        if not _COUNTED_KEYS.isdisjoint(attributes):
            _count_genai(session, attributes)
        if span.status.status_code is StatusCode.ERROR:
            session.totals.add_error()


def _count_genai(session: Any, attributes: Any) -> None:
    """An LLM call (with its tokens) or a tool call, from GenAI attributes."""
    operation = attributes.get(attr.OPERATION_NAME)
    input_tokens = attributes.get(attr.INPUT_TOKENS, attributes.get(attr.LEGACY_INPUT_TOKENS))
    output_tokens = attributes.get(attr.OUTPUT_TOKENS, attributes.get(attr.LEGACY_OUTPUT_TOKENS))
    if operation in _LLM_OPERATIONS or input_tokens is not None or output_tokens is not None:
        session.totals.add_llm_call(input_tokens, output_tokens)
    elif operation == attr.OP_EXECUTE_TOOL:
        session.totals.add_tool_call()


def attach_processor(provider: Any) -> None:
    """Add the processor to an SDK provider, once per provider."""
    add = getattr(provider, "add_span_processor", None)
    if add is None or provider in _providers:
        return
    _providers.add(provider)
    add(SessionSpanProcessor())
