"""Threads and thread pools run in the OpenTelemetry context, and so the session, that started them.

``instrument(holder)`` makes a ``threading.Thread`` (``threading.Timer`` included) run in
the context of its ``start()``, and each ``ThreadPoolExecutor.submit()`` task in the
context of its own ``submit()``; a pool's workers start in an empty context, so a pooled
thread never keeps one task's session alive for the next. The wrappers are the runtime's
patches: ``RUNTIME.patches.release(holder)`` undoes them.

Beside ``opentelemetry-instrumentation-threading`` (which ``opentelemetry-instrument``
loads when it is installed), ours sit directly on the original methods, under its
wrappers, and step aside while it is instrumented, so the context is attached once and
uninstrumenting either one, in any order, leaves the other working. Like it, they carry
the caller's whole context: work started under ``suppress_instrumentation()`` is
suppressed too.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from opentelemetry import context

from .._engine.exits import record_uncaught_in_thread
from .._runtime.owner import RUNTIME
from .._runtime.patches import Patches

R = TypeVar("R")
Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]

# The attribute ThreadingInstrumentor keeps a thread's start() context in: sharing it means a
# thread started while one of us was active still gets its context from the other.
_CONTEXT_ATTR = "_otel_context"
_CONTRIB_MODULE = "opentelemetry.instrumentation.threading"


def _contrib_active() -> bool:
    """Whether opentelemetry-instrumentation-threading's instrumentor is on (it does it all)."""
    module = sys.modules.get(_CONTRIB_MODULE)  # never imported: not instrumented either
    instrumentor = getattr(module, "ThreadingInstrumentor", None)
    return instrumentor is not None and bool(instrumentor().is_instrumented_by_opentelemetry)


def _run_in(ctx: context.Context, function: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    token = context.attach(ctx)
    try:
        return function(*args, **kwargs)
    finally:
        context.detach(token)


def _capture_at_start(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    setattr(instance, _CONTEXT_ATTR, context.get_current())
    return wrapped(*args, **kwargs)


def _run_in_start_context(
    wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any
) -> Any:
    ctx = getattr(instance, _CONTEXT_ATTR, None)
    if ctx is None or _contrib_active():
        return _run_recording_uncaught(wrapped, args, kwargs)
    return _run_in(ctx, _run_recording_uncaught, wrapped, args, kwargs)


def _run_recording_uncaught(run: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    # Inside every context attach (ours or the other instrumentor's): an uncaught exception
    # is recorded while the thread's own session is still current.
    try:
        return run(*args, **kwargs)
    except BaseException as error:
        record_uncaught_in_thread(error)
        raise


def _submit_in_caller_context(
    wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any
) -> Any:
    # The task runs in the caller's context; submit() itself, which may start a worker,
    # runs in an empty one, so the worker's own context holds nothing of the task.
    if not args or _contrib_active():  # no task, or the other instrumentor binds it
        return _run_in(_EMPTY, wrapped, *args, **kwargs)
    task = partial(_run_in, context.get_current(), args[0])
    return _run_in(_EMPTY, wrapped, task, *args[1:], **kwargs)


_EMPTY = context.Context()
# (class, method, wrapper). Timer overrides run() but inherits start().
TARGETS: tuple[tuple[type, str, Wrapper], ...] = (
    (threading.Thread, "start", _capture_at_start),
    (threading.Thread, "run", _run_in_start_context),
    (threading.Timer, "run", _run_in_start_context),
    (ThreadPoolExecutor, "submit", _submit_in_caller_context),
)


def targets() -> list[tuple[type, str, Wrapper]]:
    """The methods wrapped here, on this Python (a class's own methods only)."""
    return [target for target in TARGETS if target[1] in vars(target[0])]


def instrument(holder: str) -> None:
    """Propagate the context into threads and thread pools; does nothing if already done."""
    for owner, name, wrapper in targets():
        RUNTIME.patches.wrap(holder, owner, name, wrapper, beneath=True)


def instrumented() -> bool:
    """Whether the propagation is in effect."""
    return all(RUNTIME.patches.active(Patches.key(owner, name)) for owner, name, _ in targets())
