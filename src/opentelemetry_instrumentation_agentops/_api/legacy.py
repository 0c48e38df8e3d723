"""AgentOps 0.4's trace API, and the 0.3 extras, on this package's sessions.

A session is 0.4's ``TraceContext``: ``start_trace()`` starts one and returns it,
``end_trace()`` ends it (without an argument, the current session only: 0.4 ended every
trace of the process, ``end_all_sessions()`` still does), ``update_trace_metadata()``
sets ``trace.metadata.*`` attributes on the current root. ``TraceState`` and
OpenTelemetry's ``StatusCode`` map to end states by name. 0.3's ``record_function``,
``create_agent``, ``get_session`` and the API-key functions (kept in memory, never
exported) are here too.
"""

from __future__ import annotations

import enum
import json
import os
from collections.abc import Mapping
from typing import Any

from opentelemetry.trace import StatusCode  # re-exported: AgentOps 0.4 had it

from .._engine import attributes as attr
from .._engine.content import attribute_value, safe_str
from .._engine.events import agent_identity
from .._engine.redaction import REDACTED, hides
from .._engine.sessions import Session
from .._engine.types import InvalidArgumentError, SessionEndedError, report
from .._runtime.owner import RUNTIME
from .decorators import create_agent_span, record_action, record_tool
from .functions import as_session, end_session, resolve_session, start_session
from .session import AgentOpsSession

DEFAULT_TRACE_NAME = "session"


class TraceState(enum.Enum):
    """AgentOps 0.4's end states; they map by name (SUCCESS → Success, ERROR → Fail)."""

    SUCCESS = StatusCode.OK
    ERROR = StatusCode.ERROR
    UNSET = StatusCode.UNSET

    def __str__(self) -> str:
        return self.name

    def to_status_code(self) -> StatusCode:
        return self.value


SUCCESS = TraceState.SUCCESS
ERROR = TraceState.ERROR
UNSET = TraceState.UNSET

# A session is what AgentOps 0.4 calls a trace context.
TraceContext = AgentOpsSession


def start_trace(trace_name: Any = DEFAULT_TRACE_NAME, tags: Any = None) -> Session:
    """Start a session named ``trace_name`` and make it current; AgentOps 0.4 style."""
    name = None if trace_name in (None, "", DEFAULT_TRACE_NAME) else trace_name
    if isinstance(tags, Mapping):  # 0.4: a dict of tags is a set of attributes
        return start_session(name=name, attributes=dict(tags))
    return start_session(tags, name=name)


def end_trace(trace_context: Any = None, end_state: Any = "Success") -> dict | None:
    """End ``trace_context`` (a session), or the current session; returns its analytics."""
    if trace_context is None:
        return end_session(end_state)
    session = as_session(trace_context)
    if session is None:
        report(
            InvalidArgumentError,
            f"end_trace() takes the session that start_trace() returned, got "
            f"{type(trace_context).__name__}; nothing was ended.",
        )
        return None
    return end_session(end_state, session=session)


def update_trace_metadata(metadata: Any, prefix: str = attr.TRACE_METADATA_PREFIX) -> bool:
    """Set ``metadata`` on the current session's root span; True when something was set."""
    if not isinstance(metadata, Mapping):
        report(InvalidArgumentError, "update_trace_metadata() takes a dict; nothing was set.")
        return False
    session = resolve_session("update trace metadata", "span.set_attribute")
    if session is None:
        return False
    if not session.is_running:
        report(
            SessionEndedError,
            f"Session {session.session_id} has ended; update_trace_metadata() set nothing.",
        )
        return False
    updated = False
    for key, value in metadata.items():
        key = safe_str(key, 256)
        if key == "tags" and value is not None:
            session.add_tags(value)
            updated = True
            continue
        value = REDACTED if hides(key, value) else _metadata_value(value)
        if value is None:
            continue
        name = key if key.startswith(f"{prefix}.") else f"{prefix}.{key}"
        session.span.set_attribute(name, value)
        updated = True
    return updated


def _metadata_value(value: Any) -> Any:
    """An attribute value for metadata, or None to skip it (None and nested objects)."""
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)) and all(
        isinstance(v, (str, bool, int, float)) for v in value
    ):
        if value and len({type(v) for v in value}) == 1:
            return attribute_value(list(value))
        return json.dumps(list(value))
    if value is not None:
        report(
            InvalidArgumentError,
            f"update_trace_metadata(): a {type(value).__name__} value was skipped; use "
            "strings, numbers, booleans or lists of them.",
        )
    return None


def record_function(event_name: Any = None) -> Any:
    """AgentOps 0.3's old name of ``record_action``."""
    return record_action(event_name)


track_tool = record_tool  # AgentOps 0.4's legacy name


def create_agent(name: Any, agent_id: Any = None, session: Any = None) -> str:
    """AgentOps 0.3: an instant ``create_agent {name}`` span; returns the agent id."""
    target = as_session(session) or resolve_session("create agent", "create_agent")
    agent_id, agent_name = agent_identity(name, agent_id)
    create_agent_span(agent_id, agent_name, target)  # without a session, still exported
    return agent_id


def get_session(session_id: Any) -> Session | None:
    """The running session with this id (a string or a ``uuid.UUID``), if any."""
    wanted = str(session_id)
    return next((s for s in RUNTIME.sessions.active() if s.session_id == wanted), None)


def get_api_key() -> str | None:
    """The AgentOps API key given to ``init``/``set_api_key`` (or ``$AGENTOPS_API_KEY``)."""
    return RUNTIME.settings.api_key or os.environ.get("AGENTOPS_API_KEY")


def set_api_key(api_key: str | None) -> None:
    """Kept in memory for ``get_api_key``; never sent anywhere nor written to spans."""
    RUNTIME.settings.api_key = api_key


def set_parent_key(parent_key: str | None) -> None:
    """Kept in memory only (AgentOps 0.3's organisation key has no meaning here)."""
    RUNTIME.settings.parent_key = parent_key
