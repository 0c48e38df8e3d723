"""Misuse is reported, never raised, unless strict mode is on (design.md section 7).

Every case has its own :class:`AgentOpsError` subclass so strict users can catch
exactly what they expect; the default mode logs the same message once per call
through the ``opentelemetry_instrumentation_agentops`` logger.
"""

from __future__ import annotations

from .config import settings
from .log import logger, printable


class AgentOpsError(Exception):
    """Base of every error raised in strict mode."""


class NoSessionError(AgentOpsError):
    """A module-level call found no running session."""


class AmbiguousSessionError(AgentOpsError):
    """Several sessions run and none is current in this context."""


class InvalidEndStateError(AgentOpsError):
    """An end state that is not Success, Fail or Indeterminate."""


class SessionEndedError(AgentOpsError):
    """The session was already ended (ending twice, recording into it)."""


class InvalidArgumentError(AgentOpsError, TypeError):
    """An argument of the wrong type or shape."""


def report(error: type[AgentOpsError], message: str) -> None:
    """Warn about misuse, or raise ``error`` when strict mode is on.

    The message may quote what the caller gave: its control characters are escaped, so
    it stays one line whatever was given.
    """
    message = printable(message)
    if settings.strict:
        raise error(message)
    logger.warning(message)
