"""Live sessions: snapshot spans of a session while it runs.

A root span is exported only when it ends, so a long session would be invisible while
it runs and lost if the process is killed. A session still running
``OTEL_INSTRUMENTATION_AGENTOPS_LIVE_INTERVAL`` seconds after it started (default 10,
``0`` turns it off) gets a snapshot span: a zero-length child of the root with the
root's name, its start attributes, the totals so far and ``agentops.session.live``.
Snapshots repeat, each gap twice the last, at most 600 s apart, from the runtime's one
schedule thread (``_runtime/schedule.py``), which stops at exit and is not inherited by
a forked child.
"""

from __future__ import annotations

import time
from typing import Any

from opentelemetry.trace import SpanKind

from .._runtime.owner import RUNTIME
from . import attributes as attr
from .tracer import get_tracer
from .types import SessionLike

_NOT_SNAPSHOT = frozenset({attr.SESSION_END_STATE, attr.SESSION_END_STATE_REASON})


def watch(session: SessionLike) -> None:
    """Schedule ``session``'s snapshots (called once by every session start).

    One check when live sessions are off; else a weak reference appended to the schedule's
    fresh sessions, and nothing more: whether the root is recorded, and when the first
    snapshot is due, the schedule's thread asks later (``_until_first``).
    """
    if RUNTIME.settings.live_interval > 0:
        RUNTIME.snapshots.add(session, HOOKS)


def _interval() -> float:
    """The live interval now: the thread reads it when it looks at a fresh session."""
    return RUNTIME.settings.live_interval


def _until_first(session: SessionLike, interval: float) -> float | None:
    """Seconds until ``session``'s first snapshot, on its own clock (its root's start time);
    None when it gets none: its root is not recorded (a no-op provider, or a sampler that
    dropped it).

    A session that seems to have started in the future (the wall clock was set back since)
    is due now: a step back delays a first snapshot by at most one interval.
    """
    if not session.span.is_recording():
        return None
    elapsed = session.duration_seconds
    return interval - elapsed if elapsed >= 0 else 0.0


def snapshot(session: SessionLike) -> None:
    """Export one snapshot span of the running ``session`` now."""
    root = session.span
    attributes = _start_attributes(session)
    attributes.update(session.counts.as_attributes())
    attributes[attr.SESSION_LIVE] = True
    if session.ended:  # it ended while the attributes were read: its root says it all
        return
    now = time.time_ns()
    span = get_tracer().start_span(
        getattr(root, "name", None) or "session",
        session.context,  # holds the root span: the snapshot is its child
        SpanKind.INTERNAL,
        attributes,
        start_time=now,
    )
    span.end(now)


def _start_attributes(session: SessionLike) -> dict[str, Any]:
    """The root's attributes while it runs: what it started with, and its tags."""
    root_attributes = getattr(session.span, "attributes", None)
    for _ in range(3):  # another thread may be retagging the root right now
        try:
            if root_attributes is None:
                break
            return {k: v for k, v in root_attributes.items() if k not in _NOT_SNAPSHOT}
        except RuntimeError:
            continue
    return {attr.SESSION_ID: session.session_id, attr.CONVERSATION_ID: session.session_id}


# What the schedule's thread calls (``_runtime/schedule.Hooks``).
HOOKS = (_interval, _until_first, snapshot)
