"""Process lifecycle: exit, uncaught exceptions, SIGTERM and fork (design.md section 6).

- At normal exit, running sessions end Indeterminate. The handler is registered
  from ``threading``'s exit hook, which Python calls before it joins non-daemon
  threads and before any ``atexit`` handler: it is the last ``atexit`` handler, so
  it runs first, after the threads finished their own sessions and before the
  SDK's own ``atexit`` shutdown, whenever the TracerProvider was created.
- An uncaught exception in the main thread ends them Fail with the exception
  recorded; one in a worker thread is recorded as an error of that thread's
  session.
- SIGTERM with its default action (checked when ``init()`` or the instrumentor
  runs in the main thread): sessions end Fail, are flushed with a bound, and the
  process then dies of SIGTERM as it would have. A handler the application
  installed is left alone.
- In a forked child the parent's sessions are forgotten, never ended or
  re-exported; the child's own sessions work.

Sessions are duck-typed here (``end()``, ``record()``): this module sits below
``sessions.py``, which installs the handlers at its first start.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from .._runtime.registry import active_sessions, current_session, forget_inherited_sessions
from .._runtime.settings import logger
from .content import safe_str
from .events import ErrorEvent
from .tracer import current_provider
from .types import EndState

EXIT_REASON = "the process exited before the session ended"
FLUSH_TIMEOUT_MILLIS = 5000

_installed = False
_sigterm_installed = False
_previous_excepthook = sys.excepthook
_previous_thread_excepthook = threading.excepthook
_before_exit: list[Callable[[], bool]] = []  # run first at exit; True when they ended a session


def run_before_exit(callback: Callable[[], bool]) -> None:
    """Run ``callback`` at normal exit before the running sessions end Indeterminate."""
    if callback not in _before_exit:
        _before_exit.append(callback)


def install_exit_handlers() -> None:
    """Idempotent; called by every session start, so it costs one check."""
    global _installed, _previous_excepthook, _previous_thread_excepthook
    if _installed:
        return
    _installed = True
    try:
        threading._register_atexit(_register_last_atexit)  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):  # no hook, or already shutting down
        atexit.register(end_sessions_at_exit)
    _previous_excepthook = sys.excepthook
    sys.excepthook = _excepthook
    _previous_thread_excepthook = threading.excepthook
    threading.excepthook = _thread_excepthook
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)


def _after_fork_in_child() -> None:
    """The parent's sessions are not ours; the child's own must still be exported.

    A ``multiprocessing`` worker leaves with ``os._exit()`` right after threading's
    shutdown: no ``atexit`` handler runs, so neither the SDK's shutdown nor ours would
    export what the child's sessions queued. Threading's exit hook does run there.
    """
    forget_inherited_sessions()
    with contextlib.suppress(AttributeError, RuntimeError):
        threading._register_atexit(_end_sessions_of_child)  # type: ignore[attr-defined]


def _end_sessions_of_child() -> None:
    end_sessions(EndState.INDETERMINATE, EXIT_REASON)
    flush()


def end_sessions(end_state: EndState, reason: str, exception: BaseException | None = None) -> int:
    """End every running session; returns how many were ended."""
    sessions = active_sessions()
    for session in sessions:
        try:
            session.end(end_state, reason, exception=exception)
        except Exception:
            logger.debug("could not end %r", session, exc_info=True)
    return len(sessions)


def flush(timeout_millis: int = FLUSH_TIMEOUT_MILLIS) -> None:
    """Export what is queued, waiting at most ``timeout_millis``.

    The SDK's ``BatchSpanProcessor.force_flush`` does not honour its timeout: with a
    collector that hangs it blocks for every queued batch. It runs in a daemon thread
    that is given up on after the timeout. (Python 3.12 refuses new threads once the
    interpreter exits; there the flush at exit runs inline, bounded only by the SDK.)
    """
    force_flush = getattr(current_provider(), "force_flush", None)
    if force_flush is None:
        return

    def run() -> None:
        try:
            force_flush(timeout_millis)
        except Exception:
            logger.debug("force_flush failed", exc_info=True)

    try:
        worker = threading.Thread(target=run, name="agentops-flush", daemon=True)
        worker.start()
    except RuntimeError:  # no new threads at interpreter shutdown (Python 3.12+)
        run()
        return
    worker.join(timeout_millis / 1000)


def _register_last_atexit() -> None:
    """Python calls this before it joins non-daemon threads and before any ``atexit`` handler.

    Registering here makes ours the last ``atexit`` handler, so it runs first: after
    the threads finished their own sessions, before the SDK's shutdown, whenever the
    TracerProvider was created.
    """
    atexit.register(end_sessions_at_exit)


def end_sessions_at_exit() -> None:
    ended = False
    for callback in _before_exit:
        try:
            ended = callback() or ended
        except Exception:
            logger.debug("an exit callback failed", exc_info=True)
    if end_sessions(EndState.INDETERMINATE, EXIT_REASON) or ended:
        flush()


def _excepthook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
    _previous_excepthook(exc_type, exc, tb)  # the traceback first, then the export
    try:
        if end_sessions(EndState.FAIL, f"uncaught {exc_type.__name__}: {safe_str(exc)}", exc):
            flush()
    except Exception:
        pass


_RECORDED = "_agentops_recorded_uncaught"  # on an exception already recorded in its session


def record_uncaught_in_thread(error: BaseException) -> None:
    """Record an exception leaving a thread's ``run()`` in the thread's current session.

    Called by the thread propagation (``threads.py``) while the thread's own context, and so
    its own session, is still attached: by the time ``threading.excepthook`` runs, the
    context of ``start()`` is back, and with several sessions running none would be found.
    """
    if not isinstance(error, Exception):  # SystemExit ends a thread quietly
        return
    try:
        session = current_session()
        if session is not None:
            session.record(ErrorEvent(exception=error))
            setattr(error, _RECORDED, True)
    except Exception:  # telemetry never breaks the application
        logger.debug("could not record a thread's uncaught exception", exc_info=True)


def _thread_excepthook(args: Any) -> None:
    error = args.exc_value
    if error is not None and not getattr(error, _RECORDED, False):
        record_uncaught_in_thread(error)
    _previous_thread_excepthook(args)


def install_sigterm_handler() -> bool:
    """End sessions on SIGTERM, if SIGTERM still has its default action."""
    global _sigterm_installed
    if _sigterm_installed or threading.current_thread() is not threading.main_thread():
        return _sigterm_installed
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return False
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not the main interpreter, or no signals here
        return False
    _sigterm_installed = True
    return True


def _end_terminated_sessions() -> None:
    end_sessions(EndState.FAIL, "the process was terminated by SIGTERM")
    flush()


def _on_sigterm(signum: int, frame: Any) -> None:
    # The handler interrupts the main thread anywhere, maybe holding a lock that ending
    # a session needs: do the work in a thread and wait for it with a bound, so the
    # process dies of SIGTERM in every case instead of deadlocking.
    try:
        worker = threading.Thread(target=_end_terminated_sessions, daemon=True)
        worker.start()
        worker.join(FLUSH_TIMEOUT_MILLIS / 1000 + 1)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
