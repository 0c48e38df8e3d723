"""Sessions across services: the session's id in W3C baggage, and stamped from it.

An agent's tool servers, MCP servers and sub-agents join its trace through context
propagation, but their spans carry no ``session.id``. With ``propagate_session`` on
(``init()``, ``instrument()`` or ``OTEL_INSTRUMENTATION_AGENTOPS_BAGGAGE``), a session's
context holds the baggage entries ``session.id`` (and ``user.id`` when the session has
one), so every propagator that injects baggage sends them along; in a process with the
same setting, a span whose trace has no session here but whose parent context carries
them gets ``session.id``, ``gen_ai.conversation.id`` and ``user.id`` at its start. The
session's id wins, as in the session's own process: a span's own value is kept under
``agentops.framework.*``. Entries are the attributes' own names, so OpenTelemetry's
baggage span processor reads them too. Values that arrive are checked as any session id
is (``is_valid_id``).
"""

from __future__ import annotations

from typing import Any

from opentelemetry import baggage
from opentelemetry.context import Context

from .._runtime.owner import RUNTIME
from .._runtime.settings import logger
from . import attributes as attr
from .ids import stamp
from .propagation import is_valid_id

SESSION_ENTRY = attr.SESSION_ID
USER_ENTRY = attr.USER_ID


def with_session(ctx: Context, session_id: str, user_id: Any) -> Context:
    """``ctx`` with the session's baggage entries (an earlier ``user.id`` removed if none)."""
    ctx = baggage.set_baggage(SESSION_ENTRY, session_id, ctx)
    if is_valid_id(user_id):
        return baggage.set_baggage(USER_ENTRY, user_id, ctx)
    if baggage.get_baggage(USER_ENTRY, ctx) is not None:  # another service's user: not ours
        return baggage.remove_baggage(USER_ENTRY, ctx)
    return ctx


def stamp_from_baggage(span: Any, parent_context: Context | None) -> None:
    """Stamp the session of the parent context's baggage on ``span``, if it carries one."""
    entries = baggage.get_all(parent_context)
    if not entries:
        return
    session_id = entries.get(SESSION_ENTRY)
    if session_id is None:
        return
    if not is_valid_id(session_id):
        _refused(SESSION_ENTRY)
        return
    stamp(span, session_id)  # a span's own id kept beside, as in the session's
    user_id = entries.get(USER_ENTRY)
    if user_id is not None and attr.USER_ID not in span.attributes:
        if is_valid_id(user_id):
            span.set_attribute(attr.USER_ID, user_id)
        else:
            _refused(USER_ENTRY)


def _refused(entry: str) -> None:
    """One warning per process: the value came from another service, never raise for it."""
    if RUNTIME.once(f"baggage {entry}"):
        logger.warning(
            "A request's W3C baggage carries a %s that is not a valid id (an empty or blank "
            "string, over 256 characters, or with control characters); its spans are not "
            "stamped with it. Fix the id the calling service gives its session.",
            entry,
        )
