"""How sessions end with the process: at exit, on an uncaught exception, and after fork.

- At normal exit, running sessions end Indeterminate (the instrumentor's process
  session Success, or Fail on a non-zero ``sys.exit``) and are exported in chunks the
  export queue holds, with a bound (``drain.py``).
  Our ``atexit`` handler is registered again whenever sessions start on a new
  provider, so it runs before that provider's own shutdown, however late it was made.
- An uncaught exception in the main thread ends them Fail with the exception
  recorded; one in a worker thread is an error of that thread's session.
- A forked child forgets the parent's sessions, and ends its own when its main thread
  finishes (a ``multiprocessing`` worker leaves with ``os._exit()``, past ``atexit``).

Each hook is held by ``"sessions"`` (any session start), ``"init"`` or ``"instrument"``
in the runtime's patches, and undone when its last holder lets go.
"""

from __future__ import annotations

import contextvars
import sys
import threading
from collections.abc import Callable
from typing import Any

from .._runtime.owner import RUNTIME
from .._runtime.patches import Patches
from .._runtime.schedule import Schedule
from .._runtime.settings import logger
from .content import safe_str
from .drain import FLUSH_SECONDS, end_and_export, flush
from .escaping import printable
from .events import ErrorEvent
from .types import EndState

EXIT_REASON = "the process exited before the session ended"
EXIT_SECONDS = 20.0  # the most the export of the sessions ended at exit is waited for
AT_EXIT = "exit: atexit"
STARTED_AFTER_EXIT = "started after exit"  # the key of its once-per-process warning
AT_FORK = "exit: fork"
EXCEPTHOOK = Patches.key(sys, "excepthook")
THREAD_EXCEPTHOOK = Patches.key(threading, "excepthook")
_RECORDED = "_agentops_recorded_uncaught"  # on an exception already recorded in its session


def install(holder: str) -> None:
    """Put the exit, exception and fork hooks in place for ``holder`` (idempotent)."""
    patches = RUNTIME.patches
    patches.at_exit(holder, AT_EXIT, end_sessions_at_exit)
    patches.set(holder, sys, "excepthook", _excepthook_over)
    patches.set(holder, threading, "excepthook", _thread_excepthook_over)
    patches.at_fork(holder, AT_FORK, _after_fork_in_child)


def arm_for_provider() -> None:
    """A session starts: the hooks are held for it, and run before its provider's shutdown.

    Called by every session start; costs one identity check unless the provider changed.
    """
    provider = RUNTIME.tracers.provider
    if RUNTIME.exit_provider is provider and RUNTIME.patches.active(AT_EXIT):
        return
    install("sessions")
    RUNTIME.patches.run_first_at_exit(AT_EXIT, end_sessions_at_exit)
    RUNTIME.exit_provider = provider


def release(holder: str) -> None:
    """``holder`` lets go; ``"sessions"`` too when no session runs any more."""
    patches = RUNTIME.patches
    if RUNTIME.sessions.running:
        install("sessions")  # the running sessions still need them
    patches.release(holder)
    if not RUNTIME.sessions.running:
        patches.release("sessions")
    if not patches.active(AT_EXIT):
        RUNTIME.exit_provider = None


def end_process_session(reason: str | None = None) -> bool:
    """End the instrumentor's process session: Success, or Fail on a non-zero exit status."""
    session, RUNTIME.process_session = RUNTIME.process_session, None
    if session is None or session.ended:
        return False
    status = RUNTIME.exit_status
    if reason is not None:
        session.end(EndState.INDETERMINATE, reason)
    elif status is None or status == 0:
        session.end(EndState.SUCCESS, "the process exited normally")
    else:
        session.end(EndState.FAIL, f"the process exited with status {status!r}")
    return True


def end_sessions_at_exit() -> None:
    RUNTIME.snapshots.stop()
    RUNTIME.exited = True
    end_and_export(EndState.INDETERMINATE, EXIT_REASON, EXIT_SECONDS, first=end_process_session)


def warn_started_after_exit(session: Any) -> None:
    """A session started after our exit handler ran is never ended for the program: say so."""
    if not RUNTIME.once(STARTED_AFTER_EXIT):
        return
    logger.warning(
        "Session %s started after the package's exit handler ran (in an atexit handler "
        "registered before the package's): it is not ended at exit, and is exported only "
        "if it is ended before its TracerProvider shuts down. End it in that handler, or "
        "start it before the program exits.",
        printable(session.name or session.session_id),
    )


def _excepthook_over(previous: Callable[..., Any]) -> Callable[..., None]:
    def excepthook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        previous(exc_type, exc, tb)  # the traceback first, then the export
        if not RUNTIME.patches.active(EXCEPTHOOK):
            return  # uninstalled, but wrapped since by someone else: inert
        try:
            reason = f"uncaught {exc_type.__name__}: {safe_str(exc)}"
            end_and_export(EndState.FAIL, reason, EXIT_SECONDS, exception=exc)
        except Exception:
            pass

    return excepthook


def record_uncaught_in_thread(error: BaseException) -> None:
    """Record an exception leaving a thread's ``run()`` in the thread's current session.

    Called by the thread propagation while the thread's own context, and so its own
    session, is still attached: by the time ``threading.excepthook`` runs, the context of
    ``start()`` is back, and with several sessions running none would be found.
    """
    if not isinstance(error, Exception):  # SystemExit ends a thread quietly
        return
    try:
        session = RUNTIME.sessions.current()
        if session is not None:
            session.record(ErrorEvent(exception=error))
            setattr(error, _RECORDED, True)
    except Exception:  # telemetry never breaks the application
        logger.debug("could not record a thread's uncaught exception", exc_info=True)


def _thread_excepthook_over(previous: Callable[[Any], Any]) -> Callable[[Any], None]:
    def thread_excepthook(args: Any) -> None:
        error = args.exc_value
        active = RUNTIME.patches.active(THREAD_EXCEPTHOOK)
        if active and error is not None and not getattr(error, _RECORDED, False):
            record_uncaught_in_thread(error)
        previous(args)

    return thread_excepthook


def _after_fork_in_child() -> None:
    """The parent's sessions and snapshot thread are not the child's; its own sessions are."""
    RUNTIME.sessions.forget_all()
    RUNTIME.snapshots = Schedule()
    main = threading.main_thread()

    def end_at_exit() -> None:
        main.join()  # returns when the interpreter starts shutting down
        # Flushed even when none was left running: a multiprocessing worker leaves with
        # os._exit(), so no SDK shutdown exports what its sessions queued.
        if not end_and_export(EndState.INDETERMINATE, EXIT_REASON, EXIT_SECONDS):
            flush(FLUSH_SECONDS)

    try:
        watcher = threading.Thread(target=end_at_exit, name="agentops-exit", daemon=False)
        contextvars.Context().run(watcher.start)  # it outlives whatever is current now
    except RuntimeError:
        logger.debug("could not watch the forked child's exit", exc_info=True)
