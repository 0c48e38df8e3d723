"""Every name of agentops outside its documented API that the redirect touches, in one table.

The redirect replaces agentops' documented names (``agentops.init``,
``agentops.start_session``, the decorators, the event classes, ...) by this
package's. Code that took its references earlier reaches agentops' internals at
call time instead, so a few internals are redirected too. Each row says which
internal, in which agentops line, the version its shape was read from, and why.
Before redirecting, ``missing(line)`` checks that each is still there: an
agentops release without one of them is not redirected at all (one warning
says so) rather than half redirected.

====  ===========================================  ======================================  ======
line  owner                                        names                                   read
====  ===========================================  ======================================  ======
0.3   ``type(agentops.Client())`` (the class)      ``initialize``, ``configure``,          0.3.26
                                                   ``start_session``, ``end_session``,
                                                   ``record``, ``add_tags``, ``set_tags``,
                                                   ``create_agent``, ``end_all_sessions``,
                                                   ``get_session``, ``_safe_get_session``,
                                                   ``unsuppress_logs``,
                                                   ``add_pre_init_warning``,
                                                   ``stop_instrumenting``, ``is_initialized``,
                                                   ``has_sessions``, ``is_multi_session``,
                                                   ``session_count``, ``current_session_ids``,
                                                   ``api_key``, ``parent_key``
0.3   ``agentops`` module global                   ``check_agentops_update``               0.3.26
0.4   ``agentops.sdk.core.TracingCore``            ``initialized``, ``start_trace``,       0.4.21
                                                   ``end_trace``, ``make_span``,
                                                   ``get_tracer``, ``get_active_traces``,
                                                   ``get_active_trace_count``,
                                                   ``initialize``, ``update_config``,
                                                   ``initialize_from_config``
0.4   ``agentops.client.client.Client``            ``init``, ``configure``                 0.4.21
0.4   ``agentops.sdk.decorators.factory``          ``create_entity_decorator``,            0.4.21
                                                   ``_create_as_current_span``,
                                                   ``_record_entity_input``,
                                                   ``_record_entity_output``,
                                                   ``_process_sync_generator``,
                                                   ``_process_async_generator``
0.4   ``agentops.legacy``                          ``_current_trace_context``,             0.4.21
                                                   ``_current_session``
0.4   ``agentops.validation``                      ``validate_trace_spans``,               0.4.21
                                                   ``get_jwt_token_sync``,
                                                   ``ValidationError``
0.4   ``agentops.logging.formatters``              ``AgentOpsLogFormatter``                0.4.21
====  ===========================================  ======================================  ======

Why, row by row:

- 0.3 ``Client``: stale ``agentops.init``/``start_session``/... (references taken
  before instrumenting, framework integrations) call the client singleton at call
  time; it is reached through the public ``agentops.Client()`` (no closure cell is
  read). Its ``is_initialized`` needs the one frame inspection of ``frames.py``.
- ``check_agentops_update``: a stale ``agentops.init()`` starts a thread running
  this global, a request to PyPI; it becomes a no-op.
- 0.4 ``TracingCore``: functions decorated before the redirect, stale
  ``start_trace``/``end_trace`` and the legacy module call the ``tracer``
  singleton at call time.
- ``Client.init``/``configure``: stale ``agentops.init()`` calls them.
- the factory helpers: the wrappers of functions decorated before the redirect
  look them up in the factory's namespace at each call; no public hook exists
  (``tracer.initialized`` false would leave those calls without any span).
- ``agentops.legacy``'s globals: its stale ``end_session()`` ends the session
  kept in them.
- ``agentops.validation``: ``validate_trace_spans`` answers from the local session;
  a stale reference to it gets no token, so it asks no server.
- ``AgentOpsLogFormatter``: ``agentops.logger`` prints as agentops' ``init()``
  makes it print, without writing ``agentops.log``.
"""

from __future__ import annotations

import importlib
from typing import Any

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

# (line, owner, names, version read from): the table above, as the code checks it.
# An owner "module:attribute" is an attribute of a module; "agentops.Client()" the client class.
PRIVATE: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("0.3", "agentops.Client()", _CLIENT_03, "0.3.26"),
    ("0.3", "agentops", ("check_agentops_update",), "0.3.26"),
    ("0.4", "agentops.sdk.core:TracingCore", _TRACING_CORE_04, "0.4.21"),
    ("0.4", "agentops.client.client:Client", ("init", "configure"), "0.4.21"),
    (
        "0.4",
        "agentops.sdk.decorators.factory",
        ("create_entity_decorator", *FACTORY_HELPERS),
        "0.4.21",
    ),
    ("0.4", "agentops.legacy", ("_current_trace_context", "_current_session"), "0.4.21"),
    (
        "0.4",
        "agentops.validation",
        ("validate_trace_spans", "get_jwt_token_sync", "ValidationError"),
        "0.4.21",
    ),
    ("0.4", "agentops.logging.formatters", ("AgentOpsLogFormatter",), "0.4.21"),
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
    for row_line, path, names, _ in PRIVATE:
        if row_line != line:
            continue
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
