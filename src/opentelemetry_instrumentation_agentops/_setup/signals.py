"""SIGTERM: running sessions end Fail and are exported, then the process dies of SIGTERM.

Only when ``init()`` or the instrumentor runs in the main thread and SIGTERM still has
its default action: a handler the application installed is left alone. The handler is
held by ``"init"`` or ``"instrument"`` and put back to the default when both let go.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

from .._engine.drain import end_and_export
from .._engine.types import EndState
from .._runtime.owner import RUNTIME
from .._runtime.patches import Undo

SIGTERM_KEY = "signal: SIGTERM"
TERMINATED_REASON = "the process was terminated by SIGTERM"
SIGTERM_SECONDS = 5.0  # the most ending and exporting the sessions may take before it dies


def install_sigterm_handler(holder: str) -> bool:
    """End sessions on SIGTERM, if SIGTERM still has its default action; True when in place."""
    patches = RUNTIME.patches
    if patches.active(SIGTERM_KEY):
        patches.install(holder, SIGTERM_KEY, _unreachable)  # one more holder
        return True
    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return False
        return patches.install(holder, SIGTERM_KEY, _put_in_place)
    except (ValueError, OSError):  # not the main interpreter, or no signals here
        return False


def _put_in_place() -> Undo:
    signal.signal(signal.SIGTERM, _on_sigterm)

    def undo() -> None:
        if signal.getsignal(signal.SIGTERM) is _on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    return undo


def _unreachable() -> Undo:  # the key is in place already: install() never calls it
    raise AssertionError(SIGTERM_KEY)


def _end_terminated_sessions(deadline: float) -> None:
    end_and_export(EndState.FAIL, TERMINATED_REASON, SIGTERM_SECONDS, deadline=deadline)


def _on_sigterm(signum: int, frame: Any) -> None:
    # The handler interrupts the main thread anywhere, maybe holding a lock that ending
    # a session needs: do the work in a thread and wait for it with a bound, so the
    # process dies of SIGTERM in every case instead of deadlocking.
    try:
        deadline = time.monotonic() + SIGTERM_SECONDS
        worker = threading.Thread(target=_end_terminated_sessions, args=(deadline,), daemon=True)
        worker.start()
        worker.join(SIGTERM_SECONDS + 1)  # its last session's end, if a lock held it
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
