"""What a context holds once the session it held ended.

A context that held a session keeps acting on it after it ended (module-level calls there
warn and act on it), so a stale context never reaches another user's session. A session
started over an ended one remembers that context while it runs, and at its end only the
nearest context whose session still runs (``live``): ended sessions never chain. Forgetting
the ended one at the start instead cost a context copy per session in a loop of sessions.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import context
from opentelemetry.context import Context

from .._runtime.registry import SESSION_KEY


def live(ctx: Context) -> Context:
    """``ctx``, or the nearest earlier context whose session still runs."""
    session: Any = ctx.get(SESSION_KEY)
    while session is not None and session.ended:
        ctx = session.previous_context
        session = ctx.get(SESSION_KEY)
    return ctx


def remembering(ended: Any, ctx: Context) -> Context:
    """What a context returns to once ``ended`` ended in it: ``ctx`` (a ``live()`` one),
    holding ``ended`` when no session runs there."""
    return ctx if ctx.get(SESSION_KEY) is not None else context.set_value(SESSION_KEY, ended, ctx)
