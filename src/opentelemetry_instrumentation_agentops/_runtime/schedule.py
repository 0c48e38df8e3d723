"""The snapshot schedule: a heap of due times and the one daemon thread that works through it.

Pushing an entry takes a lock the thread never holds while it works, so starting a
session never waits on a snapshot being made. Entries hold weak references: a session
that ended (or is gone) when its entry comes due is dropped there, and before that when
ended sessions' entries outnumber the running ones, so the heap is bounded by the
sessions still running, not by every session started within the first interval.
"""

from __future__ import annotations

import contextvars
import heapq
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from .settings import logger

MAX_GAP = 600.0  # seconds: the longest wait between two snapshots of one session
THREAD_NAME = "agentops-live"
SLACK = 64  # entries of ended sessions kept beyond the running ones before they are dropped

Fire = Callable[[Any], None]


class Entry(weakref.ref[Any]):
    """A weak reference to a session that carries its due time (on the monotonic clock) and
    the seconds since its previous one: one object per running session where a tuple of
    the two, a push counter and a plain weak reference took 100 bytes more."""

    __slots__ = ("due", "gap")

    def __new__(cls, session: Any, due: float, gap: float) -> Entry:
        return super().__new__(cls, session)

    def __init__(self, session: Any, due: float, gap: float) -> None:
        self.due, self.gap = due, gap

    def __lt__(self, other: Entry) -> bool:  # the heap's order
        return self.due < other.due


class Schedule:
    """Calls ``fire(session)`` when each entry comes due; the next due time doubles the gap."""

    def __init__(self) -> None:
        self.condition = threading.Condition(threading.Lock())
        self.heap: list[Entry] = []
        self.thread: threading.Thread | None = None
        self.stopped = False
        self.fire: Fire | None = None

    def push(
        self, session: Any, due: float, gap: float, fire: Fire, running: int | None = None
    ) -> None:
        """Call ``fire(session)`` at ``due``, unless ``session`` is gone or ended by then.

        ``running`` (how many sessions run, given when a session starts) bounds the heap:
        entries of ended sessions are dropped once they outnumber the running ones, however
        many sessions ended before their first snapshot came due (amortized O(1) a push).
        """
        entry = Entry(session, due, gap)
        with self.condition:
            if self.stopped:
                return
            if running is not None and len(self.heap) > 2 * running + SLACK:
                self._drop_ended()
            heapq.heappush(self.heap, entry)
            if self.thread is None:
                self.fire = fire
                self._start_thread()
            elif self.heap[0] is entry:  # the thread sleeps until a later time: wake it
                self.condition.notify()

    def _drop_ended(self) -> None:
        """Keep only the entries of sessions still running (the lock is held)."""
        kept = []
        for entry in self.heap:
            session = entry()
            if session is not None and not session.ended:
                kept.append(entry)
        heapq.heapify(kept)
        self.heap = kept

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
                wait = self.heap[0].due - time.monotonic()
                if wait > 0:
                    self.condition.wait(wait)
                    continue
                now, due = time.monotonic(), []
                while self.heap and self.heap[0].due <= now:
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
        session = entry()
        fire = self.fire
        if session is None or session.ended or self.stopped or fire is None:
            return  # ended: its entry is dropped here, and the session is never seen again
        fire(session)
        gap = min(entry.gap * 2, MAX_GAP)
        self.push(session, max(entry.due + gap, time.monotonic()), gap, fire)
