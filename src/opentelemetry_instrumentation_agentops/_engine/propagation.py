"""Sessions across processes: the W3C traceparent or UUID that continues one.

A session is a trace, so ``start_session(inherited_session_id=X)`` continues it
in another process: from ``session.traceparent`` the new root is a child of the
remote span it names; from the session UUID (AgentOps' style) it is a new root
on the same trace id. Either way it has the same ``session.id``.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from .content import safe_str
from .types import InvalidArgumentError, report

_traceparent = TraceContextTextMapPropagator()


def uuid_text(value: int) -> str:
    """``str(uuid.UUID(int=value))`` without building a UUID: a session's id, per start."""
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def continuation(inherited: Any) -> tuple[int, Context | None]:
    """Trace id and remote parent named by a UUID or a W3C traceparent."""
    if inherited is None or (isinstance(inherited, str) and inherited == ""):
        return 0, None
    if isinstance(inherited, uuid.UUID):
        return inherited.int, None
    if isinstance(inherited, str):
        text = inherited.strip()
        if text.count("-") == 3 and len(text) == 55:
            parent = _traceparent.extract({"traceparent": text}, context=Context())
            span_context = trace.get_current_span(parent).get_span_context()
            if span_context.is_valid:
                return span_context.trace_id, parent
        else:
            with contextlib.suppress(ValueError):
                trace_id = uuid.UUID(text).int
                if trace_id:
                    return trace_id, None
    report(
        InvalidArgumentError,
        f"inherited_session_id {safe_str(inherited, 200)!r} is neither a session UUID nor a "
        "W3C traceparent (session.traceparent); a new session was started instead.",
    )
    return 0, None
