"""The one owner of everything the package keeps for the process: ``RUNTIME``.

``init()`` and ``instrument()`` configure it; ``uninstrument()`` releases what
``instrument()`` installed; ``reset()`` gives a fresh one (tests). Everything else in the
package is constants and functions: no other module keeps state of its own.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from .patches import Patches
from .registry import SessionRegistry
from .schedule import Schedule
from .settings import Settings

T = TypeVar("T")
_NONE = object()  # no provider seen yet


class ProviderCache(Generic[T]):
    """``make(provider)``'s answer for the provider last asked about: the one provider cache.

    Made again only when the provider in use changes: the hot path pays an identity check.
    """

    __slots__ = ("provider", "value")

    def __init__(self, empty: T) -> None:
        self.provider: object = _NONE
        self.value: T = empty

    def lookup(self, provider: object, make: Callable[[object], T]) -> T:
        if provider is not self.provider:
            value = make(provider)
            self.provider, self.value = provider, value
        return self.value


class LLMCalls:
    """What ``init()`` found about LLM client instrumentations (``_setup/llm_calls.py``)."""

    __slots__ = ("candidates", "classes", "hint_modules", "lock", "wanted")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.wanted = True  # init(instrument_llm_calls=...): also whether to hint
        self.candidates: dict[str, list[Any]] | None = None  # library -> entry points
        self.classes: dict[tuple[str, str], Any] = {}  # entry point -> its instrumentor class
        self.hint_modules = 0  # len(sys.modules) when the "no LLM call" hint last looked


class Redirect:
    """The agentops redirect's own memory (``_compat/``), undone with it."""

    __slots__ = ("calls", "ended", "lock", "originals", "pending", "validation_error")

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clear()

    def clear(self) -> None:
        self.pending: dict[str, Any] = {}  # agentops.configure() options for the next init()
        self.originals: dict[str, Any] = {}  # agentops internals read before redirecting
        self.validation_error: type[Exception] = Exception  # agentops' ValidationError
        # Ended sessions by trace id, for validate_trace_spans(trace_id=...).
        self.ended: OrderedDict[int, Any] = OrderedDict()
        # agentops 0.4's make_span() span -> the call it began, for its generator helpers.
        self.calls: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


class Runtime:
    """Settings, providers in use, running sessions, snapshots, instruments, patches and hooks."""

    def __init__(self) -> None:
        self.patches = Patches()  # every change to the process, kept across reset()
        self._fresh()

    def _fresh(self) -> None:
        self.settings = Settings.from_env()
        # The engine's sessions (``_engine/types.SessionLike``), typed as the registry sees them.
        self.sessions: SessionRegistry[Any] = SessionRegistry()
        # The tracer (and its id generator) of the provider in use; the metric instruments.
        self.tracers: ProviderCache[tuple[Any, Any]] = ProviderCache((None, None))
        self.meters: ProviderCache[Any] = ProviderCache(None)
        # Providers that carry our span processor (the SDK cannot take one back).
        self.processed: weakref.WeakSet[Any] = weakref.WeakSet()
        self.snapshots = Schedule()
        self.end_hooks: list[Callable[[Any], None]] = []  # added by layers above
        self.warned: set[str] = set()  # the once-per-process warnings given
        self.exit_provider: object = None  # the provider our exit handler runs before
        self.auto_session: weakref.ref[Any] | None = None  # init()'s auto-started one
        self.process_session: Any = None  # the instrumentor's, for the process
        self.exit_status: Any = None  # what sys.exit() was given, for the process session
        self.exited = False  # our exit handler has run: sessions started later are not ended
        # An agent was made current (``@track_agent``): until then no span reads the context for
        # one (processor: 2 calls a span of a session's trace).
        self.agents_seen = False
        self.llm_calls = LLMCalls()
        self.redirect = Redirect()
        # Guards what sessions keep of their input and output (content capture on only).
        self.exchange_lock = threading.Lock()

    def once(self, what: str) -> bool:
        """True the first time ``what`` is asked about: for one-time warnings."""
        if what in self.warned:
            return False
        self.warned.add(what)
        return True

    def reset(self) -> None:
        """Undo every patch and hook, stop the snapshot thread, and start afresh (tests)."""
        self.patches.undo_all()
        self.snapshots.stop()
        self._fresh()


RUNTIME = Runtime()
