"""agentops 0.3.x (tested on 0.3.26) redirected onto this engine.

Two layers. The public names of ``agentops`` and ``agentops.decorators`` are
replaced, so ``agentops.X`` and every later ``from agentops import X`` get this
package's function. Code that took a reference earlier (``from agentops import
init`` before instrumenting, functions decorated at import time, framework
integrations) goes through agentops' ``Client`` singleton at call time, so the
client class's methods are redirected too: its ``initialize()`` starts no
thread, contacts no server, installs no signal handler nor LLM patch. The
client class comes from agentops' public ``agentops.Client()`` factory; the
internals touched are listed in ``internals.py``.
"""

from __future__ import annotations

import importlib
import logging
import os
from typing import Any

from .._api import functions, legacy
from .._api.decorators import record_action, record_tool, track_agent
from .._api.functions import start_session
from .._engine.events import ActionEvent, ErrorEvent, LLMEvent, ToolEvent
from .._engine.sessions import Session
from .._runtime.owner import RUNTIME
from . import frames, shared
from .internals import client_class_03

DECORATORS = ("record_action", "record_tool", "record_function", "track_agent")


_LEVELS = frozenset({"CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"})


def already_initialized(module: Any) -> bool:
    return bool(module.Client().is_initialized)  # the original property, before redirect()


def show_logs(options: dict[str, Any] | None = None) -> None:
    """What agentops 0.3's ``unsuppress_logs()`` does: its logger at AGENTOPS_LOGGING_LEVEL."""
    level = os.environ.get("AGENTOPS_LOGGING_LEVEL", "INFO").upper()
    importlib.import_module("agentops").logger.setLevel(
        getattr(logging, level) if level in _LEVELS else logging.INFO
    )


init = shared.make_init(show_logs)


def redirect(module: Any, patcher: shared.Redirector) -> None:
    decorators = importlib.import_module("agentops.decorators")
    client_class = client_class_03()
    # agentops.init's code object, for Client.is_initialized: read before it is replaced.
    RUNTIME.redirect.originals["init_code"] = getattr(module.init, "__code__", None)
    names = {
        "init": init,
        "configure": shared.configure,
        "start_session": start_session,
        "end_session": functions.end_session,
        "record": functions.record,
        "add_tags": functions.add_tags,
        "set_tags": functions.set_tags,
        "end_all_sessions": functions.end_all_sessions,
        "get_api_key": legacy.get_api_key,
        "set_api_key": legacy.set_api_key,
        "set_parent_key": legacy.set_parent_key,
        "create_agent": legacy.create_agent,
        "get_session": legacy.get_session,
        "stop_instrumenting": shared.noop,
        "record_action": record_action,
        "record_tool": record_tool,
        "record_function": legacy.record_function,
        "track_agent": track_agent,
        "ActionEvent": ActionEvent,
        "LLMEvent": LLMEvent,
        "ToolEvent": ToolEvent,
        "ErrorEvent": ErrorEvent,
        "Session": Session,
    }
    shared.patch_names(patcher, module, names)
    shared.patch_names(patcher, decorators, {name: names[name] for name in DECORATORS})
    # A stale agentops.init() starts a thread running this global: no PyPI request.
    patcher.set(module, "check_agentops_update", shared.noop)
    for name, value in vars(_ClientMethods).items():
        if not name.startswith("__"):
            patcher.set(client_class, name, value)


class _ClientMethods:
    """What agentops' ``Client`` does while redirected (copied onto the class)."""

    add_pre_init_warning = stop_instrumenting = shared.noop

    def unsuppress_logs(self) -> None:
        show_logs()

    def configure(self, **options: Any) -> None:
        shared.configure(**options)

    def initialize(self) -> Session | None:
        return init()

    def start_session(self, tags: Any = None, inherited_session_id: Any = None) -> Session:
        return start_session(tags, inherited_session_id)

    def end_session(
        self,
        end_state: Any = None,
        end_state_reason: Any = None,
        video: Any = None,
        is_auto_end: Any = None,
    ) -> Any:
        return functions.end_session(
            end_state, end_state_reason, video=video, is_auto_end=is_auto_end
        )

    def record(self, event: Any) -> None:
        functions.record(event)

    def add_tags(self, tags: Any) -> None:
        functions.add_tags(tags)

    def set_tags(self, tags: Any) -> None:
        functions.set_tags(tags)

    def create_agent(self, name: Any, agent_id: Any = None, session: Any = None) -> str:
        return legacy.create_agent(name, agent_id, session)

    def end_all_sessions(self) -> None:
        functions.end_all_sessions()

    def _safe_get_session(self) -> Session | None:
        return RUNTIME.sessions.current()

    def get_session(self, session_id: Any) -> Session | None:
        return legacy.get_session(session_id)

    @property
    def is_initialized(self) -> bool:
        # Frame inspection (frames.py), as no public hook tells the callers apart: a stale
        # agentops.init() must see False to go on (to our initialize()); everyone else sees
        # True, so stale start_session()/record() do not bail out.
        return frames.caller_code() is not RUNTIME.redirect.originals.get("init_code")

    # This engine resolves sessions itself and says when it cannot.
    has_sessions = property(lambda self: True)
    is_multi_session = property(lambda self: False)
    session_count = property(lambda self: len(RUNTIME.sessions.running))
    current_session_ids = property(lambda self: [s.session_id for s in RUNTIME.sessions.active()])
    api_key = property(lambda self: legacy.get_api_key())
    parent_key = property(lambda self: RUNTIME.settings.parent_key)
