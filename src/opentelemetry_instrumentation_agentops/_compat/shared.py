"""What both agentops generations are redirected to: ``init``, ``configure`` and the wrapper.

``agentops.init(...)`` **is** this package's ``init``, with the options that mean
something here (``api_key``, ``tags``/``default_tags``, ``auto_start_session``,
``skip_auto_end_session``, ``inherited_session_id``, ``instrument_llm_calls``).
So it sets up the SDK pipeline when none is configured yet (OTLP from the
standard ``OTEL_*`` variables), before a framework imported later (CrewAI's
telemetry) can make its own provider the global one; with a provider given to
``instrument()``, sessions go there. AgentOps' endpoints, exporters and logging
options are dropped, so nothing is ever sent to AgentOps; its logger prints as
agentops' own ``init()`` makes it print (``show_logs``), without ``agentops.log``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from .._api import functions
from .._engine.escaping import printable
from .._engine.sessions import Session
from .._engine.types import AgentOpsError
from .._runtime.owner import RUNTIME
from .._runtime.settings import logger

FORWARDED = frozenset(
    {
        "api_key",
        "parent_key",
        "tags",
        "default_tags",
        "auto_start_session",
        "skip_auto_end_session",
        "inherited_session_id",
        "instrument_llm_calls",
    }
)
REDIRECT = "redirect"  # the redirect's patches are held under this name in the runtime


class Redirector:
    """The redirect's changes to agentops, made through the runtime's patches."""

    def set(self, owner: Any, name: str, value: Any) -> None:
        RUNTIME.patches.set(REDIRECT, owner, name, lambda _: value, force=True)

    def wrap(self, owner: Any, name: str, wrapper: Callable[..., Any]) -> None:
        RUNTIME.patches.wrap(REDIRECT, owner, name, wrapper)

    def append(self, items: list[Any], item: Any) -> None:
        RUNTIME.patches.append(REDIRECT, items, item)


def configure(**options: Any) -> None:
    """``agentops.configure(...)``: options kept for the next ``init()``."""
    for key, value in options.items():
        if value is None:
            continue
        if key in ("api_key", "parent_key"):
            setattr(RUNTIME.settings, key, value)
        if key in FORWARDED:
            RUNTIME.redirect.pending[key] = value


def make_init(show_logs: Callable[[dict[str, Any]], None]) -> Callable[..., Session | None]:
    """``agentops.init`` for one agentops line; ``show_logs(options)`` sets up its logger."""

    def init(**options: Any) -> Session | None:
        """``agentops.init(...)`` on this engine; returns the auto-started session, if any."""
        given = {k: v for k, v in options.items() if v is not None}
        ignored = sorted(set(given) - FORWARDED)
        if ignored:
            logger.debug("agentops.init(): ignoring %s", printable(", ".join(ignored)))
        try:
            show_logs(given)
        except Exception:  # agentops' logger is a nicety: never fail init() for it
            logger.debug("could not set up agentops' logger", exc_info=True)
        pending = RUNTIME.redirect.pending
        kwargs = {**pending, **{k: v for k, v in given.items() if k in FORWARDED}}
        pending.clear()
        return functions.init(**kwargs)

    return init


def noop(*args: Any, **kwargs: Any) -> None:
    return None


def bound_options(original: Callable[..., Any], args: tuple, kwargs: dict) -> dict[str, Any]:
    """The call's arguments by name, as ``original``'s signature binds them."""
    try:
        signature = inspect.signature(original)
        arguments = dict(signature.bind(*args, **kwargs).arguments)
    except (TypeError, ValueError):
        return dict(kwargs)
    for name, parameter in signature.parameters.items():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            arguments.update(arguments.pop(name, {}))
        elif parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            arguments.pop(name, None)
    return arguments


def redirect(ours: Callable[..., Any], *, by_name: bool = False) -> Callable[..., Any]:
    """A wrapt wrapper that calls ``ours`` instead of the agentops function it wraps.

    With instrumentation suppressed (``suppress_instrumentation()``) the original
    runs, as if the package were not redirected. A fault of ours is logged and the
    call returns None: it never breaks the application (strict mode still raises).
    ``by_name`` passes every argument by keyword, as the original would bind it.
    """

    def wrapper(wrapped: Any, instance: Any, args: tuple, kwargs: dict) -> Any:
        if not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        try:
            if by_name:
                return ours(**bound_options(wrapped, args, kwargs))
            return ours(*args, **kwargs)
        except AgentOpsError:
            raise
        except Exception:
            name = getattr(wrapped, "__name__", "function")
            logger.warning("agentops.%s() failed on this engine; ignored", name, exc_info=True)
            return None

    return wrapper


BY_NAME = frozenset({"init", "configure"})  # called with AgentOps' positional order


def patch_names(patcher: Redirector, owner: Any, names: Mapping[str, Any]) -> None:
    """Redirect ``owner``'s callables to ours: wrap what exists, add what does not."""
    for name, ours in names.items():
        current = vars(owner).get(name)
        if inspect.isfunction(current) and not inspect.isclass(ours):
            patcher.wrap(owner, name, redirect(ours, by_name=name in BY_NAME))
        else:  # classes, and 0.3 names that 0.4 lacks
            patcher.set(owner, name, ours)
