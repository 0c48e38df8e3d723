"""Lookups in exported spans as ``support.span_file.read_spans`` returns them (dicts).

In-process tests read ``ReadableSpan`` objects through the ``spans`` fixture of
``tests/conftest.py`` instead; its ``roots()`` is the same lookup for those.
"""

from __future__ import annotations

from typing import Any

Span = dict[str, Any]

# Every span attribute that can carry content (prompts, arguments, results, screenshots, a
# run's input and output on its root).
CONTENT_KEYS = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "input.value",
    "output.value",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
    "agentops.event.params",
    "agentops.event.returns",
    "agentops.event.logs",
    "agentops.action.screenshot",
)


def one(spans: list[Span], name: str) -> Span:
    """The only span called ``name``."""
    found = [s for s in spans if s["name"] == name]
    assert len(found) == 1, f"expected one {name!r}, got {[s['name'] for s in spans]}"
    return found[0]


def roots(spans: list[Span], name: str | None = None) -> list[Span]:
    """The root spans (no parent), in export order; only those called ``name`` if given."""
    return [s for s in spans if s["parent_span_id"] is None and (name is None or s["name"] == name)]


def one_root(spans: list[Span], name: str) -> Span:
    """The only root span called ``name`` ("session x" for a session called x)."""
    found = roots(spans, name)
    assert len(found) == 1, f"expected one root {name!r}, got {[s['name'] for s in spans]}"
    return found[0]


def session_roots(spans: list[Span]) -> dict[str, list[Span]]:
    """Session root spans by session name ("session x" -> "x")."""
    found: dict[str, list[Span]] = {}
    for span in roots(spans):
        if span["name"].startswith("session"):
            found.setdefault(span["name"].removeprefix("session").strip(), []).append(span)
    return found


def in_trace(spans: list[Span], root: Span) -> list[Span]:
    """Every span of ``root``'s trace."""
    return [s for s in spans if s["trace_id"] == root["trace_id"]]
