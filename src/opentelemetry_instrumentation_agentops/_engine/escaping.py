"""What a log line may quote: text from outside with its control characters escaped.

Names, ids, tags and reasons come from outside (a chat server takes its ``conversation_id``
from a request body): every line that quotes one passes it through :func:`printable`, so no
input can start a line of its own in the log. The lowest layer that quotes them is this one:
``_runtime`` logs nothing it was given.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls (NEL included) and the Unicode line and paragraph separators:
# every character a terminal acts on or ``str.splitlines`` breaks a line at.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")  # \n, \x1b, \x85, \u2028


def printable(text: str) -> str:
    """``text`` with its control characters escaped as Python writes them (``\\n``, ``\\x1b``)."""
    return CONTROL.sub(_escape, text)


def has_control(text: str) -> bool:
    """Whether ``text`` holds a character :func:`printable` escapes (not valid in an id)."""
    return CONTROL.search(text) is not None
