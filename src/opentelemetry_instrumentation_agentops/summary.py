"""The one INFO line that summarises each ended session, as AgentOps users are used to.

It goes to the logger ``opentelemetry_instrumentation_agentops`` and shows when
your logging shows INFO; ``OTEL_INSTRUMENTATION_AGENTOPS_SESSION_SUMMARY=false``
turns it off::

    Session support bob ended Success | Duration: 0.3s | LLM calls: 2 | Tool calls: 1 |
    Actions: 2 | Errors: 0 | Tokens: 57 in, 49 out | Cost: $0.00 | trace_id=ec71d16b...
"""

from __future__ import annotations

import logging
from typing import Any

from .config import settings
from .log import logger, printable


def format_duration(seconds: float) -> str:
    """AgentOps' duration text: ``2.3s``, ``1m 2.3s``, ``1h 1m 2.3s``."""
    if 0 < seconds < 60:  # most sessions: what the general case below gives, in one step
        return f"{seconds:.1f}s"
    minutes, secs = divmod(max(seconds, 0.0), 60)
    hours, minutes = divmod(int(minutes), 60)
    parts = [f"{hours}h"] if hours else []
    if minutes:
        parts.append(f"{minutes}m")
    parts.append(f"{secs:.1f}s")
    return " ".join(parts)


def log_session(session: Any) -> None:
    """The summary line of an ended session (duck-typed: ``sessions.Session``)."""
    if not settings.log_summary or not logger.isEnabledFor(logging.INFO):
        return
    analytics = session.get_analytics()
    totals = session.totals
    logger.info(
        "Session %s ended %s | Duration: %s | LLM calls: %d | Tool calls: %d | Actions: %d | "
        "Errors: %d | Tokens: %d in, %d out | Cost: $%s | trace_id=%032x",
        printable(session.name or session.session_id),  # a request's newline stays in it
        session.end_state,
        analytics["Duration"],
        analytics["LLM calls"],
        analytics["Tool calls"],
        analytics["Actions"],
        analytics["Errors"],
        totals.input_tokens,
        totals.output_tokens,
        analytics["Cost"],
        session.trace_id,
    )
