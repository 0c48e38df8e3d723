"""Sampling whole sessions: every run of a conversation kept, or every run dropped.

A conversation served turn by turn is many traces, and sampling by trace id would keep
random turns of it. ``SessionSampler(ratio)`` decides at each root from a hash of its
``session.id`` (BLAKE2b, the same in every process; never ``hash()``, salted per process),
falls back to the trace id for roots whose id is their own trace's, and follows the
parent for every other span. ``OTEL_TRACES_SAMPLER=agentops_session`` with
``OTEL_TRACES_SAMPLER_ARG=<ratio>`` selects it without code.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Sequence
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import Link, SpanKind, get_current_span
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from . import attributes as attr
from .content import as_float, safe_str
from .propagation import uuid_text
from .types import InvalidArgumentError, report

ENTRY_POINT = "agentops_session"  # OTEL_TRACES_SAMPLER=agentops_session
_ID_KEYS = (attr.SESSION_ID, attr.CONVERSATION_ID)


def session_hash(session_id: str) -> int:
    """A 64-bit hash of ``session_id``, the same in every process and Python version."""
    data = session_id.encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def _session_id(attributes: Attributes) -> str | None:
    if not attributes:
        return None
    for key in _ID_KEYS:
        value = attributes.get(key)
        if isinstance(value, str) and value:
            return value
    return None


class _SessionRoot(Sampler):
    """The decision at a root: by the session id's hash, else by the trace id."""

    def __init__(self, ratio: float) -> None:
        self._by_trace_id = TraceIdRatioBased(ratio)
        self._bound = self._by_trace_id.bound  # the same scale: 64-bit values under the bound

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        session_id = _session_id(attributes)
        if session_id is None or session_id == uuid_text(trace_id):
            return self._by_trace_id.should_sample(
                parent_context, trace_id, name, kind, attributes, links, trace_state
            )
        if session_hash(session_id) < self._bound:
            return SamplingResult(
                Decision.RECORD_AND_SAMPLE, attributes, _trace_state(parent_context)
            )
        return SamplingResult(Decision.DROP, None, _trace_state(parent_context))

    def get_description(self) -> str:
        return f"SessionIdRatioBased{{{self._by_trace_id.rate}}}"


def _trace_state(parent_context: Context | None) -> TraceState | None:
    return get_current_span(parent_context).get_span_context().trace_state


class SessionSampler(ParentBased):
    """Keeps ``ratio`` of the sessions (0 to 1), each with all its runs and spans."""

    def __init__(self, ratio: float = 1.0) -> None:
        self.ratio = _valid_ratio(ratio)
        super().__init__(root=_SessionRoot(self.ratio))

    def get_description(self) -> str:
        return f"SessionSampler{{{self.ratio}}}"


def _valid_ratio(value: Any) -> float:
    ratio = as_float(value)
    if ratio is None or math.isnan(ratio):
        report(
            InvalidArgumentError,
            f"SessionSampler ratio must be a number from 0 to 1, got {safe_str(value, 100)!r}; "
            "every session is sampled.",
        )
        return 1.0
    if not 0.0 <= ratio <= 1.0:
        clamped = min(max(ratio, 0.0), 1.0)
        report(
            InvalidArgumentError,
            f"SessionSampler ratio must be from 0 to 1, got {ratio!r}; {clamped} is used.",
        )
        return clamped
    return ratio


def sampler_from_env() -> SessionSampler | None:
    """Ours when ``OTEL_TRACES_SAMPLER`` names it, else None (the SDK's choice from the env).

    A bare ``TracerProvider()`` knows only the SDK's built-in sampler names; the pipeline
    ``init()`` builds passes this, so the variable works there as under
    ``opentelemetry-instrument``.
    """
    if os.environ.get("OTEL_TRACES_SAMPLER", "").strip().lower() != ENTRY_POINT:
        return None
    return session_sampler(os.environ.get("OTEL_TRACES_SAMPLER_ARG"))


def session_sampler(argument: str | float | None = None) -> SessionSampler:
    """The ``agentops_session`` entry point: the SDK passes ``OTEL_TRACES_SAMPLER_ARG`` as text.

    No argument samples every session, as the SDK's own ratio samplers do.
    """
    if argument is None or (isinstance(argument, str) and not argument.strip()):
        return SessionSampler(1.0)
    if isinstance(argument, str):
        try:
            return SessionSampler(float(argument))
        except ValueError:
            pass  # reported below, as any other bad ratio
    return SessionSampler(argument)  # type: ignore[arg-type]
