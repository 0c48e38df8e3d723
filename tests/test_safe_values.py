"""Ids, names and tags from outside never forge a log line (design.md section 7).

A chat server takes its ``conversation_id`` from a request body: a session id with a
control character is refused like an over-long one (one warning naming the fix, a
generated id; strict mode raises), and every line the package logs escapes the control
characters of what it quotes, so one record is always one line.
"""

from __future__ import annotations

import io
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from conftest import LOGGER
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import opentelemetry_instrumentation_agentops as agentops
from opentelemetry_instrumentation_agentops import AgentOpsError, InvalidArgumentError

SESSION_ID = "session.id"
FORGED = "WARNING auth: user admin logged in from 10.0.0.1"
# Every character that is refused in an id and escaped in a log line: C0, DEL, C1 and the
# Unicode line and paragraph separators (str.splitlines breaks at all of those it knows).
CONTROLS = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))] + ["\u2028", "\u2029"]
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
UUID_TEXT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@contextmanager
def log_lines() -> Iterator[list[str]]:
    """The package's log, as a handler writing it to a stream shows it (INFO and up)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger(LOGGER)
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    lines: list[str] = []
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
        lines.extend(stream.getvalue().splitlines())


def assert_one_line_per_record(lines: list[str]) -> None:
    """Every line is one the package wrote: none starts as another logger's would."""
    for line in lines:
        assert line.startswith(("INFO " + LOGGER, "WARNING " + LOGGER)), lines
        assert not UNSAFE.search(line), line


# -- session ids -------------------------------------------------------------------------------


@pytest.mark.parametrize("char", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_a_session_id_with_a_control_character_is_refused(spans, warnings_log, char):
    given_id = f"c-1{char}x"
    session = agentops.start_session(session_id=given_id)
    session.end_session("Success")
    assert session.session_id != given_id
    assert UUID_TEXT.match(session.session_id)
    assert spans.root_of(session).attributes[SESSION_ID] == session.session_id
    (warning,) = [m for m in warnings_log() if "session_id" in m]
    assert "control characters" in warning and "generated id" in warning
    assert not UNSAFE.search(warning)


@pytest.mark.parametrize("char", ["\n", "\r", "\x1b", "\x00", "\x7f", "\x85"])
def test_strict_mode_raises_for_a_control_character_as_for_an_over_long_id(char):
    agentops.init(strict=True, auto_start_session=False)
    with pytest.raises(InvalidArgumentError) as over_long:
        agentops.start_session(session_id="x" * 257)
    with pytest.raises(InvalidArgumentError) as controlled:
        agentops.start_session(session_id=f"c-1{char}x")
    assert isinstance(controlled.value, AgentOpsError)
    assert type(controlled.value) is type(over_long.value)
    assert not UNSAFE.search(str(controlled.value))
    assert agentops.get_active_sessions() == []


def test_printable_ids_are_kept(spans):
    for given_id in ("chat-123", "ünïcödé ✓ id", "a b\\nc", "x" * 256):
        session = agentops.start_session(session_id=given_id)
        session.end_session("Success")
        assert session.session_id == given_id
        assert spans.root_of(session).attributes[SESSION_ID] == given_id


def _continuable(session) -> list[str]:
    return [session.session_id, str(uuid.UUID(session.session_id)), session.traceparent]


@pytest.mark.parametrize("char", ["\n", "\r", "\x1b", "\x00", "\t", "\x85", "\u2028"])
def test_an_inherited_id_with_a_control_character_is_refused(spans, warnings_log, char):
    original = agentops.start_session()
    original.end_session("Success")
    for text in _continuable(original):
        for bad in (f"{text}{char}", f"{char}{text}", f"{text[:8]}{char}{text[8:]}"):
            continued = agentops.start_session(inherited_session_id=bad)
            continued.end_session("Success")
            assert continued.trace_id != original.trace_id, repr(bad)
            assert continued.session_id != original.session_id
    warnings = [m for m in warnings_log() if "inherited_session_id" in m]
    assert len(warnings) == 9
    assert all("control characters" in m and not UNSAFE.search(m) for m in warnings)


def test_a_clean_inherited_id_still_continues_the_session(spans):
    original = agentops.start_session()
    original.end_session("Success")
    for text in _continuable(original):
        continued = agentops.start_session(inherited_session_id=f"  {text} ")
        continued.end_session("Success")
        assert continued.trace_id == original.trace_id
        assert continued.session_id == original.session_id


def test_strict_mode_raises_for_an_inherited_id_with_a_control_character():
    agentops.init(strict=True, auto_start_session=False)
    traceparent = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
    with pytest.raises(InvalidArgumentError):
        agentops.start_session(inherited_session_id=traceparent + "\n")
    with pytest.raises(InvalidArgumentError):
        agentops.init(inherited_session_id=str(uuid.uuid4()) + "\r")


# -- log lines -----------------------------------------------------------------------------------


def test_an_id_from_a_request_cannot_forge_a_log_line(spans):
    with log_lines() as lines:
        session = agentops.start_session(session_id=f"c-1\n{FORGED}")
        session.end_session("Success")
    assert_one_line_per_record(lines)
    assert not any(line.startswith(FORGED) for line in lines)
    assert len(lines) == 2  # the refusal, the summary


def test_a_name_with_control_characters_is_escaped_in_the_summary_line(spans):
    name = f"bot\n{FORGED}\r\x1b[2J\x00\u2028"
    with log_lines() as lines:
        session = agentops.start_session(name=name)
        session.end_session("Success")
    (summary,) = lines
    assert summary.startswith(f"INFO {LOGGER}: Session bot\\n{FORGED}\\r\\x1b[2J\\x00\\u2028 ended")
    assert_one_line_per_record(lines)
    assert spans.root_of(session).attributes["agentops.session.name"] == name  # spans keep it


def test_warnings_that_quote_a_value_stay_one_line(spans):
    with log_lines() as lines:
        session = agentops.start_session(name=f"n\n{FORGED}")
        session.end_session(f"Sucess\n{FORGED}", f"reason\n{FORGED}")  # an unknown end state
        session.end_session("Success")  # ended twice
        session.record(agentops.ActionEvent())  # recorded after the end
        session.add_tags([f"t\n{FORGED}"])  # tags after the end
        agentops.start_session(session_id="y" * 300, name="other").end_session()
        agentops.start_session(inherited_session_id=f"nope\n{FORGED}").end_session()
        agentops.start_session(tags=[f"tag\n{FORGED}"] * 200).end_session()
        agentops.update_trace_metadata(f"x\n{FORGED}")
        agentops.end_trace(f"x\n{FORGED}")
    assert len(lines) >= 12
    assert_one_line_per_record(lines)
    reason = spans.root_of(session).attributes["agentops.session.end_state_reason"]
    assert reason.startswith("end state 'Sucess\\n")  # the reason keeps the value, as repr


def test_strict_mode_messages_are_one_line():
    agentops.init(strict=True, auto_start_session=False)
    session = agentops.start_session(name="s")
    with pytest.raises(AgentOpsError) as raised:
        session.end_session(f"Maybe\n{FORGED}")
    assert "\n" not in str(raised.value)
    session.end_session("Success")


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    session_id=st.text(min_size=1, max_size=40) | st.sampled_from(CONTROLS),
    name=st.text(max_size=40),
    tag=st.text(max_size=20),
)
def test_no_id_name_or_tag_reaches_a_log_line_unescaped(spans, session_id, name, tag):
    spans.clear()
    with log_lines() as lines:
        session = agentops.start_session(tags=[tag], session_id=session_id, name=name or None)
        session.end_session("Success")
        session.end_session("Success")  # a warning quoting the id
    assert_one_line_per_record(lines)
    usable = session_id.strip() and not UNSAFE.search(session_id)
    assert (session.session_id == session_id) == bool(usable)
    assert not UNSAFE.search(session.session_id)
    assert spans.root_of(session).attributes[SESSION_ID] == session.session_id
