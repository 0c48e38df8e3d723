"""agentops 0.4.x (tested on 0.4.21) redirected onto this engine.

Two layers. The public names of ``agentops``, ``agentops.legacy``,
``agentops.sdk`` and ``agentops.sdk.decorators`` are replaced by this package's
(the 0.3 names that 0.4 dropped are added back), so ``agentops.X`` and every
later ``from agentops... import X`` get ours. Code that took a reference earlier
(functions and classes decorated at import time, ``from agentops import
start_trace`` before instrumenting, the CrewAI integration) looks up agentops'
``tracer`` singleton and its decorator helpers at call time; those are
redirected too (``v04_core.py`` holds them), so ``agentops.init`` never sets a
global provider of agentops' own, patches no builtin, writes no
``agentops.log`` and sends nothing to AgentOps: ``validate_trace_spans``
answers from the local session (``validation.py``). The internals touched are
listed in ``internals.py``.
"""

from __future__ import annotations

import importlib
import logging
import os
from types import MappingProxyType
from typing import Any

from .._api import functions, legacy
from .._api.decorators import record_action, record_tool, track_agent
from .._api.entities import (
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
from .._api.functions import start_session
from .._engine.events import ActionEvent, ErrorEvent, LLMEvent, ToolEvent
from .._engine.sessions import Session
from .._runtime.owner import RUNTIME
from . import shared, v04_core, validation

ENTITY_DECORATORS = MappingProxyType(
    {
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
)
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


def already_initialized(module: Any) -> bool:
    return bool(module.tracer.initialized)  # the original property, before redirect()


def show_logs(options: dict[str, Any]) -> None:
    """agentops' logger as its ``init()`` sets it up: a console handler, no ``agentops.log``."""
    logger = importlib.import_module("agentops").logger
    given = os.environ.get("AGENTOPS_LOG_LEVEL", "").upper() or options.get("log_level", "INFO")
    if isinstance(given, str):
        level = logging.getLevelName(given.upper())
        given = level if isinstance(level, int) else logging.INFO
    logger.setLevel(given)
    if not any(type(h) is logging.StreamHandler for h in logger.handlers):
        formatters = importlib.import_module("agentops.logging.formatters")
        handler = logging.StreamHandler()
        handler.setFormatter(formatters.AgentOpsLogFormatter())
        logger.addHandler(handler)


init = shared.make_init(show_logs)


def end_all_sessions() -> None:
    """0.4's ``end_all_sessions()``: every session, Success."""
    functions.end_all_sessions("Success")


def redirect(module: Any, patcher: shared.Redirector) -> None:
    sdk = importlib.import_module("agentops.sdk")
    decorators = importlib.import_module("agentops.sdk.decorators")
    legacy_module = importlib.import_module("agentops.legacy")
    v04_core.capture_originals(module)  # before anything is replaced
    names = {
        "init": init,
        "configure": shared.configure,
        "start_session": start_session,
        "end_session": functions.end_session,
        "end_all_sessions": end_all_sessions,
        "record": functions.record,
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
        "add_tags": functions.add_tags,
        "set_tags": functions.set_tags,
        "record_action": record_action,
        "record_tool": record_tool,
        "record_function": legacy.record_function,
        "create_agent": legacy.create_agent,
        "get_session": legacy.get_session,
        "stop_instrumenting": shared.noop,
        "get_api_key": legacy.get_api_key,
        "set_api_key": legacy.set_api_key,
        "set_parent_key": legacy.set_parent_key,
        **ENTITY_DECORATORS,
    }
    shared.patch_names(patcher, module, names)
    shared.patch_names(patcher, legacy_module, {name: names[name] for name in LEGACY_NAMES})
    shared.patch_names(patcher, decorators, ENTITY_DECORATORS)
    shared.patch_names(patcher, sdk, {k: v for k, v in ENTITY_DECORATORS.items() if k in vars(sdk)})
    validation_module = importlib.import_module("agentops.validation")
    validation.use_error(validation_module.ValidationError)
    validating = {"validate_trace_spans": validation.validate_trace_spans}
    shared.patch_names(patcher, validation_module, validating)
    shared.patch_names(patcher, module, validating)
    patcher.set(validation_module, "get_jwt_token_sync", validation.no_token)
    patcher.append(RUNTIME.end_hooks, validation.remember)
    v04_core.redirect(patcher, init)
