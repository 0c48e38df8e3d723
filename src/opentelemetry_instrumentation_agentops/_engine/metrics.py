"""Session metrics (design.md section 10): one set of values per session, at its end.

With a MeterProvider configured (the one given to
``AgentOpsInstrumentor().instrument(meter_provider=...)``, else the global one,
which ``opentelemetry-instrument`` or ``init()`` may have set up), every session
records:

===================================  ==================  ===================================
instrument                           kind, unit          attributes
===================================  ==================  ===================================
``agentops.session.duration``        histogram, ``s``    ``agentops.session.end_state``
``agentops.session.active``          up-down counter,    none (+1 at start, -1 at end)
                                     ``{session}``
``agentops.session.token.usage``     histogram,          ``gen_ai.token.type`` (``input``,
                                     ``{token}``         ``output``), end state
``agentops.session.llm_calls``       histogram,          ``agentops.session.end_state``
                                     ``{call}``
``agentops.session.tool_calls``      histogram,          ``agentops.session.end_state``
                                     ``{call}``
``agentops.session.errors``          histogram,          ``agentops.session.end_state``
                                     ``{error}``
``agentops.session.cost``            histogram, ``USD``  ``agentops.session.end_state``;
                                                         only when a cost is known
===================================  ==================  ===================================

The histograms take one value per session (per session and token type), so a
histogram's count is a number of sessions and its sum divided by its count is a
mean per session. Attributes are bounded: the end state (three values) and the
token type; never a session id, name or tag, so a thousand sessions give the
same handful of series as one.

``OTEL_INSTRUMENTATION_AGENTOPS_METRICS=false`` turns them off. The instruments
are made once per MeterProvider, on first use; while no MeterProvider is
configured (the API's no-op or its proxy) nothing is made or recorded. A session
is measured on the MeterProvider in use when it started (one started before any
was configured is not measured). A failing provider or instrument never reaches
the application: it is logged once.
"""

from __future__ import annotations

import weakref
from typing import Any

from opentelemetry import metrics

from .._runtime.settings import logger, settings
from ..version import __version__
from . import attributes as attr

DURATION = "agentops.session.duration"
ACTIVE = "agentops.session.active"
TOKEN_USAGE = "agentops.session.token.usage"
LLM_CALLS = "agentops.session.llm_calls"
TOOL_CALLS = "agentops.session.tool_calls"
ERRORS = "agentops.session.errors"
COST = "agentops.session.cost"

# Bucket advice for the SDK (a view the user configures still wins). Sessions last from
# milliseconds to hours; the token buckets are the GenAI semantic conventions' own.
DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
TOKEN_BUCKETS = tuple(4**i for i in range(14))  # 1, 4, 16, ... 67,108,864
COUNT_BUCKETS = (0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000)
COST_BUCKETS = (0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 50, 100)

_END_STATES = ("Success", "Fail", "Indeterminate")


def _attributes(end_state: str, token_type: str | None = None) -> dict[str, str]:
    found = {attr.SESSION_END_STATE: end_state}
    if token_type is not None:
        found[attr.TOKEN_TYPE] = token_type
    return found


# Made once: the attribute sets every record uses (the SDK keys its series by them).
_BY_STATE = {state: _attributes(state) for state in _END_STATES}
_INPUT = {state: _attributes(state, "input") for state in _END_STATES}
_OUTPUT = {state: _attributes(state, "output") for state in _END_STATES}


class Instruments:
    """The instruments of one meter, made together."""

    __slots__ = ("active", "cost", "duration", "errors", "llm_calls", "tokens", "tool_calls")

    def __init__(self, meter: metrics.Meter) -> None:
        def histogram(name: str, unit: str, description: str, buckets: tuple) -> Any:
            return meter.create_histogram(
                name, unit, description, explicit_bucket_boundaries_advisory=buckets
            )

        self.duration = histogram(DURATION, "s", "Duration of ended sessions", DURATION_BUCKETS)
        self.active = meter.create_up_down_counter(
            ACTIVE, "{session}", "Sessions started and not yet ended"
        )
        self.tokens = histogram(
            TOKEN_USAGE, "{token}", "Tokens used by one session, per type", TOKEN_BUCKETS
        )
        self.llm_calls = histogram(LLM_CALLS, "{call}", "LLM calls of one session", COUNT_BUCKETS)
        self.tool_calls = histogram(
            TOOL_CALLS, "{call}", "Tool calls of one session", COUNT_BUCKETS
        )
        self.errors = histogram(ERRORS, "{error}", "Errors of one session", COUNT_BUCKETS)
        self.cost = histogram(COST, "USD", "Cost of one session, when known", COST_BUCKETS)


class _InstrumentCache:
    provider: object = None
    instruments: Instruments | None = None


_cache = _InstrumentCache()
# The instruments each running session started on (only sessions that are measured).
_measured: weakref.WeakKeyDictionary[Any, Instruments] = weakref.WeakKeyDictionary()
_warned: set[str] = set()


def records_nothing(provider: object) -> bool:
    """Whether ``provider`` is the API's no-op, or the proxy it hands out until one is set.

    Unlike traces, the API has no public name for its proxy; its class name is stable.
    """
    return isinstance(provider, metrics.NoOpMeterProvider) or (
        type(provider).__name__ == "_ProxyMeterProvider"
    )


def current_meter_provider() -> object:
    # `is None`, not `or`: a provider object's truth test is not ours to call.
    explicit = settings.meter_provider
    return explicit if explicit is not None else metrics.get_meter_provider()


def use_meter_provider(provider: object) -> None:
    """Record on ``provider`` instead of the global MeterProvider (``instrument()``)."""
    settings.meter_provider = provider


def instruments() -> Instruments | None:
    """The instruments to record on now, or None when metrics are off or go nowhere."""
    if not settings.metrics or settings.disabled:
        return None
    provider = current_meter_provider()
    if provider is not _cache.provider:
        _refresh(provider)
    return _cache.instruments


def _refresh(provider: Any) -> None:
    made = None
    if not records_nothing(provider):
        try:
            made = Instruments(provider.get_meter(attr.TRACER_NAME, __version__))
        except Exception:  # a broken provider must not break every session: warn once
            _warn_once(f"The meter provider {type(provider).__name__} cannot make instruments")
    _cache.instruments, _cache.provider = made, provider


def _warn_once(what: str) -> None:
    if what not in _warned:
        _warned.add(what)
        logger.warning("%s; session metrics are not recorded.", what, exc_info=True)


def session_started(session: Any) -> None:
    """A session started (duck-typed: ``sessions.Session``): one more active session."""
    try:
        made = instruments()
        if made is not None:
            made.active.add(1)
            _measured[session] = made
    except Exception:  # never break the application
        _warn_once("Recording a session start failed")


def session_ended(session: Any) -> None:
    """A session ended: its duration and totals, by end state; one active session less."""
    try:
        # A session is measured where it started: no second provider lookup at its end, and
        # its -1 goes where its +1 went.
        made = _measured.pop(session, None) if _measured else None
        if made is None:
            return
        made.active.add(-1)
        if settings.metrics and not settings.disabled:
            _record_end(made, session)
    except Exception:  # never break the application
        _warn_once("Recording a session end failed")


def _record_end(made: Instruments, session: Any) -> None:
    state = session.end_state
    by_state = _BY_STATE.get(state) or _BY_STATE["Indeterminate"]
    totals = session.totals
    made.duration.record(session.duration_seconds, by_state)
    made.tokens.record(totals.input_tokens, _INPUT.get(state, _INPUT["Indeterminate"]))
    made.tokens.record(totals.output_tokens, _OUTPUT.get(state, _OUTPUT["Indeterminate"]))
    made.llm_calls.record(totals.llm_calls, by_state)
    made.tool_calls.record(totals.tool_calls, by_state)
    made.errors.record(totals.errors, by_state)
    if totals.cost is not None:
        made.cost.record(totals.cost, by_state)
