"""The one place the redirect looks at its caller's frame, and why each use has to.

Frame inspection is a last resort: each use below is where agentops gives no
public hook that tells two callers apart, and each is commented where it is
made, through ``inspect.currentframe()``; where frames are not supported the
callers get None and take their default path.

- 0.3, ``Client.is_initialized`` (``v03.py``): agentops' own ``init`` and
  ``start_session`` both read it and need opposite answers.
- 0.4, ``TracingCore.end_trace`` (``v04_core.py``): agentops' ``end_trace()`` (the
  current session) and the legacy ``end_all_sessions()`` (every session) both
  call it with no trace; a decorated function that raised calls it from the
  decorator factory, which is how its session is known to have failed.
- 0.4, the factory's ``_create_as_current_span`` (``v04_core.py``): the decorated
  class instance (``self``) or bound instance (``instance``) lives only in the
  calling wrapper's locals.
"""

from __future__ import annotations

import inspect
from types import CodeType, FrameType
from typing import Any


def caller(depth: int = 1) -> FrameType | None:
    """The frame ``depth`` levels above the function calling ``caller()``."""
    frame = inspect.currentframe()  # this function's own frame, or None without frame support
    for _ in range(depth + 1):
        if frame is None:
            return None
        frame = frame.f_back
    return frame


def caller_code(depth: int = 1) -> CodeType | None:
    frame = caller(depth + 1)
    return None if frame is None else frame.f_code


def caller_local(frame: FrameType | None, name: str) -> Any:
    """A local variable of ``frame`` (read, never written), or None."""
    return None if frame is None else frame.f_locals.get(name)
