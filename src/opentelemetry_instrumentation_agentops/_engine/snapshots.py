"""Live sessions: snapshot spans of a session while it runs (design.md section 4).

A root span is exported only when it ends, so a long session is invisible
while it runs, and lost with its totals if the process is killed. A session
still running ``OTEL_INSTRUMENTATION_AGENTOPS_LIVE_INTERVAL`` seconds after it
started (default 10, fractions allowed, ``0`` turns it off) gets a **snapshot
span**:

- a child of the session's root, with the root's name and zero duration;
- the root's start attributes (``session.id``, ``gen_ai.conversation.id``,
  name, tags, the ``attributes`` given to ``start_session``);
- the totals so far (``agentops.session.llm_calls``, ``gen_ai.usage.*``, ...)
  and ``agentops.session.live = true``; never an end state.

Snapshots repeat while the session runs, each interval twice the last, at most
600 s apart: with the default, at 10 s, 30 s, 70 s, 150 s, ... after the start.
The latest one is what a backend shows of a session that is still running, or
of one whose process died before its root was exported.

One daemon thread makes them for the whole process, from a heap of due times
that holds weak references to the sessions. Starting a session only pushes an
entry onto it under a lock (the thread never holds that lock while it makes a
span), so the application is never blocked; a session that ends before its
next due time costs nothing more than its entry, dropped when it comes due.
The thread stops at interpreter exit, and a forked child starts with an empty
heap and no thread: it never snapshots its parent's sessions.
"""

from __future__ import annotations

import atexit
import heapq
import itertools
import os
import threading
import time
import weakref
from typing import Any

from opentelemetry.trace import SpanKind

from .._runtime.settings import logger, settings
from . import attributes as attr
from .tracer import get_tracer

MAX_GAP = 600.0  # seconds: the longest wait between two snapshots of one session
THREAD_NAME = "agentops-live"
_NOT_SNAPSHOT = frozenset({attr.SESSION_END_STATE, attr.SESSION_END_STATE_REASON})

# (due on the monotonic clock, push order, weak session, seconds since the previous due time)
_Entry = tuple[float, int, "weakref.ref[Any]", float]


class _Scheduler:
    """The heap of due snapshots and the one thread that makes them."""

    def __init__(self) -> None:
        self.condition = threading.Condition(threading.Lock())
        self.heap: list[_Entry] = []
        self.order = itertools.count()
        self.thread: threading.Thread | None = None
        self.stopped = False

    def push(self, due: float, session_ref: weakref.ref[Any], gap: float) -> None:
        entry = (due, next(self.order), session_ref, gap)
        with self.condition:
            if self.stopped:
                return
            heapq.heappush(self.heap, entry)
            if self.thread is None:
                self._start_thread()
            elif self.heap[0] is entry:  # the thread sleeps until a later time: wake it
                self.condition.notify()

    def _start_thread(self) -> None:
        _install_hooks()
        thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        try:
            thread.start()
        except RuntimeError:  # no new threads at interpreter shutdown
            self.stopped = True
            self.heap.clear()
            return
        self.thread = thread

    def stop(self) -> None:
        with self.condition:
            self.stopped = True
            self.heap.clear()
            self.condition.notify_all()

    def _next_due(self) -> list[_Entry] | None:
        """Wait for the entries that are due, and take them off the heap; None once stopped."""
        with self.condition:
            while not self.stopped:
                if not self.heap:
                    self.condition.wait()
                    continue
                wait = self.heap[0][0] - time.monotonic()
                if wait > 0:
                    self.condition.wait(wait)
                    continue
                now, due = time.monotonic(), []
                while self.heap and self.heap[0][0] <= now:
                    due.append(heapq.heappop(self.heap))
                return due
            return None

    def _run(self) -> None:
        while (due := self._next_due()) is not None:
            for entry in due:
                try:
                    self._fire(entry)
                except Exception:  # the thread must outlive any one snapshot
                    logger.debug("a live snapshot failed", exc_info=True)

    def _fire(self, entry: _Entry) -> None:
        due_at, _, session_ref, gap = entry
        session = session_ref()
        if session is None or session.ended or self.stopped:
            return  # ended: its entry is dropped here, and the session is never seen again
        snapshot(session)
        gap = min(gap * 2, MAX_GAP)
        self.push(max(due_at + gap, time.monotonic()), session_ref, gap)


_scheduler = _Scheduler()
_hooks_installed = False


def watch(session: Any) -> None:
    """Schedule ``session``'s snapshots (called once by every session start).

    Does nothing when live sessions are off or the root is not recorded (a
    no-op provider, or a sampler that dropped it).
    """
    interval = settings.live_interval
    if interval <= 0 or not session.span.is_recording():
        return
    _scheduler.push(time.monotonic() + interval, weakref.ref(session), interval)


def snapshot(session: Any) -> None:
    """Export one snapshot span of the running ``session`` now."""
    root = session.span
    attributes = _start_attributes(session)
    attributes.update(session.totals.as_attributes())
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


def _start_attributes(session: Any) -> dict[str, Any]:
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


def _stop_at_exit() -> None:
    _scheduler.stop()


def _after_fork_in_child() -> None:
    # The parent's thread does not exist here, and its lock may have been held at the fork.
    global _scheduler
    _scheduler = _Scheduler()


def _install_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    try:
        # Threading's exit hook runs before every atexit handler: no snapshot is made once
        # the sessions are being ended and the SDK shuts down.
        threading._register_atexit(_stop_at_exit)  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):
        atexit.register(_stop_at_exit)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
