"""Ending every running session at once without losing any to a full export queue.

At exit, on SIGTERM or on an uncaught exception, every running session ends at once: a
chat server may hold thousands. The SDK's ``BatchSpanProcessor`` queues at most
``OTEL_BSP_MAX_QUEUE_SIZE`` spans (2048) and drops the oldest beyond that ("Queue full"),
so they are ended in chunks of at most one export batch (``OTEL_BSP_MAX_EXPORT_BATCH_SIZE``,
512, and never more than the queue) and the provider is flushed (its public
``force_flush()``) after each chunk, until a deadline. A flush that does not finish in the
time left (a collector that is down, hung or too slow) ends the waiting: the remaining
sessions are still ended, and one warning says how many may not be exported.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from opentelemetry import context

from .._runtime.owner import RUNTIME
from .._runtime.settings import logger
from .tracer import current_provider
from .types import EndState

QUEUE_ENV, BATCH_ENV = "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"
QUEUE_DEFAULT, BATCH_DEFAULT = 2048, 512  # the SDK's defaults
FLUSH_SECONDS = 5.0  # the most one flush (one batch of sessions) is waited for


def chunk_size() -> int:
    """Sessions ended between two flushes: one export batch, never more than the queue.

    Read from the SDK's own variables, as its processors are (a processor given other
    sizes in code cannot be asked: the SDK has no public API for them).
    """
    return max(1, min(_env_size(BATCH_ENV, BATCH_DEFAULT), _env_size(QUEUE_ENV, QUEUE_DEFAULT)))


def _env_size(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


def flush(timeout: float) -> bool:
    """Export what the provider in use holds; True when that finished within ``timeout`` s.

    The SDK's ``BatchSpanProcessor.force_flush`` does not honour its timeout: with a
    collector that hangs it blocks for every queued batch. It runs in a daemon thread
    that is given up on after the timeout; where no thread can start (Python 3.12 at
    interpreter shutdown), in this thread under an alarm (``_flush_here``).
    """
    force_flush = getattr(current_provider(), "force_flush", None)
    if force_flush is None or timeout <= 0:
        return False
    finished: list[bool] = []

    def run() -> None:
        try:
            finished.append(force_flush(max(1, int(timeout * 1000))) is not False)
        except Exception:
            logger.debug("force_flush failed", exc_info=True)

    try:
        worker = threading.Thread(target=run, name="agentops-flush", daemon=True)
        worker.start()
    except RuntimeError:  # no new threads at interpreter shutdown (Python 3.12)
        _flush_here(run, timeout)
        return bool(finished and finished[0])
    worker.join(timeout)
    return bool(finished and finished[0])


class _FlushTimedOut(BaseException):
    """Raised by the alarm into a flush that outlasted its bound (not an ``Exception``:
    the SDK's export loop catches those and would go on to the next batch)."""


def _flush_here(run: Callable[[], None], timeout: float) -> None:
    """``run()`` in this thread, interrupted by SIGALRM after ``timeout`` s when it can be.

    Only in the main thread, and only while SIGALRM has its default action and no timer
    of the program's runs: both are put back as they were. Elsewhere the flush is
    bounded by the SDK's exporter timeout alone.
    """
    main = threading.current_thread() is threading.main_thread()
    alarm = getattr(signal, "SIGALRM", None)
    if not main or alarm is None or signal.getsignal(alarm) is not signal.SIG_DFL:
        run()
        return
    if signal.getitimer(signal.ITIMER_REAL)[0]:
        run()
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise _FlushTimedOut

    token = context.attach(context.get_current())  # what the interrupted export attached
    signal.signal(alarm, on_alarm)
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, timeout)
            run()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _FlushTimedOut:  # also when it came as the timer was being stopped
        logger.debug("the flush at exit outlasted its %.1f s bound", timeout)
    finally:
        signal.signal(alarm, signal.SIG_DFL)
        context.detach(token)


def end_and_export(
    end_state: EndState,
    reason: str,
    wait: float,
    exception: BaseException | None = None,
    first: Callable[[], bool] | None = None,
    deadline: float | None = None,
) -> int:
    """End every running session, flushing after each chunk; returns how many ended.

    ``wait``: the most spent waiting for flushes, in all (each flush gets at most
    ``FLUSH_SECONDS`` of it: a collector that takes longer for one batch is not going
    to take the rest). ``deadline`` (``time.monotonic()``): when given, no session is
    ended after it (SIGTERM: the process dies then). ``first()`` ends what must end
    before the others (the process session).
    """
    ended_first = 0
    if first is not None:
        try:
            ended_first = int(first())
        except Exception:
            logger.debug("could not end the process session", exc_info=True)
    sessions = RUNTIME.sessions.active()
    total = len(sessions) + ended_first
    if not total:
        return 0
    can_flush = callable(getattr(current_provider(), "force_flush", None))
    size, flushed, waiting, ended = chunk_size(), 0, can_flush, ended_first
    for start in range(0, max(len(sessions), 1), size):
        if deadline is not None and time.monotonic() >= deadline:
            break
        for session in sessions[start : start + size]:
            try:
                session.end(end_state, reason, exception=exception)
            except Exception:
                logger.debug("could not end %r", session, exc_info=True)
        ended = min(start + size, len(sessions)) + ended_first
        if waiting:
            began = time.monotonic()
            timeout = min(FLUSH_SECONDS, wait)
            if deadline is not None:
                timeout = min(timeout, deadline - began)
            waiting = flush(timeout)
            wait -= time.monotonic() - began
            if waiting:
                flushed = ended
    if (can_flush or ended < total) and flushed < total:
        _warn_unexported(total - flushed, total, ended)
    return ended


def _warn_unexported(count: int, total: int, ended: int) -> None:
    logger.warning(
        "%d of %d sessions running as the process stops may not be exported: %s. The "
        "collector may be down, hung or too slow; see the exit times on the operations "
        "page of the docs.",
        count,
        total,
        "they could not be flushed in time"
        if ended == total
        else f"{total - ended} were not ended before the deadline",
    )
