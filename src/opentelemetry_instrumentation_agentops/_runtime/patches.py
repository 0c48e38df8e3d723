"""Reversible attribute patches: every change is recorded and undone in reverse order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import wrapt

from .settings import logger

_MISSING = object()
_APPENDED = object()  # marks an append() in the record


class Patcher:
    """Sets attributes on modules and classes, and gives the originals back."""

    def __init__(self) -> None:
        self._saved: list[tuple[Any, Any, Any]] = []

    def set(self, owner: Any, name: str, value: Any) -> None:
        """``setattr`` that ``restore()`` undoes (deleting what did not exist)."""
        self._saved.append((owner, name, vars(owner).get(name, _MISSING)))
        setattr(owner, name, value)

    def wrap(self, owner: Any, name: str, wrapper: Callable[..., Any]) -> None:
        """``wrapt.wrap_function_wrapper`` that ``restore()`` undoes."""
        self._saved.append((owner, name, vars(owner).get(name, _MISSING)))
        wrapt.wrap_function_wrapper(owner, name, wrapper)  # positional: wrapt 1.x and 2.x

    def append(self, hooks: list[Any], hook: Any) -> None:
        """``hooks.append(hook)`` that ``restore()`` undoes."""
        self._saved.append((hooks, _APPENDED, hook))
        hooks.append(hook)

    def restore(self) -> None:
        while self._saved:
            owner, name, value = self._saved.pop()
            try:
                if name is _APPENDED:
                    owner.remove(value)
                elif value is _MISSING:
                    delattr(owner, name)
                else:
                    setattr(owner, name, value)
            except Exception:  # keep restoring the rest
                logger.debug("could not restore %r.%s", owner, name, exc_info=True)

    def __bool__(self) -> bool:
        return bool(self._saved)
