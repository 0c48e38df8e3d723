"""Shared checks of the reliability suite: scale, validity of exported spans, figures.

``AGENTOPS_RELIABILITY_FULL=1`` switches every heavy case from its CI count to the full
count named in the issue (``scale(ci, full)``).
"""

from __future__ import annotations

import gc
import logging
import os
import weakref
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan
from support.runtime import end_everything, setting

import opentelemetry_instrumentation_agentops as agentops

FULL = os.environ.get("AGENTOPS_RELIABILITY_FULL", "").strip().lower() in {"1", "true", "yes"}
LOGGER = "opentelemetry_instrumentation_agentops"

# What the suite checked, printed at the end of the run (conftest.pytest_terminal_summary).
LEDGER: Counter[str] = Counter()
SUBPROCESS_PEAK_KB: dict[str, int] = {}

INT64 = range(-(2**63), 2**63)
UINT64 = range(2**64)
MAX_SEQUENCE = 128  # elements of one array attribute
TRUNCATED = "...[truncated]"  # the end of every cut text (docs/operations.rst)


def scale(ci: int, full: int) -> int:
    """``full`` with AGENTOPS_RELIABILITY_FULL=1, else the CI count."""
    return full if FULL else ci


def text_limit() -> int:
    """The longest text the package may export: the content cap (captured content) or 1024
    (names, reasons, messages), whichever is larger, plus the truncation mark."""
    return max(setting("content_max_length"), 1024) + len(TRUNCATED)


# -- validity of exported spans -------------------------------------------------------


def _valid_text(value: str, where: str) -> None:
    assert len(value) <= text_limit(), f"{where}: {len(value)} characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise AssertionError(f"{where}: not UTF-8 encodable ({error.reason})") from None


def _valid_scalar(value: Any, where: str) -> type:
    kind = type(value)
    assert kind in (str, bool, int, float), f"{where}: {kind.__name__} is not an OTel value"
    if kind is str:
        _valid_text(value, where)
    elif kind is int:
        assert value in INT64, f"{where}: {value} does not fit in a signed 64-bit integer"
    return kind


def assert_valid_attributes(attributes: Any, where: str) -> None:
    for key, value in (attributes or {}).items():
        _valid_text(key, f"{where} key")
        if isinstance(value, (tuple, list)):
            assert len(value) <= MAX_SEQUENCE, f"{where} {key}: {len(value)} elements"
            kinds = {_valid_scalar(v, f"{where} {key}[]") for v in value}
            assert len(kinds) <= 1, f"{where} {key}: mixed array {kinds}"
        else:
            _valid_scalar(value, f"{where} {key}")


def assert_valid_span(span: ReadableSpan) -> None:
    """Name, attributes, events, links and times are what OTel and OTLP accept, within caps."""
    where = f"span {span.name[:60]!r}"
    _valid_text(span.name, f"{where} name")
    assert span.start_time in UINT64 and span.end_time in UINT64, (span.start_time, span.end_time)
    assert span.start_time <= span.end_time, where
    assert_valid_attributes(span.attributes, where)
    if span.status.description is not None:
        _valid_text(span.status.description, f"{where} status")
    for event in span.events:
        _valid_text(event.name, f"{where} event name")
        assert event.timestamp in UINT64, f"{where} event time {event.timestamp}"
        assert_valid_attributes(event.attributes, f"{where} event {event.name!r}")
    for link in span.links:
        assert_valid_attributes(link.attributes, f"{where} link")


class _EncodeErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.messages.append(record.getMessage())


def assert_encodable(spans: Sequence[ReadableSpan]) -> None:
    """The OTLP encoder takes the spans whole: no exception, no attribute dropped."""
    handler = _EncodeErrors()
    logger = logging.getLogger("opentelemetry.exporter.otlp.proto.common")
    logger.addHandler(handler)
    try:
        encode_spans(spans).SerializeToString()
    finally:
        logger.removeHandler(handler)
    assert handler.messages == [], handler.messages[:3]


def assert_valid_export(spans: Sequence[ReadableSpan]) -> int:
    """Every span valid and the batch OTLP-encodable; returns how many were checked."""
    for span in spans:
        assert_valid_span(span)
    if spans:
        assert_encodable(spans)
    LEDGER["spans checked"] += len(spans)
    return len(spans)


# -- sessions -----------------------------------------------------------------------


def by_trace(spans: Iterable[ReadableSpan]) -> dict[int, list[ReadableSpan]]:
    grouped: dict[int, list[ReadableSpan]] = defaultdict(list)
    for span in spans:
        grouped[span.context.trace_id].append(span)
    return grouped


def assert_session_traces(
    spans: Sequence[ReadableSpan], expected: dict[str, Counter[str]], sessions: dict[str, Any]
) -> None:
    """Each session's trace holds exactly the expected span names, every span stamped with
    that session's id and parented inside the trace; nothing else was exported."""
    grouped = by_trace(spans)
    assert len(grouped) == len(expected), (len(grouped), len(expected))
    for key, names in expected.items():
        session = sessions[key]
        trace_spans = grouped.get(session.trace_id, [])
        # A session running past the live interval (10 s) also has snapshot spans of its root.
        live = [s for s in trace_spans if s.attributes.get("agentops.session.live") is True]
        assert Counter(s.name for s in trace_spans if s not in live) == names, key
        assert all(s.start_time == s.end_time and s.parent is not None for s in live), key
        ids = {s.context.span_id for s in trace_spans}
        for span in trace_spans:
            assert span.attributes["session.id"] == session.session_id, (key, span.name)
            if span.parent is None:
                assert span.name.startswith("session"), (key, span.name)
            else:
                assert span.parent.span_id in ids, (key, span.name)
    LEDGER["sessions checked"] += len(expected)
    LEDGER["spans checked"] += len(spans)


def assert_released(refs: Sequence[weakref.ref]) -> None:
    """No Session object outlives its run (registries, contexts, thread locals)."""
    gc.collect()
    alive = [r() for r in refs if r() is not None]
    assert alive == [], f"{len(alive)} of {len(refs)} sessions still referenced: {alive[:3]}"
    assert agentops.get_active_sessions() == []


def reset(exporter_spans: Any) -> None:
    """Between hypothesis examples: what the autouse fixture does between tests."""
    end_everything()
    exporter_spans.clear()
