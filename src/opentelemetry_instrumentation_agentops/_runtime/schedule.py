"""The snapshot schedule: a heap of due times and the one daemon thread that works through it.

Pushing an entry takes a lock the thread never holds while it works, so starting a
session never waits on a snapshot being made. Entries hold weak references: a session
that ended (or is gone) when its entry comes due is dropped there.
"""

from __future__ import annotations

import contextvars
import heapq
import itertools
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from .settings import logger

MAX_GAP = 600.0  # seconds: the longest wait between two snapshots of one session
THREAD_NAME = "agentops-live"

# (due on the monotonic clock, push order, weak session, seconds since the previous due time)
Entry = tuple[float, int, "weakref.ref[Any]", float]
Fire = Callable[[Any], None]


class Schedule:
    """Calls ``fire(session)`` when each entry comes due; the next due time doubles the gap."""

    def __init__(self) -> None:
        self.condition = threading.Condition(threading.Lock())
        self.heap: list[Entry] = []
        self.order = itertools.count()
        self.thread: threading.Thread | None = None
        self.stopped = False
        self.fire: Fire | None = None

    def push(self, due: float, session_ref: weakref.ref[Any], gap: float, fire: Fire) -> None:
        entry = (due, next(self.order), session_ref, gap)
        with self.condition:
            if self.stopped:
                return
            heapq.heappush(self.heap, entry)
            if self.thread is None:
                self.fire = fire
                self._start_thread()
            elif self.heap[0] is entry:  # the thread sleeps until a later time: wake it
                self.condition.notify()

    def _start_thread(self) -> None:
        thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        try:
            # In an empty context: a thread propagation (ours or another) must not hand the
            # session that happens to be current to a thread that outlives it.
            contextvars.Context().run(thread.start)
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

    def _next_due(self) -> list[Entry] | None:
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

    def _fire(self, entry: Entry) -> None:
        due_at, _, session_ref, gap = entry
        session = session_ref()
        fire = self.fire
        if session is None or session.ended or self.stopped or fire is None:
            return  # ended: its entry is dropped here, and the session is never seen again
        fire(session)
        gap = min(gap * 2, MAX_GAP)
        self.push(max(due_at + gap, time.monotonic()), session_ref, gap, fire)
