"""Threads and thread pools run in the OpenTelemetry context, and so the session, that started them.

``instrument_threads()`` (the ``AgentOpsInstrumentor`` calls it) makes

* a ``threading.Thread`` (``threading.Timer`` included) run in the context of its ``start()``;
* each ``concurrent.futures.ThreadPoolExecutor.submit()`` task run in the context of its own
  ``submit()``;
* pool workers start in an empty context: a pooled thread outlives the ``submit()`` that started
  it, and must never keep that task's session (or span) alive between tasks.

``uninstrument_threads()`` undoes it. Both are idempotent; ``threads_instrumented()`` tells.

Beside ``opentelemetry-instrumentation-threading``: its ``ThreadingInstrumentor``, which
``opentelemetry-instrument`` loads when that package is installed, wraps the same methods. Our
wrappers always sit directly on the original method, under any other wrapper, and step aside
while that instrumentor is instrumented, so the context is attached once. Nothing is wrapped
twice, and uninstrumenting either one, in any order, leaves the other working.

Like that instrumentation, the wrappers do not check ``is_instrumentation_enabled()``: they
carry the caller's whole context, so work started under ``suppress_instrumentation()`` is
suppressed too, and work started outside it is not.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from opentelemetry import context
from wrapt import FunctionWrapper

from .._engine.exits import record_uncaught_in_thread

__all__ = ["instrument_threads", "threads_instrumented", "uninstrument_threads"]

R = TypeVar("R")
Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]

# The attribute ThreadingInstrumentor keeps a thread's start() context in: sharing it means a
# thread started while one of us was active still gets its context from the other.
_CONTEXT_ATTR = "_otel_context"
_CONTRIB_MODULE = "opentelemetry.instrumentation.threading"

_lock = threading.Lock()
_instrumented = False


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
    if not args or _contrib_active():  # no task: let submit() raise its own TypeError
        return wrapped(*args, **kwargs)
    return wrapped(partial(_run_in, context.get_current(), args[0]), *args[1:], **kwargs)


def _start_workers_in_empty_context(
    wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any
) -> Any:
    # Workers started here capture this empty context at start(); tasks still get their own.
    return _run_in(context.Context(), wrapped, *args, **kwargs)


# (class, method, wrapper). Timer overrides run() but inherits start().
# _adjust_thread_count is where ThreadPoolExecutor starts its workers (CPython 3.10 to 3.13).
_TARGETS: tuple[tuple[type, str, Wrapper], ...] = (
    (threading.Thread, "start", _capture_at_start),
    (threading.Thread, "run", _run_in_start_context),
    (threading.Timer, "run", _run_in_start_context),
    (ThreadPoolExecutor, "submit", _submit_in_caller_context),
    (ThreadPoolExecutor, "_adjust_thread_count", _start_workers_in_empty_context),
)


def _layers(owner: type, name: str) -> list[Any]:
    """The wrapt wrappers on ``owner.name``, outermost first (wrapt 1.x and 2.x alike)."""
    layers = []
    item = vars(owner).get(name)
    while hasattr(item, "_self_wrapper") and hasattr(item, "__wrapped__"):
        layers.append(item)
        item = item.__wrapped__
    return layers


def _add_layer(owner: type, name: str, wrapper: Wrapper) -> None:
    layers = _layers(owner, name)
    if not layers:
        setattr(owner, name, FunctionWrapper(vars(owner)[name], wrapper))
        return
    # Under the others, directly on the original: their unwrap() removes the outermost
    # layer, which is then always their own.
    bottom = layers[-1]
    bottom.__wrapped__ = FunctionWrapper(bottom.__wrapped__, wrapper)


def _remove_layer(owner: type, name: str, wrapper: Wrapper) -> None:
    layers = _layers(owner, name)
    for index, layer in enumerate(layers):
        if layer._self_wrapper is wrapper:
            if index == 0:
                setattr(owner, name, layer.__wrapped__)
            else:  # splice ours out from under another instrumentation's wrapper
                layers[index - 1].__wrapped__ = layer.__wrapped__
            return


def _targets() -> list[tuple[type, str, Wrapper]]:
    return [target for target in _TARGETS if target[1] in vars(target[0])]


def instrument_threads() -> None:
    """Propagate the context into threads and thread pools; does nothing if already done."""
    global _instrumented
    with _lock:
        if not _instrumented:
            for owner, name, wrapper in _targets():
                _add_layer(owner, name, wrapper)
            _instrumented = True


def uninstrument_threads() -> None:
    """Stop propagating; leaves any other instrumentation's wrappers working."""
    global _instrumented
    with _lock:
        if _instrumented:
            for owner, name, wrapper in _targets():
                _remove_layer(owner, name, wrapper)
            _instrumented = False


def threads_instrumented() -> bool:
    """Whether ``instrument_threads()`` is in effect."""
    return _instrumented
