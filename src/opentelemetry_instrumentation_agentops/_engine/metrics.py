"""Session metrics: one set of values per session, recorded when it ends.

Instruments (``agentops.session.duration``, ``.active``, ``.token.usage``, ``.llm_calls``,
``.tool_calls``, ``.errors``, ``.cost``) are made once per MeterProvider: the one given to
``instrument(meter_provider=...)``, else the global one. Histograms take one value per
session, so their count is a number of sessions; attributes are bounded (end state, token
type), never a session id, name or tag. A session is measured where it started, so its
-1 on ``active`` goes where its +1 went; a failing provider is logged once, never raised.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from opentelemetry import metrics

from .._runtime.owner import RUNTIME
from .._runtime.settings import logger
from ..version import __version__
from . import attributes as attr
from .types import SessionLike

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
_BY_STATE = MappingProxyType({state: _attributes(state) for state in _END_STATES})
_INPUT = MappingProxyType({state: _attributes(state, "input") for state in _END_STATES})
_OUTPUT = MappingProxyType({state: _attributes(state, "output") for state in _END_STATES})


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


_API_PACKAGE = "opentelemetry.metrics"


def records_nothing(provider: object, api_package: str = _API_PACKAGE) -> bool:
    """Whether ``provider`` is the API's own: its no-op, or the proxy it hands out until one is set.

    Every provider that records is someone else's (the SDK's lives in ``opentelemetry.sdk``).
    ``api_package`` is the API module of the signal: metrics by default, ``opentelemetry._logs``.
    """
    module = type(provider).__module__
    return module == api_package or module.startswith(api_package + ".")


def current_meter_provider() -> object:
    # `is None`, not `or`: a provider object's truth test is not ours to call.
    explicit = RUNTIME.settings.meter_provider
    return explicit if explicit is not None else metrics.get_meter_provider()


def instruments() -> Instruments | None:
    """The instruments to record on now, or None when metrics are off or go nowhere."""
    settings = RUNTIME.settings
    if not settings.metrics or settings.disabled:
        return None
    cache, provider = RUNTIME.meters, current_meter_provider()
    if provider is cache.provider:  # the hot path: one identity check
        return cache.value
    return cache.lookup(provider, _make_instruments)


def _make_instruments(provider: Any) -> Instruments | None:
    if records_nothing(provider):
        return None
    try:
        return Instruments(provider.get_meter(attr.TRACER_NAME, __version__))
    except Exception:  # a broken provider must not break every session: warn once
        _warn_once(f"The meter provider {type(provider).__name__} cannot make instruments")
        return None


def _warn_once(what: str) -> None:
    if RUNTIME.once(what):
        logger.warning("%s; session metrics are not recorded.", what, exc_info=True)


def session_started(session: SessionLike) -> None:
    """A session started: one more active session, on the instruments it is measured on."""
    try:
        made = instruments()
        if made is not None:
            made.active.add(1)
            session.instruments = made
    except Exception:  # never break the application
        _warn_once("Recording a session start failed")


def session_ended(session: SessionLike) -> None:
    """A session ended: its duration and totals, by end state; one active session less."""
    try:
        # A session is measured where it started: no second provider lookup at its end, and
        # its -1 goes where its +1 went.
        made = session.instruments
        if made is None:
            return
        session.instruments = None
        made.active.add(-1)
        if RUNTIME.settings.metrics and not RUNTIME.settings.disabled:
            _record_end(made, session)
    except Exception:  # never break the application
        _warn_once("Recording a session end failed")


def _record_end(made: Instruments, session: SessionLike) -> None:
    state = session.end_state or "Indeterminate"
    by_state = _BY_STATE.get(state) or _BY_STATE["Indeterminate"]
    totals = session.counts
    made.duration.record(session.duration_seconds, by_state)
    made.tokens.record(totals.input_tokens, _INPUT.get(state, _INPUT["Indeterminate"]))
    made.tokens.record(totals.output_tokens, _OUTPUT.get(state, _OUTPUT["Indeterminate"]))
    made.llm_calls.record(totals.llm_calls, by_state)
    made.tool_calls.record(totals.tool_calls, by_state)
    made.errors.record(totals.errors, by_state)
    if totals.cost is not None:
        made.cost.record(totals.cost, by_state)
