"""Session metrics (design.md section 10): recorded at each session's start and end.

The instruments are built by ``metrics`` work in progress; until then these hooks do nothing.
"""

from __future__ import annotations

from typing import Any


def session_started(session: Any) -> None:
    """A session started (duck-typed: ``sessions.Session``)."""


def session_ended(session: Any) -> None:
    """A session ended, with its end state, duration and totals."""
