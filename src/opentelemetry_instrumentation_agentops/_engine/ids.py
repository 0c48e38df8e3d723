"""The session's id wins: on a span of a running session's trace, ``session.id`` and
``gen_ai.conversation.id`` keep the session's id, and a framework's own value, given at the
start or written later, is kept under ``agentops.framework.session.id`` /
``agentops.framework.conversation.id``.

The span processor stamps the ids at the start (``stamp``). OpenInference's tracers write a
span's attributes again right after it started (its agno tracer writes agno's run session),
so while sessions run, the SDK's public ``Span.set_attribute`` and ``Span.set_attributes``
are replaced (``RUNTIME.patches``, held by ``"sessions"``, undone with them) by functions
that file such a value under the framework's name, then call the SDK's own. A write of
another key costs a membership test; a span pays nothing at its start.

This rests on the SDK writing a span's attributes after its start only through those two
methods, which its span class inherits from ``Span`` (checked on SDK 1.30.0 and 1.45.1;
``tests/test_session_ids.py`` fails if a release overrides them). Were it to, the ids
stamped at the start would stay, a later write would win, and nothing would fail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from opentelemetry.sdk.trace import Span

from .._runtime.owner import RUNTIME
from .._runtime.patches import Patches
from . import attributes as attr

IDS = frozenset((attr.SESSION_ID, attr.CONVERSATION_ID))
KEPT = MappingProxyType(
    {
        attr.SESSION_ID: attr.FRAMEWORK_SESSION_ID,
        attr.CONVERSATION_ID: attr.FRAMEWORK_CONVERSATION_ID,
    }
)
ONE, MANY = "set_attribute", "set_attributes"
HOLDER = "sessions"
KEY = Patches.key(Span, MANY)  # in place while sessions run (ONE with it)
_ID_KEYS = (attr.SESSION_ID, attr.CONVERSATION_ID)  # compared, never hashed (any key)


# The SDK's own method, taken before hold() replaces it: the stamp is the processor's write and
# needs no keeping. Two calls cost less than one set_attributes of both (SDK 1.45: 1.7 against
# 2.2 us, which validates the mapping as a whole; processor 250k to 243k instructions a span).
_SDK_SET_ATTRIBUTE = Span.set_attribute


def stamp(span: Any, session_id: str) -> None:
    """Write the session's ids on ``span`` of its trace at its start; the span's own values,
    if any, are kept under the framework's names."""
    # isinstance() of the SDK's abstract span class enters a Python frame (abc); its class's
    # method resolution order is a tuple scan: 0.14 to 0.06 us a span.
    if Span not in type(span).__mro__:  # a no-op provider's span, or another SDK's: as given
        span.set_attributes({attr.SESSION_ID: session_id, attr.CONVERSATION_ID: session_id})
        return
    attributes: Any = span.attributes
    if IDS.isdisjoint(attributes):  # most spans
        _SDK_SET_ATTRIBUTE(span, attr.SESSION_ID, session_id)
        _SDK_SET_ATTRIBUTE(span, attr.CONVERSATION_ID, session_id)
        return
    for key, kept in KEPT.items():  # the package's own spans start with them: nothing to write
        own = attributes.get(key)
        if own != session_id:
            if own is not None:
                _SDK_SET_ATTRIBUTE(span, kept, own)
            _SDK_SET_ATTRIBUTE(span, key, session_id)


def hold() -> None:
    """Keep the session's ids on later writes while sessions run (a session starts)."""
    patches = RUNTIME.patches
    if not patches.active(KEY):
        patches.set(HOLDER, Span, ONE, _keeping_one)
        patches.set(HOLDER, Span, MANY, _keeping_many)


def _kept_key(span: Any, key: str, value: Any) -> str:
    """Where ``value`` of an id ``key`` goes on ``span``: ``key``, unless the span belongs to a
    running session's trace, holds that session's id and ``value`` is another."""
    try:
        if not RUNTIME.patches.active(KEY):
            return key  # undone, but someone wrapped ours since: inert
        session = RUNTIME.sessions.by_trace.get(span.get_span_context().trace_id)
        if session is None or value == session.session_id:
            return key
        if span.attributes.get(key) != session.session_id:
            return key  # not stamped (a provider without our processor)
        return KEPT[key]
    except Exception:  # telemetry never breaks the application: the write goes as given
        return key


def _keeping_one(original: Callable[..., None]) -> Callable[..., None]:
    def set_attribute(self: Any, key: str, value: Any) -> None:
        if key in _ID_KEYS:
            key = _kept_key(self, key, value)
        original(self, key, value)

    return set_attribute


def _keeping_many(original: Callable[..., None]) -> Callable[..., None]:
    def set_attributes(self: Any, attributes: Mapping[str, Any]) -> None:
        try:
            given = not IDS.isdisjoint(attributes)
        except TypeError:  # not a mapping: the SDK says what is wrong with it
            given = False
        if given:
            attributes = {
                (_kept_key(self, k, v) if k in KEPT else k): v for k, v in attributes.items()
            }
        original(self, attributes)

    return set_attributes
