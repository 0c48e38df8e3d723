"""Every agentops name outside its documented API that the redirect touches, and why.

Code that took its references before the redirect (``from agentops import init``,
functions decorated at import time, framework integrations) reaches agentops' internals
at call time, so a few internals are redirected too. ``INTERNALS`` lists them with the
release their shape was read from and the reason; ``missing(line)`` checks each is
still there, so a release without one of them is not redirected at all rather than
half redirected.
"""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

_CLIENT_03 = (
    "initialize",
    "configure",
    "start_session",
    "end_session",
    "record",
    "add_tags",
    "set_tags",
    "create_agent",
    "end_all_sessions",
    "get_session",
    "_safe_get_session",
    "unsuppress_logs",
    "add_pre_init_warning",
    "stop_instrumenting",
    "is_initialized",
    "has_sessions",
    "is_multi_session",
    "session_count",
    "current_session_ids",
    "api_key",
    "parent_key",
)
_TRACING_CORE_04 = (
    "initialized",
    "start_trace",
    "end_trace",
    "make_span",
    "get_tracer",
    "get_active_traces",
    "get_active_trace_count",
    "initialize",
    "update_config",
    "initialize_from_config",
)
FACTORY_HELPERS = (
    "_create_as_current_span",
    "_record_entity_input",
    "_record_entity_output",
    "_process_sync_generator",
    "_process_async_generator",
)


class Internal(NamedTuple):
    line: str  # the agentops line, "0.3" or "0.4"
    owner: str  # "module:attribute", a module, or "agentops.Client()" (0.3's client class)
    names: tuple[str, ...]
    read: str  # the release its shape was read from
    why: str


INTERNALS: tuple[Internal, ...] = (
    Internal(
        "0.3",
        "agentops.Client()",
        _CLIENT_03,
        "0.3.26",
        "stale init/start_session/... call the client singleton at call time; reached "
        "through the public agentops.Client(); is_initialized needs frames.py",
    ),
    Internal(
        "0.3",
        "agentops",
        ("check_agentops_update",),
        "0.3.26",
        "a stale agentops.init() starts a thread running it, a request to PyPI",
    ),
    Internal(
        "0.4",
        "agentops.sdk.core:TracingCore",
        _TRACING_CORE_04,
        "0.4.21",
        "decorated functions, stale start_trace/end_trace and agentops.legacy call the "
        "tracer singleton at call time",
    ),
    Internal(
        "0.4",
        "agentops.client.client:Client",
        ("init", "configure"),
        "0.4.21",
        "a stale agentops.init() calls them",
    ),
    Internal(
        "0.4",
        "agentops.sdk.decorators.factory",
        ("create_entity_decorator", *FACTORY_HELPERS),
        "0.4.21",
        "wrappers decorated before the redirect look the helpers up at each call; without "
        "them those calls would make no span",
    ),
    Internal(
        "0.4",
        "agentops.legacy",
        ("_current_trace_context", "_current_session"),
        "0.4.21",
        "a stale legacy end_session() ends the session kept there",
    ),
    Internal(
        "0.4",
        "agentops.validation",
        ("validate_trace_spans", "get_jwt_token_sync", "ValidationError"),
        "0.4.21",
        "validate_trace_spans answers from the local session; a stale reference gets no "
        "token, so it asks no server",
    ),
    Internal(
        "0.4",
        "agentops.logging.formatters",
        ("AgentOpsLogFormatter",),
        "0.4.21",
        "agentops.logger prints as agentops' init() makes it print, without agentops.log",
    ),
)


def owner(path: str) -> Any:
    """The object a row's owner names (imports the module it lives in)."""
    if path == "agentops.Client()":
        return client_class_03()
    module_name, _, attribute = path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


def client_class_03() -> type:
    """agentops 0.3's client class, from its public singleton factory ``agentops.Client()``."""
    return type(importlib.import_module("agentops").Client())


def missing(line: str) -> list[str]:
    """The rows' names of ``line`` that this agentops lacks (empty: safe to redirect)."""
    absent = []
    for row in INTERNALS:
        if row.line != line:
            continue
        path, names = row.owner, row.names
        try:
            target = owner(path)
        except Exception:
            absent.append(path)
            continue
        absent += [f"{path}.{name}" for name in names if not _has(target, name)]
    return absent


def _has(target: Any, name: str) -> bool:
    if isinstance(target, type):  # a class's own or inherited attribute, without calling it
        return any(name in vars(klass) for klass in target.__mro__)
    return hasattr(target, name)
