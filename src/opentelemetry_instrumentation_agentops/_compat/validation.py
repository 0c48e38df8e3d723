"""agentops 0.4's ``validate_trace_spans``, answered from the local session.

AgentOps' own asks its API (with ``AGENTOPS_API_KEY``) whether the trace's
spans arrived. Redirected, it asks no server: it looks at the session of the
trace (the ``trace_context`` given, the session running on ``trace_id``, one
that ended on it recently, else the current one) and answers whether LLM calls
were recorded in that trace, with AgentOps' result keys (``trace_id``,
``span_count``, ``has_llm_spans``, ``llm_span_names``, ``metrics`` with
``total_tokens``, ``prompt_tokens``, ``completion_tokens``, ``total_cost``).
It raises agentops' ``ValidationError`` where agentops would: no LLM call with
``check_llm=True``, or fewer counted spans than ``min_spans`` (the session's
root and its LLM calls, tool calls and actions).

A reference to the original taken before the redirect gets no token from the
redirected ``get_jwt_token_sync``, so it skips validation and asks no server.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace

from .._api import functions
from .._engine.sessions import Session
from .._engine.types import SessionLike
from .._runtime.owner import RUNTIME

MAX_ENDED = 1000  # ended sessions remembered, for validate_trace_spans(trace_id=...)


def use_error(error_class: type[Exception]) -> None:
    """Raise agentops' own ``ValidationError`` (its programs catch it)."""
    RUNTIME.redirect.validation_error = error_class


def remember(session: SessionLike) -> None:
    """Session-end hook while redirected: keep the last ended sessions by trace."""
    redirect = RUNTIME.redirect
    with redirect.lock:
        redirect.ended[session.trace_id] = session
        while len(redirect.ended) > MAX_ENDED:
            redirect.ended.popitem(last=False)


def no_token(*args: Any, **kwargs: Any) -> None:
    """``get_jwt_token_sync``: no token, so the original validation asks no server."""
    return None


def _session_of(trace_id: Any, trace_context: Any) -> tuple[Session | None, str | None]:
    if trace_context is not None:
        session = functions.as_session(trace_context)
        if session is not None:
            return session, f"{session.trace_id:032x}"
        span = getattr(trace_context, "span", None)
        if span is not None:
            trace_id = f"{span.get_span_context().trace_id:032x}"
    if trace_id is None:
        session = RUNTIME.sessions.current()
        if session is not None:
            return session, f"{session.trace_id:032x}"
        span_context = trace.get_current_span().get_span_context()
        return None, f"{span_context.trace_id:032x}" if span_context.is_valid else None
    try:
        number = int(str(trace_id).replace("-", ""), 16)
    except ValueError:
        return None, str(trace_id)
    with RUNTIME.redirect.lock:
        session = RUNTIME.sessions.by_trace.get(number) or RUNTIME.redirect.ended.get(number)
    return session, f"{number:032x}"


def validate_trace_spans(
    trace_id: Any = None,
    trace_context: Any = None,
    max_retries: int = 10,
    retry_delay: float = 1.0,
    check_llm: bool = True,
    min_spans: int = 1,
    api_key: Any = None,
) -> dict[str, Any]:
    """Whether the trace's session recorded LLM calls, in agentops' result shape."""
    session, hex_id = _session_of(trace_id, trace_context)
    if hex_id is None:
        raise ValueError("No trace ID found. Provide either trace_id or trace_context parameter.")
    error = RUNTIME.redirect.validation_error
    if session is None:
        raise error(f"No session of this process recorded trace {hex_id}.")
    totals = session.counts
    span_count = 1 + totals.llm_calls + totals.tool_calls + totals.actions
    result = {
        "trace_id": hex_id,
        "span_count": span_count,
        "spans": [],
        "has_llm_spans": totals.llm_calls > 0,
        "llm_span_names": [],
        "metrics": {
            "total_tokens": totals.input_tokens + totals.output_tokens,
            "prompt_tokens": totals.input_tokens,
            "completion_tokens": totals.output_tokens,
            "total_cost": f"{totals.cost or 0.0:.4f}",
        },
    }
    if span_count < min_spans:
        raise error(
            f"Validation failed for trace {hex_id}: {span_count} span(s) counted in its "
            f"session, expected at least {min_spans}."
        )
    if check_llm and not result["has_llm_spans"]:
        raise error(
            f"No LLM activity detected in trace {hex_id}: its session recorded no LLM call. "
            "Install an OpenTelemetry instrumentation of your LLM client "
            "(pip install 'opentelemetry-instrumentation-agentops[openai]')."
        )
    return result
