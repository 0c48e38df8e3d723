"""What the package says when a session ends: its summary line, and what it may have missed.

The summary is one INFO line (``OTEL_INSTRUMENTATION_AGENTOPS_SESSION_SUMMARY=false``
turns it off), as AgentOps users are used to::

    Session support bob ended Success | Duration: 0.3s | LLM calls: 2 | Tool calls: 1 |
    Actions: 2 | Errors: 0 | Tokens: 57 in, 49 out | Cost: $0.00 | trace_id=ec71d16b...

A session whose root span was made while no provider was configured (no ``init()``, no
``opentelemetry-instrument`` yet) logs one warning per process when it ends; switching the
package off on purpose (``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=agentops``,
``OTEL_SDK_DISABLED=true``) does not.
"""

from __future__ import annotations

import logging
import sys

from opentelemetry.trace import INVALID_SPAN

from .._runtime.owner import RUNTIME
from .._runtime.settings import env_flag, logger
from .escaping import printable
from .instrumentations import LIBRARIES, is_instrumented
from .types import SessionLike

NOT_EXPORTED = "no provider"  # the keys of the once-per-process warnings
NO_LLM_CALL = "no LLM call"


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


def _label(session: SessionLike) -> str:
    """How a log line names ``session``: a request's newline in its name or id stays in it."""
    return printable(session.name or session.session_id)


def session_ended(session: SessionLike) -> None:
    """Everything said when a session ends: its summary line, then what it may have missed.

    Each is entered only when it may say something: most sessions say nothing more (81 to
    59 bytecodes a session, session-same).
    """
    if RUNTIME.settings.log_summary and logger.isEnabledFor(logging.INFO):
        _log_summary(session)
    warned = RUNTIME.warned
    if NOT_EXPORTED not in warned and session.span is INVALID_SPAN:
        _warn_not_exported(session)
    if NO_LLM_CALL not in warned and not session.counts.llm_calls:
        llm_calls = RUNTIME.llm_calls
        # Look again only once more modules are loaded: a session without calls, one after
        # another, paid 146 bytecodes a session for the same answer.
        loaded = len(sys.modules)
        if llm_calls.wanted and loaded != llm_calls.hint_modules:
            llm_calls.hint_modules = loaded
            _hint_no_llm_call(session)


def _log_summary(session: SessionLike) -> None:
    """The summary line of an ended session."""
    analytics = session.get_analytics()
    totals = session.counts
    logger.info(
        "Session %s ended %s | Duration: %s | LLM calls: %d | Tool calls: %d | Actions: %d | "
        "Errors: %d | Tokens: %d in, %d out | Cost: $%s | trace_id=%032x",
        _label(session),
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


def _warn_not_exported(session: SessionLike) -> None:
    """The once-per-process warning when nothing is exported.

    Told by the session's own root span, not by the provider in use when it ends: a root
    made by the API's no-op tracer (``INVALID_SPAN``: no provider configured when the session
    started) is never exported, whatever is configured later; one made through a proxy that
    leads to an SDK provider is.
    """
    if RUNTIME.settings.disabled or env_flag("OTEL_SDK_DISABLED"):
        return
    RUNTIME.warned.add(NOT_EXPORTED)
    logger.warning(
        "Session %s ended, but no TracerProvider was configured when it started, so nothing is "
        "exported. Call init() before the session starts (it sets up OTLP export), "
        "run the program under opentelemetry-instrument, or set an SDK TracerProvider "
        "(trace.set_tracer_provider) before sessions start and pass it to "
        "AgentOpsInstrumentor().instrument().",
        _label(session),
    )


def _hint_no_llm_call(session: SessionLike) -> None:
    """One hint per process when LLM calls may have gone unrecorded."""
    for library, (module, extra) in LIBRARIES.items():
        # is_instrumented() is cheap: its instrumentor classes are loaded once each.
        if module not in sys.modules or is_instrumented(library):
            continue
        RUNTIME.warned.add(NO_LLM_CALL)
        install = (
            f"pip install 'opentelemetry-instrumentation-agentops[{extra}]'"
            if extra
            else f"install an OpenTelemetry instrumentation of {library}"
        )
        logger.warning(
            "Session %s recorded no LLM call, and %s is imported with no OpenTelemetry "
            "instrumentation of it active: its calls are not traced. To record them, %s "
            "and call init() (or instrument %s yourself).",
            _label(session),
            module,
            install,
            library,
        )
        return
