"""Spans that cover a whole (async) generator iteration, never a ``with`` around ``yield``.

The span is made current around each step only: attach and detach happen in the
same frame, so a generator closed from another task or thread, or dropped and
garbage-collected, never logs "Failed to detach context". The span ends on
exhaustion, error, ``close()``/``aclose()`` or garbage collection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry import context

from .types import Traced


class _SpanOverIteration:
    __slots__ = ("__weakref__", "_call", "_inner")

    def __init__(self, inner: Any, call: Traced) -> None:
        self._inner = inner
        self._call: Traced | None = call

    def _end(self, error: BaseException | None = None, result: Any = None) -> None:
        call, self._call = self._call, None
        if call is not None:
            call.finish(error, result)

    def __del__(self) -> None:
        self._end()

    def __getattr__(self, name: str) -> Any:  # gi_frame, ag_running, ...
        return getattr(self._inner, name)


class TracedGenerator(_SpanOverIteration):
    __slots__ = ()

    def __iter__(self) -> TracedGenerator:
        return self

    def __next__(self) -> Any:
        return self._step(self._inner.send, None)

    def send(self, value: Any) -> Any:
        return self._step(self._inner.send, value)

    def throw(self, *args: Any) -> Any:
        return self._step(self._inner.throw, *args)

    def close(self) -> None:
        try:
            self._step(self._inner.close)
        finally:
            self._end()

    def _step(self, method: Callable[..., Any], *args: Any) -> Any:
        call = self._call
        if call is None:
            return method(*args)
        token = context.attach(call.context)
        try:
            return method(*args)
        except StopIteration as stop:
            self._end(result=stop.value)
            raise
        except BaseException as error:
            self._end(error)
            raise
        finally:
            context.detach(token)


class TracedAsyncGenerator(_SpanOverIteration):
    __slots__ = ()

    def __aiter__(self) -> TracedAsyncGenerator:
        return self

    async def __anext__(self) -> Any:
        return await self._step(self._inner.asend, None)

    async def asend(self, value: Any) -> Any:
        return await self._step(self._inner.asend, value)

    async def athrow(self, *args: Any) -> Any:
        return await self._step(self._inner.athrow, *args)

    async def aclose(self) -> None:
        try:
            await self._step(self._inner.aclose)
        finally:
            self._end()

    async def _step(self, method: Callable[..., Any], *args: Any) -> Any:
        call = self._call
        if call is None:
            return await method(*args)
        token = context.attach(call.context)
        try:
            return await method(*args)
        except StopAsyncIteration:
            self._end()
            raise
        except BaseException as error:
            self._end(error)
            raise
        finally:
            context.detach(token)
