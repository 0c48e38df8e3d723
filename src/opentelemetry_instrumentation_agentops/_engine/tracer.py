"""The tracer every session and event span is made with.

The tracer follows the provider in use (an explicit one from ``init()`` or
``instrument()``, else the global one) and is cached per provider, so the hot
path pays one identity check; the session span processor is added to each SDK
provider when its tracer is first made. On the SDK the tracer's id generator is
wrapped so that a continued session (``inherited_session_id`` with a UUID) can
start on the trace id it continues and still be a root; every other span takes
the provider's own ids.
"""

from __future__ import annotations

import random
import traceback
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

from .._runtime.owner import RUNTIME
from .._runtime.settings import logger
from ..version import __version__
from .attributes import ERROR_TYPE, TRACER_NAME
from .content import safe_str, safe_text
from .processor import attach_processor

_chosen_trace_id: ContextVar[int] = ContextVar("agentops_chosen_trace_id", default=0)


class _ChoosableIds:
    """Delegates to the provider's id generator unless a trace id was chosen (continuation).

    The generator's other methods are its own, bound here: a span of ours pays no Python
    frame of this class for its span id (record-same 2,680 to 2,674 bytecodes a call).
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.generate_span_id: Callable[[], int] = inner.generate_span_id
        self.fresh_trace_id: Callable[[], int] = inner.generate_trace_id  # never the chosen one
        if hasattr(inner, "is_trace_id_random"):  # asked of each root by newer SDKs
            self.is_trace_id_random: Callable[[], bool] = inner.is_trace_id_random

    def generate_trace_id(self) -> int:
        return _chosen_trace_id.get() or self._inner.generate_trace_id()

    def __getattr__(self, name: str) -> Any:  # what later SDKs ask of a generator
        return getattr(self._inner, name)


_NO_OP_PROVIDER = trace.NoOpTracerProvider()


def current_provider() -> object:
    if RUNTIME.settings.disabled:
        return _NO_OP_PROVIDER
    # `is None`, not `or`: a provider object's truth test is not ours to call.
    explicit = RUNTIME.settings.tracer_provider
    return explicit if explicit is not None else trace.get_tracer_provider()


def get_tracer() -> trace.Tracer:
    return root_tracer()[0]


def root_tracer() -> tuple[trace.Tracer, _ChoosableIds | None]:
    """The tracer of the provider in use, and its id generator when a root's trace id can be
    chosen (the SDK's): a session's start asks once for both."""
    cache, provider = RUNTIME.tracers, current_provider()
    if provider is cache.provider:  # the hot path: one identity check
        return cache.value
    return cache.lookup(provider, _make_tracer)


def new_trace_id(ids: _ChoosableIds | None) -> int:
    """A trace id from the provider's own generator for a root about to start, so what is
    derived from it (a session's id) can be a start attribute; 0 where no id can be chosen
    (not the SDK): the root then takes its own.

    A session's root started with both ids among its attributes instead of stamping them
    after its start: session-same 3,673 to 3,623 bytecodes, 407k to 395k instructions.
    """
    return 0 if ids is None else ids.fresh_trace_id()


def _make_tracer(provider: Any) -> tuple[trace.Tracer, _ChoosableIds | None]:
    try:
        tracer = provider.get_tracer(TRACER_NAME, __version__)
    except Exception:  # a broken provider must not break every session: warn once
        logger.warning(
            "The tracer provider %s cannot make a tracer; nothing is exported.",
            type(provider).__name__,
            exc_info=True,
        )
        tracer = trace.NoOpTracer()
    ids = None
    inner = getattr(tracer, "id_generator", None)
    if inner is not None and hasattr(inner, "generate_trace_id"):
        ids = _ChoosableIds(inner)
        tracer.id_generator = ids
    try:
        attach_processor(provider)
    except Exception:
        logger.debug("could not add the session span processor", exc_info=True)
    return tracer, ids


_ROOT = Context()  # no span, no session: where every root starts


def start_root_span(
    root: tuple[trace.Tracer, _ChoosableIds | None],
    name: str,
    attributes: dict[str, Any],
    links: list[Link] | None,
    trace_id: int = 0,
    parent: Context | None = None,
) -> Span:
    """Start a session's root span with ``root`` (``root_tracer()``): on a fresh trace, or on
    ``trace_id`` when one is given.

    With ``parent`` (a remote span from a traceparent) the span continues that
    trace as the remote span's child instead.
    """
    tracer, ids = root
    if not trace_id and parent is None:  # the provider picks the trace id (not the SDK)
        return tracer.start_span(name, _ROOT, SpanKind.INTERNAL, attributes, links)
    if parent is None and ids is None:
        # Not the SDK: a chosen trace id can only be carried by a remote parent.
        parent = remote_parent(trace_id)
    if parent is not None:
        return tracer.start_span(name, parent, SpanKind.INTERNAL, attributes, links)
    token = _chosen_trace_id.set(trace_id)
    try:
        return tracer.start_span(name, _ROOT, SpanKind.INTERNAL, attributes, links)
    finally:
        _chosen_trace_id.reset(token)


def remote_parent(trace_id: int, span_id: int = 0) -> Context:
    span_context = trace.SpanContext(
        trace_id,
        span_id or random.getrandbits(64) or 1,
        is_remote=True,
        trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
    )
    return trace.set_span_in_context(trace.NonRecordingSpan(span_context), Context())


def record_exception(span: Span, exception: BaseException, timestamp: int | None = None) -> None:
    """``span.record_exception()`` for any exception, its texts exportable, capped and
    without secrets (``content.safe_text``, ``redaction``).

    The SDK's own calls ``str(exception)``, which may raise, and exports the texts
    whatever their size, encoding or content.
    """
    kind = type(exception)
    module = kind.__module__
    name = (
        kind.__qualname__ if module in (None, "", "builtins") else f"{module}.{kind.__qualname__}"
    )
    stacktrace = "".join(traceback.format_exception(kind, exception, exception.__traceback__))
    limit = RUNTIME.settings.content_max_length
    attributes = {
        "exception.type": safe_str(name, 200),
        "exception.message": safe_text(exception, limit),
        "exception.stacktrace": safe_text(stacktrace, limit),
    }
    span.add_event("exception", attributes, timestamp)


def mark_error(
    span: Span,
    exception: BaseException,
    description: str | None = None,
    error_type: str | None = None,
    timestamp: int | None = None,
) -> None:
    """What a failed call, event or session shows: exception event, status ERROR, ``error.type``.

    ``description`` defaults to ``"{type}: {message}"``, ``error_type`` to the exception's class.
    """
    record_exception(span, exception, timestamp)
    if description is None:
        description = f"{type(exception).__name__}: {safe_text(exception)}"
    span.set_status(Status(StatusCode.ERROR, description))
    span.set_attribute(ERROR_TYPE, error_type or type(exception).__qualname__)
