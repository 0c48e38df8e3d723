"""Sessions that cross services: the spans another process made for each calling session.

``tests/test_services.py`` reads the spans of both processes (from an OTLP collector or from
span files, as ``support.span_file`` writes them) and the sessions the calling process
reported (name, ``session_id``, ``trace_id`` and the customer it served, its ``user.id``).
"""

from __future__ import annotations

import json
from typing import Any

Span = dict[str, Any]
STAMPS = ("session.id", "gen_ai.conversation.id", "user.id")


def customer(session: dict[str, Any]) -> str:
    """The customer a session served: "support alice" -> "alice" (its user.id)."""
    return str(session["name"]).removeprefix("support ")


def check_downstream_spans(
    sessions: list[dict[str, Any]], downstream: list[Span], *, stamped: bool, names: set[str]
) -> None:
    """Span by span: every downstream span of a session's trace carries that session's
    ``session.id``, ``gen_ai.conversation.id`` and ``user.id`` (``stamped``) or none of them,
    and never another session's id; spans outside the sessions' traces carry none."""
    ids = {s["session_id"] for s in sessions}
    assert len(ids) == len(sessions) > 1, sessions
    for session in sessions:
        own = session["session_id"]
        mine = [s for s in downstream if s["trace_id"] == session["trace_id"]]
        assert names <= {s["name"] for s in mine}, (session["name"], [s["name"] for s in mine])
        for span in mine:
            attributes = span["attributes"]
            where = (session["name"], span["name"])
            if stamped:
                assert attributes.get("session.id") == own, where
                assert attributes.get("gen_ai.conversation.id") == own, where
                assert attributes.get("user.id") == customer(session), where
            else:
                assert not set(STAMPS) & set(attributes), where
            text = json.dumps(attributes)
            assert not any(other in text for other in ids - {own}), where
    traces = {s["trace_id"] for s in sessions}
    for span in downstream:
        if span["trace_id"] not in traces:  # before any session (a connection's handshake)
            assert not set(STAMPS) & set(span["attributes"]), span["name"]
