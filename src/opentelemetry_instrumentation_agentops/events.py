"""AgentOps event classes, with AgentOps' field names and defaults.

Each event becomes one span when recorded (see ``spans.py``). The first
positional field is ``event_type``, as in AgentOps 0.3, so code written for it
builds the same events here.
"""

from __future__ import annotations

import random
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .content import safe_str


def new_event_id() -> str:
    """A random UUID-4 string, four times cheaper than ``str(uuid.uuid4())``."""
    h = "%032x" % (random.getrandbits(128) & _UUID4_MASK | _UUID4_BITS)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_UUID4_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_BITS = (0x4000 << 64) | (0x8000 << 48)


class Timestamp(str):
    """An ISO-8601 time that also knows its nanoseconds, so recording needs no parse."""

    __slots__ = ("ns",)
    ns: int


def now_iso() -> str:
    """The current time as AgentOps writes it (ISO-8601, UTC, microseconds)."""
    now = datetime.now(timezone.utc)
    text = Timestamp(now.isoformat())
    text.ns = int(now.timestamp() * 1e9)
    return text


class EventType:
    LLM = "llms"
    ACTION = "actions"
    API = "apis"
    TOOL = "tools"
    ERROR = "errors"


@dataclass
class Event:
    event_type: str
    params: dict[str, Any] | None = None
    returns: Any = None
    init_timestamp: str = field(default_factory=now_iso)
    end_timestamp: str | None = None
    agent_id: Any = None
    id: Any = field(default_factory=uuid.uuid4)
    session_id: Any = None


@dataclass
class ActionEvent(Event):
    event_type: str = EventType.ACTION
    action_type: str | None = None
    logs: Any = None
    screenshot: str | None = None


@dataclass
class LLMEvent(Event):
    event_type: str = EventType.LLM
    thread_id: Any = None
    prompt: Any = None
    prompt_tokens: int | None = None
    completion: Any = None
    completion_tokens: int | None = None
    cost: float | None = None
    model: str | None = None


@dataclass
class ToolEvent(Event):
    event_type: str = EventType.TOOL
    name: str | None = None
    logs: Any = None


@dataclass
class ErrorEvent(Event):
    """An error; ``exception`` fills ``error_type`` and ``details`` when they are unset."""

    event_type: str = EventType.ERROR
    trigger_event: Event | None = None
    exception: BaseException | None = None
    error_type: str | None = None
    code: str | None = None
    details: Any = None
    logs: Any = None

    def __post_init__(self) -> None:
        if isinstance(self.exception, BaseException):
            given = self.error_type  # any type: only None or "" is "not given"
            if given is None or (isinstance(given, str) and not given):
                self.error_type = type(self.exception).__name__
            if self.details is None:
                self.details = safe_str(self.exception)
            if self.logs is None:
                self.logs = "".join(traceback.format_exception(self.exception))
        elif self.logs is None and self.exception is None:
            self.logs = _current_traceback()
        if self.end_timestamp is None:
            self.end_timestamp = self.init_timestamp


def _current_traceback() -> str | None:
    """The exception being handled, as AgentOps filled ``logs`` by default."""
    text = traceback.format_exc()
    return None if text.startswith("NoneType: None") else text
