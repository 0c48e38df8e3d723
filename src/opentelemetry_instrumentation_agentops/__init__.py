"""Reliable AI-agent sessions on OpenTelemetry, with AgentOps' API.

A session is one agent run, exported as one root span held in the OpenTelemetry
context, so concurrent and repeated sessions never trample each other; everything the
agent does inside it lands in its trace. ``init()`` sets up OTLP export when nothing
else did; ``AgentOpsInstrumentor`` (the ``agentops`` entry point of
``opentelemetry-instrument``) adds sessions to a pipeline that exists, and redirects an
installed ``agentops`` package onto this engine. This module only re-exports: the public
API is what it names.
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
from ._engine.events import ActionEvent, ErrorEvent, Event, LLMEvent, ToolEvent
from ._engine.sampling import SessionSampler
from ._engine.sessions import Session
from ._engine.types import (
    AgentOpsError,
    AmbiguousSessionError,
    EndState,
    InvalidArgumentError,
    InvalidEndStateError,
    NoSessionError,
    SessionEndedError,
)
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
