"""Strict mode: each misuse raises its documented AgentOpsError subclass, with the message
that default mode logs, and nothing else ever escapes.

``init(strict=True)`` (or ``OTEL_INSTRUMENTATION_AGENTOPS_STRICT=true``) turns the warnings of
design.md section 7 into exceptions. For every kind of misuse, inputs drawn by Hypothesis are
run twice: in default mode (the warning is logged, nothing raised) and in strict mode (the
error is raised); the error's class is the documented one and its message is the warning's.
Then the bad-input scenarios run in strict mode: only AgentOpsError may come out, and the
sessions stay consistent (each ended one exported once).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry import context
from support.runtime import configure

import opentelemetry_instrumentation_agentops as agentops
from opentelemetry_instrumentation_agentops import (
    AgentOpsError,
    AmbiguousSessionError,
    InvalidArgumentError,
    InvalidEndStateError,
    NoSessionError,
    SessionEndedError,
)

from .checks import LEDGER, LOGGER, assert_valid_export, reset
from .test_bad_input import FUZZ, SCENARIOS
from .weird import HOSTILE, TEXT, Thunk, made

pytestmark = pytest.mark.reliability

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _no_session_current() -> None:
    context.attach(context.Context())


def _ambiguous(call: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        agentops.start_session(name="a")
        agentops.start_session(name="b")
        _no_session_current()
        return call()

    return run


def _ended() -> agentops.Session:
    session = agentops.start_session(name="ended")
    session.end_session("Success")
    return session


# What end_session() takes for an end state besides EndState, in any case and spacing.
END_STATE_NAMES = {"success", "succeeded", "ok", "fail", "failed", "failure", "error"}
END_STATE_NAMES |= {"indeterminate", "unset"}
UNKNOWN_STATES = st.one_of(TEXT, st.integers(), st.floats()).filter(
    lambda s: not (isinstance(s, str) and s.strip().lower() in END_STATE_NAMES)
)
NOT_ITERABLE = st.one_of(st.integers(), st.floats(), st.booleans())
NOT_A_SESSION_ID = TEXT.filter(lambda t: t.strip() != "" and not _is_uuid(t))
NOT_A_DICT = st.one_of(TEXT, st.integers(), st.lists(st.integers(), max_size=3))
ODD = st.sampled_from([t for t in HOSTILE if t.label not in ("an ActionEvent", "a Session")])


def built(value: Any) -> Any:
    """A drawn value, built if it is a Thunk (a fresh object on every call)."""
    return made(value) if isinstance(value, Thunk) else value


def _is_uuid(text: str) -> bool:
    try:
        return uuid.UUID(text).int != 0
    except ValueError:
        return False


# (documented error, strategy for the input, the call with that input)
MISUSES: dict[str, tuple[type[AgentOpsError], st.SearchStrategy, Callable[[Any], Any]]] = {
    "end_session, no session": (NoSessionError, st.none(), lambda _: agentops.end_session()),
    "record, no session": (
        NoSessionError,
        st.none(),
        lambda _: agentops.record(agentops.ActionEvent()),
    ),
    "add_tags, no session": (NoSessionError, TEXT, lambda t: agentops.add_tags(t)),
    "set_tags, no session": (NoSessionError, TEXT, lambda t: agentops.set_tags(t)),
    "record, ambiguous": (
        AmbiguousSessionError,
        st.none(),
        lambda _: _ambiguous(lambda: agentops.record(agentops.ToolEvent()))(),
    ),
    "end_session, ambiguous": (
        AmbiguousSessionError,
        st.none(),
        lambda _: _ambiguous(agentops.end_session)(),
    ),
    "unknown end state": (
        InvalidEndStateError,
        UNKNOWN_STATES,
        lambda state: agentops.start_session().end_session(state),
    ),
    "ending twice": (SessionEndedError, st.none(), lambda _: _ended().end_session("Fail")),
    "recording into an ended session": (
        SessionEndedError,
        st.none(),
        lambda _: _ended().record(agentops.ActionEvent()),
    ),
    "tags of an ended session": (SessionEndedError, TEXT, lambda t: _ended().add_tags(t)),
    "tags not iterable": (
        InvalidArgumentError,
        NOT_ITERABLE,
        lambda tags: agentops.start_session(tags=tags),
    ),
    "tags that fail to iterate": (
        InvalidArgumentError,
        ODD.filter(lambda t: t.label in ("Hostile()", "BrokenMapping()")),
        lambda tags: agentops.start_session(tags=built(tags)),
    ),
    "inherited id that names no session": (
        InvalidArgumentError,
        NOT_A_SESSION_ID,
        lambda value: agentops.start_session(inherited_session_id=value),
    ),
    "attributes not a dict": (
        InvalidArgumentError,
        NOT_A_DICT,
        lambda value: agentops.start_session(attributes=value),
    ),
    "record of a non-event": (
        InvalidArgumentError,
        st.one_of(st.integers(), TEXT),
        lambda value: agentops.start_session().record(value),
    ),
    "tracer_provider not a provider": (
        InvalidArgumentError,
        st.one_of(TEXT, st.integers(), ODD),
        lambda value: agentops.init(tracer_provider=built(value), auto_start_session=False),
    ),
    "end_session(session=) not a session": (
        InvalidArgumentError,
        st.one_of(TEXT.filter(bool), st.integers(), ODD),
        lambda value: agentops.end_session(session=built(value)),
    ),
}


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _logged() -> Any:
    handler = _Warnings()
    logger = logging.getLogger(LOGGER)
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


def _text(message: str) -> str:
    """A message with its session ids masked: each run makes new sessions."""
    return UUID.sub("<session id>", message)


@pytest.mark.parametrize("misuse", sorted(MISUSES))
@FUZZ
@given(data=st.data())
def test_strict_mode_raises_the_documented_error_with_the_default_mode_message(spans, misuse, data):
    error, inputs, call = MISUSES[misuse]
    given_input = data.draw(inputs, label="input")

    reset(spans)
    with _logged() as warnings:
        call(given_input)  # default mode: a warning, no exception
    reset(spans)
    configure(strict=True)
    with pytest.raises(AgentOpsError) as raised:
        call(given_input)

    assert type(raised.value) is error, raised.value
    message = str(raised.value)
    assert message, error
    assert _text(message) in [_text(m) for m in warnings], (message, warnings)
    LEDGER["hypothesis examples"] += 1
    LEDGER["strict errors checked"] += 1


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__.removeprefix("call_"))
@FUZZ
@given(data=st.data())
def test_strict_mode_raises_nothing_but_agentops_errors_and_stays_consistent(
    spans, quiet, scenario, data
):
    reset(spans)
    configure(strict=True)  # kept by a scenario's init() calls, unless one passes strict=False
    try:
        scenario(data)
    except AgentOpsError:
        LEDGER["strict errors checked"] += 1
    running = agentops.get_active_sessions()
    assert all(s.is_running for s in running)
    agentops.end_all_sessions()
    assert agentops.get_active_sessions() == []
    exported = spans.all()
    roots = Counter(s.context.trace_id for s in spans.roots())
    assert all(n == 1 for n in roots.values()), "a session exported twice"
    for session in running:
        assert roots[session.trace_id] == 1
    assert_valid_export(exported)
    LEDGER["hypothesis examples"] += 1
