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
async, generator and async-generator functions.

AgentOps 0.4 code runs too: ``start_trace``/``end_trace`` (a session is the
``TraceContext``), ``update_trace_metadata``, ``TraceState`` and the decorators
``trace``, ``session``, ``agent``, ``tool``, ``workflow``, ``task``,
``operation``, ``guardrail`` (see ``legacy.py`` and ``entities.py``), as do the
0.3 extras ``record_function``, ``create_agent`` and ``get_api_key``. With the
instrumentor active, the real ``agentops`` package is redirected onto this
engine (see ``compat``). The ``session`` attribute of this package is the 0.4
decorator; the session engine is the module ``sessions``.

Misuse never raises (one warning through the
``opentelemetry_instrumentation_agentops`` logger) unless
strict mode is on (``strict=True`` or ``OTEL_INSTRUMENTATION_AGENTOPS_STRICT``).

API
---
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._api.decorators import record_action, record_tool, track_agent
from ._api.entities import (
    agent,
    guardrail,
    operation,
    session,
    task,
    tool,
    trace,
    track_endpoint,
    workflow,
)
from ._api.functions import (
    add_tags,
    end_all_sessions,
    end_session,
    get_active_sessions,
    get_current_session,
    init,
    record,
    set_tags,
    start_session,
)
from ._api.legacy import (
    ERROR,
    SUCCESS,
    UNSET,
    StatusCode,
    TraceContext,
    TraceState,
    create_agent,
    end_trace,
    get_api_key,
    get_session,
    record_function,
    set_api_key,
    set_parent_key,
    start_trace,
    track_tool,
    update_trace_metadata,
)
from ._engine.errors import (
    AgentOpsError,
    AmbiguousSessionError,
    InvalidArgumentError,
    InvalidEndStateError,
    NoSessionError,
    SessionEndedError,
)
from ._engine.events import ActionEvent, ErrorEvent, Event, LLMEvent, ToolEvent
from ._engine.sampling import SessionSampler
from ._engine.sessions import Session
from ._engine.types import EndState
from .version import __version__

if TYPE_CHECKING:
    from ._instrumentor import AgentOpsInstrumentor


def __getattr__(name: str) -> Any:
    # AgentOpsInstrumentor loads opentelemetry.instrumentation, wrapt and the agentops redirect:
    # loaded when first asked for (the entry point, an import), not by `import` of the package.
    if name == "AgentOpsInstrumentor":
        return importlib.import_module(f"{__name__}._instrumentor").AgentOpsInstrumentor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = (
    "ERROR",
    "SUCCESS",
    "UNSET",
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
    "SessionSampler",
    "StatusCode",
    "ToolEvent",
    "TraceContext",
    "TraceState",
    "__version__",
    "add_tags",
    "agent",
    "create_agent",
    "end_all_sessions",
    "end_session",
    "end_trace",
    "get_active_sessions",
    "get_api_key",
    "get_current_session",
    "get_session",
    "guardrail",
    "init",
    "operation",
    "record",
    "record_action",
    "record_function",
    "record_tool",
    "session",
    "set_api_key",
    "set_parent_key",
    "set_tags",
    "start_session",
    "start_trace",
    "task",
    "tool",
    "trace",
    "track_agent",
    "track_endpoint",
    "track_tool",
    "update_trace_metadata",
    "workflow",
)
