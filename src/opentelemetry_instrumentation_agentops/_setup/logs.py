"""Log records carry the session: ``session.id``, and the agent while one runs.

While a LoggerProvider is in use (the one given to ``instrument(logger_provider=...)``, else
the global one, as ``opentelemetry-instrument`` sets it up), every ``logging`` record made
while a session is current carries ``session.id``, and ``gen_ai.agent.id`` /
``gen_ai.agent.name`` while an agent runs. The OpenTelemetry logging handlers (the SDK's and
``opentelemetry-instrumentation-logging``'s) turn a record's extra attributes into log
attributes, so the session is on the log record before any log record processor sees it.

Why not a log record processor: the SDK runs them in the order they were added, has no
public way to put one first, and a batch processor takes its copy of a record when it
receives it; one appended by ``instrument()`` after the user's exporter would stamp records
already on their way out. Why not a ``logging.Filter``: it belongs to a handler, and the
package installs no handler, touches no logger and leaves ``print`` alone. The record
factory (``logging.setLogRecordFactory``) is logging's own hook for attributes on every
record, made in the caller's thread, so in the caller's context: a record carries the
session of the thread or task that logged it, as a span carries the session of its trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from opentelemetry import context
from opentelemetry._logs import get_logger_provider

from .._engine import attributes as attr
from .._engine.metrics import records_nothing
from .._runtime.owner import RUNTIME
from .._runtime.registry import AGENT_KEY, SESSION_KEY
from .._runtime.settings import logger

FACTORY = ("logging", "record factory")  # the patch key of our record factory
STAMPED = frozenset({attr.SESSION_ID, attr.AGENT_ID, attr.AGENT_NAME})
_LOGS_API = "opentelemetry._logs"


class RecordAttributes(dict[str, Any]):
    """A stamped record's ``__dict__``, in which the stamp gives way to ``extra=``.

    ``Logger.makeRecord`` raises KeyError for an ``extra`` key already on the record:
    ``logger.info(..., extra={"session.id": ...})`` must keep working, with its own value.
    """

    __slots__ = ()

    def __contains__(self, key: object) -> bool:
        return key not in STAMPED and dict.__contains__(self, key)

    def __reduce__(self) -> tuple[Any, ...]:
        # A pickled record (a multiprocessing queue) carries a plain dict: the process that
        # reads it needs nothing of this package.
        return (dict, (dict(self),))


def instrument(holder: str) -> None:
    """Stamp the records logging makes from now on, until ``holder`` lets go."""
    given = RUNTIME.settings.logger_provider
    if given is not None and records_nothing(given, _LOGS_API):
        logger.warning(
            "instrument(logger_provider=%r) records nothing: pass the SDK LoggerProvider "
            "(opentelemetry.sdk._logs.LoggerProvider) your logging handler writes to; until "
            "one is in use, log records are not stamped with the session.",
            given,
        )
    RUNTIME.patches.hook(
        holder, FACTORY, logging.getLogRecordFactory, logging.setLogRecordFactory, _stamping
    )


def _stamping(original: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    active = RUNTIME.patches.active

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = original(*args, **kwargs)
        if active(FACTORY):  # inert once released, if another factory wrapped ours since
            # Never break a log call, and never log from inside one. (try/except, not
            # contextlib.suppress: free when nothing is raised, and this runs for every record.)
            try:  # noqa: SIM105
                stamp(record)
            except Exception:
                pass
        return record

    return make_record


def stamp(record: logging.LogRecord) -> None:
    """Put the current session (and agent) on ``record``, when a LoggerProvider is in use."""
    current = context.get_current()
    # The session of the caller's context only: never "the only running one", which in a
    # server is another user's session whenever the caller's own has just ended.
    session: Any = current.get(SESSION_KEY)
    if session is None or session.ended or not logs_in_use():
        return
    found = RecordAttributes(vars(record))
    found.setdefault(attr.SESSION_ID, session.session_id)
    agent: Any = current.get(AGENT_KEY)
    if agent is not None:
        found.setdefault(attr.AGENT_ID, agent[0])
        found.setdefault(attr.AGENT_NAME, agent[1])
    record.__dict__ = found


def logs_in_use() -> bool:
    """Whether log records go anywhere: the given LoggerProvider, or the global one, records."""
    given = RUNTIME.settings.logger_provider
    if given is not None and not records_nothing(given, _LOGS_API):
        return True
    return not records_nothing(get_logger_provider(), _LOGS_API)
