"""agentops 0.4.x (checked on 0.4.21) redirected onto this engine.

Two layers. The public names of ``agentops``, ``agentops.legacy``,
``agentops.sdk`` and ``agentops.sdk.decorators`` are replaced by this package's
(the 0.3 names that 0.4 dropped are added back), so ``agentops.X`` and every
later ``from agentops... import X`` get ours. Code that took a reference earlier
(functions and classes decorated at import time, ``from agentops import
start_trace`` before instrumenting, the CrewAI integration) looks up agentops'
``tracer`` singleton and its decorator helpers at call time; those are
redirected too (``tracing.py`` holds them), so ``agentops.init`` never sets a
global provider, patches no builtin, writes no ``agentops.log`` and sends
nothing to AgentOps.
"""

from __future__ import annotations

import importlib
from typing import Any

from .. import api, legacy
from ..api import start_session
from ..decorators import record_action, record_tool, track_agent
from ..entities import (
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
from ..events import ActionEvent, ErrorEvent, LLMEvent, ToolEvent
from ..sessions import Session
from . import common, tracing
from .patcher import Patcher

ENTITY_DECORATORS = {
    "trace": trace,
    "session": session,
    "agent": agent,
    "task": task,
    "operation": operation,
    "workflow": workflow,
    "tool": tool,
    "guardrail": guardrail,
    "track_endpoint": track_endpoint,
}
LEGACY_NAMES = (
    "start_session",
    "end_session",
    "end_all_sessions",
    "track_agent",
    "track_tool",
    "ActionEvent",
    "LLMEvent",
    "ToolEvent",
    "ErrorEvent",
)  # not Session: a stale legacy start_session() wraps our session in agentops' class


def detect(module: Any) -> bool:
    return hasattr(module, "start_trace") and hasattr(module, "tracer")


def already_initialized(module: Any) -> bool:
    return bool(getattr(module.tracer, "_initialized", False))


def end_all_sessions() -> None:
    """0.4's ``end_all_sessions()``: every session, Success."""
    api.end_all_sessions("Success")


def redirect(module: Any, patcher: Patcher) -> None:
    sdk = importlib.import_module("agentops.sdk")
    decorators = importlib.import_module("agentops.sdk.decorators")
    legacy_module = importlib.import_module("agentops.legacy")
    tracing.capture_originals(module)  # before anything is replaced
    names = {
        "init": common.init,
        "configure": common.configure,
        "start_session": start_session,
        "end_session": api.end_session,
        "end_all_sessions": end_all_sessions,
        "record": api.record,
        "start_trace": legacy.start_trace,
        "end_trace": legacy.end_trace,
        "update_trace_metadata": legacy.update_trace_metadata,
        "ActionEvent": ActionEvent,
        "LLMEvent": LLMEvent,
        "ToolEvent": ToolEvent,
        "ErrorEvent": ErrorEvent,
        "Session": Session,
        "track_agent": track_agent,
        "track_tool": record_tool,
        # 0.3 names that 0.4 dropped: 0.3 code runs on 0.4 too
        "add_tags": api.add_tags,
        "set_tags": api.set_tags,
        "record_action": record_action,
        "record_tool": record_tool,
        "record_function": legacy.record_function,
        "create_agent": legacy.create_agent,
        "get_session": legacy.get_session,
        "stop_instrumenting": common.noop,
        "get_api_key": legacy.get_api_key,
        "set_api_key": legacy.set_api_key,
        "set_parent_key": legacy.set_parent_key,
        **ENTITY_DECORATORS,
    }
    common.patch_names(patcher, module, names)
    common.patch_names(patcher, legacy_module, {name: names[name] for name in LEGACY_NAMES})
    common.patch_names(patcher, decorators, ENTITY_DECORATORS)
    common.patch_names(patcher, sdk, {k: v for k, v in ENTITY_DECORATORS.items() if k in vars(sdk)})
    tracing.redirect(patcher)
