"""Reliable AI-agent sessions on OpenTelemetry.

A session is one agent run, exported as one **root span** held in the
OpenTelemetry context, so concurrent sessions (threads, asyncio tasks) and
repeated ones (notebook cells re-run, re-``init``) never trample each other.
Everything the agent does inside it lands in the session's trace and is
exported with standard OTLP to any backend (Jaeger, Grafana Tempo, Phoenix).

Usage
-----

.. code:: python

    import opentelemetry_instrumentation_agentops as agentops

    agentops.init(auto_start_session=False)   # OTLP/HTTP to localhost:4318 unless
                                               # a TracerProvider is already set
    with agentops.start_session(tags=["demo"]) as session:
        agentops.record(agentops.ActionEvent(action_type="plan"))
        agentops.record(agentops.LLMEvent(model="gpt-4o", prompt_tokens=12,
                                          completion_tokens=30))
    print(session.get_analytics())

Zero code: ``opentelemetry-instrument python agent.py`` loads
:class:`AgentOpsInstrumentor` through the ``agentops`` entry point; or call
``AgentOpsInstrumentor().instrument()`` yourself.

Decorators ``record_action``, ``record_tool`` and ``track_agent`` trace sync,
async, generator and async-generator functions. Misuse never raises (one
warning through the ``opentelemetry_instrumentation_agentops`` logger) unless
strict mode is on (``strict=True`` or ``OTEL_INSTRUMENTATION_AGENTOPS_STRICT``).

API
---
"""

from .api import (
    add_tags,
    end_all_sessions,
    end_session,
    get_active_sessions,
    get_current_session,
    init,
    record,
    set_tags,
)
from .decorators import record_action, record_tool, track_agent
from .end_state import EndState
from .errors import (
    AgentOpsError,
    AmbiguousSessionError,
    InvalidArgumentError,
    InvalidEndStateError,
    NoSessionError,
    SessionEndedError,
)
from .events import ActionEvent, ErrorEvent, Event, LLMEvent, ToolEvent
from .instrumentor import AgentOpsInstrumentor
from .session import Session, start_session
from .version import __version__

__all__ = [
    "ActionEvent",
    "AgentOpsError",
    "AgentOpsInstrumentor",
    "AmbiguousSessionError",
    "EndState",
    "ErrorEvent",
    "Event",
    "InvalidArgumentError",
    "InvalidEndStateError",
    "LLMEvent",
    "NoSessionError",
    "Session",
    "SessionEndedError",
    "ToolEvent",
    "__version__",
    "add_tags",
    "end_all_sessions",
    "end_session",
    "get_active_sessions",
    "get_current_session",
    "init",
    "record",
    "record_action",
    "record_tool",
    "set_tags",
    "start_session",
    "track_agent",
]
