"""One cache of what was made from a provider: the tracer, the metric instruments.

Made again only when the provider in use changes, so the hot path pays one identity check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
_NONE = object()  # no provider seen yet


class ProviderCache(Generic[T]):
    """``make(provider)``'s answer for the provider last asked about."""

    __slots__ = ("provider", "value")

    def __init__(self, empty: T) -> None:
        self.provider: object = _NONE
        self.value: T = empty

    def lookup(self, provider: object, make: Callable[[object], T]) -> T:
        if provider is not self.provider:
            value = make(provider)
            self.provider, self.value = provider, value
        return self.value
