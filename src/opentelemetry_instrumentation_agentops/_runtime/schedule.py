"""The snapshot schedule: fresh sessions in start order, a heap of later due times, and the one
daemon thread that works through both.

Most sessions end before their first snapshot, so starting one does as little as it can:
a plain weak reference appended to ``fresh`` (``deque.append`` is atomic: no lock), and one
comparison. Sessions start in time order, so their first snapshots come due in that order: the
thread derives the front's due time from the session's own clock when it looks (how long it
has run, on the wall clock of its root's start, becomes a monotonic due time then), fires it
if the session still runs, and only then puts it on the heap for its later snapshots (each
gap twice the last, at most ``MAX_GAP``). The heap is on the monotonic clock.

A start wakes the thread only when the thread went idle (``limit`` is -1 then), after a whole
interval with no fresh session: with one, the thread already sleeps no later than the front's
due time, and every later start comes due after it; with none for less than an interval, it
looks again when that interval is over, before any session started since comes due.

The same comparison bounds ``fresh``: once it holds more than ``limit`` references, the start
compacts it, keeping the running sessions', and the next compaction waits until twice as many
as it kept, plus ``SLACK``, are there: one that looks at 2k + SLACK references comes after at
least k + SLACK starts (amortized O(1) a start).
"""

from __future__ import annotations

import contextvars
import heapq
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from .settings import logger

MAX_GAP = 600.0  # seconds: the longest wait between two snapshots of one session
THREAD_NAME = "agentops-live"
SLACK = 64  # references of ended sessions kept beyond twice the running ones' before a compaction
IDLE = -1  # ``limit`` while the thread waits with no fresh session: the next start wakes it

# Given by the engine (``snapshots.py``): ``interval()``, the live interval now (read when the
# thread looks, not at each start); ``until_first(session, interval)``, the seconds until the
# session's first snapshot, or None when it gets none (its root is not recorded); ``fire``.
Hooks = tuple[
    Callable[[], float],
    Callable[[Any, float], "float | None"],
    Callable[[Any], None],
]


class Entry(weakref.ref[Any]):
    """A weak reference to a session after its first snapshot, with its next due time (on the
    monotonic clock) and the seconds since its previous one: one object per long session."""

    __slots__ = ("due", "gap")

    def __new__(cls, session: Any, due: float, gap: float) -> Entry:
        return super().__new__(cls, session)

    def __init__(self, session: Any, due: float, gap: float) -> None:
        self.due, self.gap = due, gap

    def __lt__(self, other: Entry) -> bool:  # the heap's order
        return self.due < other.due


class Schedule:
    """Fires each fresh session's first snapshot when it comes due, then its later ones."""

    def __init__(self) -> None:
        self.condition = threading.Condition(threading.Lock())
        # Sessions not yet snapshotted, in start order; appended without the lock, taken off
        # (by the thread, or a compaction) with it.
        self.fresh: deque[weakref.ref[Any]] = deque()
        self.heap: list[Entry] = []
        self.bound = SLACK  # a compaction when ``fresh`` outgrows it
        self.limit = IDLE  # what a start compares len(fresh) with: ``bound``, or IDLE
        self.thread: threading.Thread | None = None
        self.stopped = False
        self.hooks: Hooks | None = None
        self.quiet_until: float | None = None  # the thread's: when it goes idle if none starts

    def add(self, session: Any, hooks: Hooks) -> None:
        """Give ``session`` its snapshots (called by every session start while they are on)."""
        fresh = self.fresh
        fresh.append(weakref.ref(session))
        if len(fresh) > self.limit:
            self._attend(hooks)

    def _attend(self, hooks: Hooks) -> None:
        """The rare part of a start: the first one starts the thread, one after the thread went
        idle wakes it, one past the bound compacts ``fresh``."""
        with self.condition:
            if self.thread is None and not self.stopped:
                self.hooks = hooks
                self._start_thread()
            elif self.limit == IDLE:
                self.condition.notify()
            if self.stopped:  # at exit, or no thread could start: nothing is kept
                self.fresh.clear()
                self.limit = IDLE
                return
            if len(self.fresh) > self.bound:
                self._compact()
            self.limit = self.bound

    def _compact(self) -> None:
        """Keep only the running sessions' references, in order (the lock is held): the oldest
        ``n`` are taken off the front and the kept ones put back there, so starts appending
        meanwhile lose nothing and stay behind them."""
        fresh, kept = self.fresh, []
        popleft = fresh.popleft
        for _ in range(len(fresh)):
            ref = popleft()
            if (session := ref()) is not None and not session.ended:
                kept.append(ref)
        fresh.extendleft(reversed(kept))
        self.bound = 2 * len(kept) + SLACK

    def _start_thread(self) -> None:
        thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        try:
            # In an empty context: a thread propagation (ours or another) must not hand the
            # session that happens to be current to a thread that outlives it.
            contextvars.Context().run(thread.start)
        except RuntimeError:  # no new threads at interpreter shutdown
            self.stopped = True
            self.fresh.clear()
            self.heap.clear()
            return
        self.thread = thread

    def stop(self) -> None:
        with self.condition:
            self.stopped = True
            self.fresh.clear()
            self.heap.clear()
            self.limit = IDLE  # a start after this clears what it appended
            self.condition.notify_all()

    def watched(self) -> list[Any]:
        """Every session the schedule holds, fresh ones first (None once one is gone)."""
        with self.condition:
            refs: list[weakref.ref[Any]] = [*self.fresh, *self.heap]
        return [ref() for ref in refs]

    def _front(self, now: float, interval: float) -> float | None:
        """The front fresh session's due time, dropping the references of sessions that ended,
        are gone or get no snapshot (the lock is held); None when there is none."""
        fresh, until_first = self.fresh, self.hooks[1]  # type: ignore[index]
        while fresh:
            session = fresh[0]()
            if session is not None and not session.ended and interval > 0:
                seconds = until_first(session, interval)
                if seconds is not None:
                    return now + seconds
            fresh.popleft()
        return None

    def _next_due(self) -> tuple[list[tuple[Any, float, float]], list[Entry]] | None:
        """Wait for what is due and take it off: first snapshots (reference, due, interval)
        and heap entries. None once stopped.

        With no fresh session, the thread still looks again one interval later (a session
        started meanwhile is not due before that), and only after a whole interval with none
        waits for a start to wake it: sessions whose roots are not recorded, each dropped
        here, wake it once an interval, not once each.
        """
        with self.condition:
            while not self.stopped:
                now, interval = time.monotonic(), self.hooks[0]()  # type: ignore[index]
                firsts = []
                while (front := self._front(now, interval)) is not None and front <= now:
                    firsts.append((self.fresh.popleft(), front, interval))
                later = []
                while self.heap and self.heap[0].due <= now:
                    later.append(heapq.heappop(self.heap))
                if firsts or later:
                    return firsts, later
                wake = front
                if front is not None:
                    self.quiet_until = None
                elif self.quiet_until is None:
                    wake = self.quiet_until = now + max(interval, 0.0)
                elif now < self.quiet_until:
                    wake = self.quiet_until
                else:  # a whole interval with no fresh session: idle until a start
                    self.limit = IDLE  # before looking again: a start after this look wakes us
                    if self.fresh:
                        self.limit = self.bound
                        continue
                if self.heap and (wake is None or self.heap[0].due < wake):
                    wake = self.heap[0].due
                self.condition.wait(None if wake is None else wake - now)
            return None

    def _run(self) -> None:
        while (due := self._next_due()) is not None:
            firsts, later = due
            for ref, when, interval in firsts:
                self._fire(ref, when, interval)
            for entry in later:
                self._fire(entry, entry.due, entry.gap)

    def _fire(self, ref: weakref.ref[Any], due: float, gap: float) -> None:
        """Snapshot the session now, and put it on the heap for its next one."""
        session = ref()
        if session is None or session.ended or self.stopped or self.hooks is None:
            return  # ended: its reference is dropped here, and the session is never seen again
        try:
            self.hooks[2](session)
        except Exception:  # the thread must outlive any one snapshot
            logger.debug("a live snapshot failed", exc_info=True)
        gap = min(gap * 2, MAX_GAP)
        # From the snapshot just made when it came late (a busy machine): never two at once.
        entry = Entry(session, max(due, time.monotonic()) + gap, gap)
        with self.condition:
            if not self.stopped:
                heapq.heappush(self.heap, entry)
