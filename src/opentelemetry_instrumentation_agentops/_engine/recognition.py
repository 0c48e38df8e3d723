"""Sessions you can recognise: who a session served and what was said.

A session is looked for by its user and its conversation, not by a UUID. ``user.id``
(``start_session(user_id=...)``) is a start attribute of the root, so its snapshots carry
it too. With content capture on, and never otherwise, the root carries at its end the
run's input and output: what ``session.set_input()`` / ``set_output()`` gave, else the
last user message of the run's first LLM call and the answer of its last one, read from
the calls' spans in any convention of ``conventions.TABLE``. They are written as
OpenInference's ``input.value`` / ``output.value`` (what Phoenix's sessions view shows)
and GenAI's ``gen_ai.input.messages`` / ``gen_ai.output.messages``, capped and redacted as
all content is. With capture off nothing is read, kept or written.
"""

from __future__ import annotations

import json
from types import MappingProxyType
from typing import Any

from .._runtime.owner import RUNTIME
from . import attributes as attr
from .content import TRUNCATED, content_text, safe_str
from .conventions import INPUT_MESSAGES, OUTPUT_MESSAGES, message_text
from .propagation import MAX_SESSION_ID, is_valid_id
from .types import InvalidArgumentError, SessionEndedError, SessionLike, report

_FINISHED = "stop"  # the finish reason GenAI's output message requires


class Exchange:
    """What one run was asked and answered; a session holds one only while content is captured.

    ``given_*`` came from ``set_input()`` / ``set_output()`` as (text, MIME type); the
    others from the run's LLM calls, with the start of the earliest call that had a user
    message and the end of the latest one that answered.
    """

    __slots__ = (
        "first_input",
        "first_start",
        "given_input",
        "given_output",
        "last_end",
        "last_output",
    )

    def __init__(self) -> None:
        self.given_input: tuple[str, str] | None = None
        self.given_output: tuple[str, str] | None = None
        self.first_input: str | None = None
        self.first_start = 0
        self.last_output: str | None = None
        self.last_end = 0


class Recognisable:
    """What makes a session recognisable: its user, and what its run was asked and answered."""

    __slots__ = ("exchange", "user_id")

    def set_input(self: Any, value: Any) -> None:
        """What this run was asked (text, or any value as JSON), for its root at the end.

        Kept and exported only with content capture on; without it, the run's first LLM
        call's last user message is its input.
        """
        give(self, False, value)

    def set_output(self: Any, value: Any) -> None:
        """What this run answered, for its root at the end (content capture on only);
        without it, the answer of the run's last LLM call is its output."""
        give(self, True, value)


ROOT_KIND = MappingProxyType({attr.OPENINFERENCE_SPAN_KIND: attr.ROOT_SPAN_KIND})


def root_attributes(
    given: dict[str, Any] | None, user_id: Any
) -> tuple[dict[str, Any], str | None]:
    """A root's start attributes (``given``, with its kind and ``user.id``), and its user.

    Most sessions give neither: their root's kind alone, copied (session-same 3,365 to 3,326
    bytecodes a session).
    """
    if given is None and user_id is None:
        return ROOT_KIND.copy(), None
    start_attributes = {} if given is None else given
    return start_attributes, _describe_root(start_attributes, user_id)


def _describe_root(start_attributes: dict[str, Any], user_id: Any) -> str | None:
    """Add the root's kind and its ``user.id`` to ``start_attributes``; the session's user.

    The user is ``user_id``, else a ``user.id`` among the attributes the caller gave (AgentOps
    0.4's ``start_trace(tags={...})`` sets attributes that way).
    """
    start_attributes.setdefault(attr.OPENINFERENCE_SPAN_KIND, attr.ROOT_SPAN_KIND)
    user = None if user_id is None else valid_user_id(user_id)
    if user is not None:
        start_attributes[attr.USER_ID] = user
        return user
    given = start_attributes.get(attr.USER_ID)
    return given if isinstance(given, str) else None


def valid_user_id(value: Any) -> str | None:
    """``value`` as a user id (``is_valid_id``, as a session id; an int as its digits), else
    None after a warning."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if is_valid_id(value):
        return safe_str(value, MAX_SESSION_ID)
    report(
        InvalidArgumentError,
        f"user_id must be a non-empty string of at most {MAX_SESSION_ID} characters without "
        f"control characters (or an int), got {type(value).__name__}; the session has no user.",
    )
    return None


def give(session: SessionLike, output: bool, value: Any) -> None:
    """``session.set_input(value)`` / ``set_output(value)``: kept only while content is captured."""
    which = "output" if output else "input"
    if session.ended:
        report(
            SessionEndedError,
            f"session.set_{which}() after session {session.session_id} ended: its root is "
            f"exported already. Call set_{which}() before ending the session.",
        )
        return
    if value is None or not RUNTIME.settings.capture_content:
        return
    text = content_text(value)
    given = (text, attr.MIME_TEXT if isinstance(value, str) else attr.MIME_JSON)
    with RUNTIME.exchange_lock:
        exchange = _exchange(session)
        if output:
            exchange.given_output = given
        else:
            exchange.given_input = given


def observe_call(session: SessionLike, span: Any) -> None:
    """An LLM call's span ended in ``session`` while content is captured: its messages may be
    the run's first input or its last output (read outside the lock, kept under it)."""
    exchange = session.exchange
    start, end = span.start_time or 0, span.end_time or 0
    want_input = exchange is None or (
        exchange.given_input is None
        and (exchange.first_input is None or start < exchange.first_start)
    )
    want_output = exchange is None or (
        exchange.given_output is None and (exchange.last_output is None or end >= exchange.last_end)
    )
    attributes = span.attributes
    found_input = message_text(attributes, INPUT_MESSAGES) if want_input else None
    found_output = message_text(attributes, OUTPUT_MESSAGES) if want_output else None
    if found_input is None and found_output is None:
        return
    # Capped and redacted as all content, before it is kept.
    found_input = None if found_input is None else content_text(found_input)
    found_output = None if found_output is None else content_text(found_output)
    with RUNTIME.exchange_lock:
        exchange = _exchange(session)
        if found_input is not None and (
            exchange.first_input is None or start < exchange.first_start
        ):
            exchange.first_input, exchange.first_start = found_input, start
        if found_output is not None and (exchange.last_output is None or end >= exchange.last_end):
            exchange.last_output, exchange.last_end = found_output, end


def end_attributes(session: SessionLike) -> dict[str, Any]:
    """The root's input and output attributes at the session's end; the memory is let go."""
    with RUNTIME.exchange_lock:
        exchange, session.exchange = session.exchange, None
    if exchange is None or not RUNTIME.settings.capture_content:
        return {}
    found: dict[str, Any] = {}
    given = exchange.given_input
    if given is None and exchange.first_input is not None:
        given = (exchange.first_input, attr.MIME_TEXT)
    if given is not None:
        found[attr.INPUT_VALUE], found[attr.INPUT_MIME_TYPE] = given
        found[attr.INPUT_MESSAGES] = _messages_json("user", given[0])
    given = exchange.given_output
    if given is None and exchange.last_output is not None:
        given = (exchange.last_output, attr.MIME_TEXT)
    if given is not None:
        found[attr.OUTPUT_VALUE], found[attr.OUTPUT_MIME_TYPE] = given
        found[attr.OUTPUT_MESSAGES] = _messages_json("assistant", given[0], _FINISHED)
    return found


def _messages_json(role: str, text: str, finish_reason: str | None = None) -> str:
    """One GenAI message as its JSON list, the text cut so that the JSON stays within the cap
    (a JSON cut anywhere else would not parse)."""
    limit = RUNTIME.settings.content_max_length
    while True:
        message: dict[str, Any] = {"role": role, "parts": [{"type": "text", "content": text}]}
        if finish_reason is not None:
            message["finish_reason"] = finish_reason
        encoded = json.dumps([message], ensure_ascii=False)
        excess = len(encoded) - limit
        if excess <= 0 or not text:
            return encoded
        keep = max(len(text) - excess - len(TRUNCATED), 0)
        text = text[:keep] + TRUNCATED if keep else ""


def _exchange(session: SessionLike) -> Exchange:
    """The session's exchange, made at its first use (the caller holds the lock)."""
    exchange = session.exchange
    if exchange is None:
        exchange = session.exchange = Exchange()
    return exchange
