"""One way to change the process: every patch, hook and handler, each with its undo.

A change is made under a key and held by one or more holders (``"init"``,
``"instrument"``, ``"sessions"``, ``"redirect"``); ``release(holder)`` undoes, in reverse
order, each change that no holder keeps any more. A value put in place is given back
only while it is still the one in place: a hook that someone else has since wrapped
stays where it is, and turns inert (it checks ``active(key)``). Python has no undo for
``os.register_at_fork`` nor for a post-import hook: those are registered once per
process, under their key, and are inert while their key is not active.
"""

from __future__ import annotations

import atexit
import importlib
import os
import sys
import threading
from collections.abc import Callable, Hashable
from typing import Any

from .settings import logger

Undo = Callable[[], None]
_MISSING = object()


class Patch:
    """One change in place: who holds it, and how to undo it."""

    __slots__ = ("holders", "undo", "value")

    def __init__(self, holder: str, undo: Undo, value: Any = None) -> None:
        self.holders = {holder}
        self.undo = undo
        self.value = value  # what was put in place, when it is one object


def _wrapt() -> Any:
    # wrapt loads with the first wrapper, not with the package (import time).
    return sys.modules.get("wrapt") or importlib.import_module("wrapt")


def _layers(item: Any) -> list[Any]:
    """The wrapt wrappers around a function, outermost first (wrapt 1.x and 2.x alike)."""
    layers = []
    wrapt = _wrapt()
    # A class attribute unwrapped through getattr() (as other instrumentations' unwrap() does)
    # is left bound: BoundFunctionWrapper is a layer too.
    wrapper_types = (wrapt.FunctionWrapper, wrapt.BoundFunctionWrapper)
    while isinstance(item, wrapper_types):
        layers.append(item)
        item = item.__wrapped__
    return layers


class Patches:
    """Every change the package made to the process, by key."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._patches: dict[Hashable, Patch] = {}  # insertion order: undone in reverse
        # Fork and post-import hooks, registered once per process: key -> current callback.
        self._registered: dict[Hashable, Callable[..., None]] = {}

    @staticmethod
    def key(owner: Any, name: str) -> Hashable:
        """The key of a change to ``owner.name`` made by ``set()`` or ``wrap()``."""
        return (id(owner), name)

    def active(self, key: Hashable) -> bool:
        return key in self._patches

    def holders(self, key: Hashable) -> frozenset[str]:
        patch = self._patches.get(key)
        return frozenset() if patch is None else frozenset(patch.holders)

    def holds(self, holder: str) -> bool:
        """Whether ``holder`` holds any change."""
        return any(holder in patch.holders for patch in list(self._patches.values()))

    def value(self, key: Hashable) -> Any:
        """What the change under ``key`` put in place (a wrapper, a hook), or None."""
        patch = self._patches.get(key)
        return None if patch is None else patch.value

    def install(self, holder: str, key: Hashable, apply: Callable[[], Any]) -> bool:
        """Make a change unless ``key`` is in place already; True when it was made now.

        ``apply()`` returns the undo, or ``(undo, value put in place)``; either way
        ``holder`` now holds the change.
        """
        with self._lock:
            patch = self._patches.get(key)
            if patch is not None:
                patch.holders.add(holder)
                return False
            made = apply()
            undo, value = made if isinstance(made, tuple) else (made, None)
            self._patches[key] = Patch(holder, undo, value)
            return True

    def discard(self, key: Hashable) -> None:
        """Undo the change under ``key`` now, whoever holds it."""
        with self._lock:
            patch = self._patches.pop(key, None)
            if patch is not None:
                _undo(key, patch)

    def set(
        self, holder: str, owner: Any, name: str, make: Callable[[Any], Any], force: bool = False
    ) -> bool:
        """``setattr(owner, name, make(current))``, undone while the value is still in place.

        ``force`` gives the original back whatever replaced the value since.
        """

        def apply() -> tuple[Undo, Any]:
            saved = vars(owner).get(name, _MISSING)
            value = make(getattr(owner, name, None))
            setattr(owner, name, value)

            def undo() -> None:
                if not force and vars(owner).get(name, _MISSING) is not value:
                    return  # replaced since: leave the newer value, ours is inert
                if saved is _MISSING:
                    delattr(owner, name)
                else:
                    setattr(owner, name, saved)

            return undo, value

        return self.install(holder, self.key(owner, name), apply)

    def hook(
        self,
        holder: str,
        key: Hashable,
        get: Callable[[], Any],
        put: Callable[[Any], Any],
        make: Callable[[Any], Any],
    ) -> bool:
        """``put(make(get()))`` for a hook the library sets through a getter and a setter
        (``logging.setLogRecordFactory``); undone while ours is still the one in place."""

        def apply() -> tuple[Undo, Any]:
            original = get()
            ours = make(original)
            put(ours)

            def undo() -> None:
                if get() is ours:  # else wrapped or replaced since: ours stays, inert
                    put(original)

            return undo, ours

        return self.install(holder, key, apply)

    def wrap(
        self,
        holder: str,
        owner: Any,
        name: str,
        wrapper: Callable[..., Any],
        beneath: bool = False,
    ) -> bool:
        """Wrap ``owner.name`` with a wrapt ``FunctionWrapper``; undone wherever it then sits.

        ``beneath`` puts it directly on the original, under other instrumentations'
        wrappers, whose own ``unwrap()`` then removes their layer, not ours.
        """

        def apply() -> tuple[Undo, Any]:
            layers = _layers(vars(owner)[name])
            if beneath and layers:
                bottom = layers[-1]
                ours = _wrapt().FunctionWrapper(bottom.__wrapped__, wrapper)
                bottom.__wrapped__ = ours
            else:
                ours = _wrapt().FunctionWrapper(vars(owner)[name], wrapper)
                setattr(owner, name, ours)

            def undo() -> None:
                layers = _layers(vars(owner).get(name))
                for index, layer in enumerate(layers):
                    # Ours, or ours as another instrumentation's unwrap() left it (bound).
                    if layer is ours or getattr(layer, "_self_wrapper", None) is wrapper:
                        if index == 0:
                            setattr(owner, name, ours.__wrapped__)
                        else:  # splice ours out from under another instrumentation's wrapper
                            layers[index - 1].__wrapped__ = ours.__wrapped__
                        return

            return undo, ours

        return self.install(holder, self.key(owner, name), apply)

    def append(self, holder: str, items: list[Any], item: Any) -> bool:
        """``items.append(item)``, undone by removing it."""

        def apply() -> Undo:
            items.append(item)
            return lambda: items.remove(item)

        return self.install(holder, (id(items), id(item)), apply)

    def at_exit(self, holder: str, key: Hashable, callback: Callable[[], None]) -> bool:
        """``atexit.register(callback)``, undone by ``atexit.unregister``."""

        def apply() -> Undo:
            atexit.register(callback)
            return lambda: atexit.unregister(callback)

        return self.install(holder, key, apply)

    def run_first_at_exit(self, key: Hashable, callback: Callable[[], None]) -> None:
        """Register ``callback`` again, so that it runs before the handlers registered so far."""
        if self.active(key):
            atexit.unregister(callback)
            atexit.register(callback)

    def at_fork(self, holder: str, key: Hashable, callback: Callable[[], None]) -> bool:
        """Run ``callback`` in a forked child while ``key`` is held (no undo: made inert)."""

        def apply() -> Undo:
            first = key not in self._registered
            self._registered[key] = callback
            if first and hasattr(os, "register_at_fork"):
                os.register_at_fork(after_in_child=lambda: self._fire(key))
            return lambda: None  # inert from now on: active(key) is False

        return self.install(holder, key, apply)

    def after_import(
        self, holder: str, key: Hashable, module: str, callback: Callable[[Any], None]
    ) -> bool:
        """Run ``callback(module)`` now if ``module`` is imported, else when it is (inert after)."""

        def apply() -> Undo:
            if key not in self._registered:  # wrapt may call it at once: inert until held
                _wrapt().register_post_import_hook(lambda loaded: self._fire(key, loaded), module)
            self._registered[key] = callback
            return lambda: None

        made = self.install(holder, key, apply)
        if made and module in sys.modules:
            self._fire(key, sys.modules[module])
        return made

    def _fire(self, key: Hashable, *args: Any) -> None:
        if key in self._patches:
            try:
                self._registered[key](*args)
            except Exception:  # a hook of ours never breaks a fork nor an import
                logger.debug("a hook failed", exc_info=True)

    def release(self, holder: str) -> None:
        """Undo, newest first, every change that no other holder keeps."""
        with self._lock:
            for key, patch in reversed(list(self._patches.items())):
                patch.holders.discard(holder)
                if not patch.holders:
                    del self._patches[key]
                    _undo(key, patch)

    def undo_all(self) -> None:
        """Undo every change, newest first (a fresh runtime)."""
        with self._lock:
            while self._patches:
                key = next(reversed(self._patches))
                _undo(key, self._patches.pop(key))


def _undo(key: Hashable, patch: Patch) -> None:
    try:
        patch.undo()
    except Exception:  # keep undoing the rest
        logger.debug("could not undo %r", key, exc_info=True)
