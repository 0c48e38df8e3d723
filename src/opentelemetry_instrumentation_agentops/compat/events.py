"""Events built by the real ``agentops`` package, read as this package's events.

Functions decorated by agentops 0.3 before the redirect, and code holding
agentops' own event classes, still build agentops' event objects and hand them
to ``record()``. They are duck-typed by class name and ``event_type``, and
copied field by field into the matching event class of this package.
"""

from __future__ import annotations

import contextlib
import dataclasses
import decimal
import logging
from typing import Any

from ..events import ActionEvent, ErrorEvent, Event, EventType, LLMEvent, ToolEvent

logger = logging.getLogger("opentelemetry_instrumentation_agentops")

_BY_TYPE: dict[str, type[Event]] = {
    EventType.LLM: LLMEvent,
    EventType.ACTION: ActionEvent,
    EventType.TOOL: ToolEvent,
    EventType.ERROR: ErrorEvent,
}
_BY_CLASS: dict[str, type[Event]] = {
    cls.__name__: cls for cls in (ActionEvent, LLMEvent, ToolEvent, ErrorEvent)
}
# agentops 0.4's legacy ActionEvent()/ErrorEvent() return these stand-ins.
_BY_CLASS.update(LegacyActionEvent=ActionEvent, LegacyErrorEvent=ErrorEvent)


def foreign_event(obj: Any) -> Any:
    """This package's event for an agentops event object; ``obj`` itself for anything else."""
    if obj is None or isinstance(obj, Event):
        return obj
    cls = _BY_CLASS.get(type(obj).__name__) or _BY_TYPE.get(_event_type(obj))
    if cls is None:
        return obj
    try:
        values = {
            f.name: getattr(obj, f.name)
            for f in dataclasses.fields(cls)
            if f.init and hasattr(obj, f.name)
        }
        event_type = _event_type(obj)
        if event_type is not None:
            values["event_type"] = event_type
        if isinstance(values.get("cost"), decimal.Decimal):
            values["cost"] = float(values["cost"])
        if values.get("trigger_event") is not None:
            values["trigger_event"] = foreign_event(values["trigger_event"])
        return cls(**values)
    except Exception:  # an odd object: recorded as it is (an action), never an error
        logger.debug("could not read agentops event %r", type(obj), exc_info=True)
        return obj


def _event_type(obj: Any) -> str | None:
    value = None
    with contextlib.suppress(Exception):
        value = getattr(obj, "event_type", None)
        value = getattr(value, "value", value)  # agentops' EventType enum
    return value if isinstance(value, str) else None
