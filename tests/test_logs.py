"""Log records carry the session (design.md section 11), through the real logging bridge.

Records go through the SDK's ``LoggingHandler`` into a real ``LoggerProvider`` and exporter
(``support/logs.py``). The exporting processor is added before ``instrument()`` or after it,
simple (it exports at once) or batched (it exports its own copy later): the stamp is on
what is exported in every order. ``tests/test_logs_zero_code.py`` runs the same under
``opentelemetry-instrument``, over OTLP.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import sys
import threading

import pytest
from opentelemetry import context
from opentelemetry.context import Context
from opentelemetry.sdk._logs import LoggerProvider
from support.concurrent_users import serve_concurrently
from support.logs import ORDERS, PROCESSING, Exported, log_pipeline

import opentelemetry_instrumentation_agentops as agentops
from opentelemetry_instrumentation_agentops import AgentOpsInstrumentor

SESSION_ID, AGENT_ID, AGENT_NAME = "session.id", "gen_ai.agent.id", "gen_ai.agent.name"
STAMP = (SESSION_ID, AGENT_ID, AGENT_NAME)
USERS = 4


def by_body(records: list[Exported]) -> dict[str, dict]:
    """Each exported record's attributes, by its (unique) body."""
    bodies = [r.body for r in records]
    assert len(bodies) == len(set(bodies)), bodies
    return {r.body: r.attributes for r in records}


def in_no_context(function, *args) -> None:
    """``function(*args)`` in a thread that holds no context (instrument() gives threads
    their starter's context: this one drops it, as a thread started elsewhere would)."""

    def run() -> None:
        token = context.attach(Context())
        try:
            function(*args)
        finally:
            context.detach(token)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


@pytest.mark.parametrize("processing", PROCESSING)
@pytest.mark.parametrize("order", ORDERS)
def test_concurrent_sessions_each_stamp_their_own_records(order, processing):
    with log_pipeline(order, processing) as pipeline:
        pipeline.logger.info("before any session")
        session_ids = serve_concurrently(pipeline.logger, USERS)
        exported = by_body(pipeline.exported())

    assert len(set(session_ids.values())) == USERS
    assert not set(STAMP) & set(exported["before any session"])
    helper_ids = set()
    for user, session_id in session_ids.items():
        for moment in ("start", "helper", "end"):
            assert exported[f"user {user}: {moment}"][SESSION_ID] == session_id, (user, moment)
        helper = exported[f"user {user}: helper"]
        assert helper[AGENT_NAME] == f"helper {user}"
        helper_ids.add(helper[AGENT_ID])
        for outside_the_agent in ("start", "end"):
            assert AGENT_ID not in exported[f"user {user}: {outside_the_agent}"]
        assert not set(STAMP) & set(exported[f"user {user}: after"])
    assert len(helper_ids) == USERS


@pytest.mark.parametrize("order", ORDERS)
def test_concurrent_asyncio_tasks_each_stamp_their_own_records(order):
    async def serve(log: logging.Logger, user: int) -> str:
        with agentops.start_session(name=f"task {user}") as session:
            await asyncio.sleep(0)  # the other tasks run between these two records
            log.info("task %d: one", user)
            await asyncio.sleep(0)
            log.info("task %d: two", user)
            return session.session_id

    async def serve_all(log: logging.Logger) -> list[str]:
        return await asyncio.gather(*(serve(log, n) for n in range(USERS)))

    with log_pipeline(order) as pipeline:
        session_ids = asyncio.run(serve_all(pipeline.logger))
        exported = by_body(pipeline.exported())
    for user, session_id in enumerate(session_ids):
        assert exported[f"task {user}: one"][SESSION_ID] == session_id
        assert exported[f"task {user}: two"][SESSION_ID] == session_id


def test_a_record_of_no_session_in_particular_is_not_stamped():
    with log_pipeline() as pipeline:
        first = agentops.start_session(name="first")
        second = agentops.start_session(name="second")

        in_no_context(pipeline.logger.info, "two running, none current")
        second.end_session()  # the context of before second: first is current again
        pipeline.logger.info("first again")
        first.end_session()
        pipeline.logger.info("none running")
        exported = by_body(pipeline.exported())
    assert not set(STAMP) & set(exported["two running, none current"])
    assert exported["first again"][SESSION_ID] == first.session_id
    assert not set(STAMP) & set(exported["none running"])


def test_a_thread_without_the_context_never_borrows_the_only_running_session():
    """Unlike module-level calls (section 5, rule 2), a record is stamped from its own
    context only: in a server, "the only running session" is another user's."""
    with log_pipeline() as pipeline:
        session = agentops.start_session(name="only")
        in_no_context(pipeline.logger.info, "from a bare thread")
        session.end_session()
        exported = by_body(pipeline.exported())
    assert not set(STAMP) & set(exported["from a bare thread"])


def test_extra_keeps_working_and_its_value_wins():
    with log_pipeline() as pipeline, agentops.start_session() as session:
        # logging refuses an extra= key that is already on the record: ours gives way.
        pipeline.logger.info("mine", extra={SESSION_ID: "chat-7", "user.id": "u1"})
        pipeline.logger.info("ours")
        exported = by_body(pipeline.exported())
    assert exported["mine"][SESSION_ID] == "chat-7"
    assert exported["mine"]["user.id"] == "u1"
    assert exported["ours"][SESSION_ID] == session.session_id


def test_a_stamped_record_pickles_as_a_plain_record():
    """What a multiprocessing queue does with a record: the other side needs nothing of ours."""
    with log_pipeline() as pipeline, agentops.start_session() as session:
        log = pipeline.logger
        record = log.makeRecord(log.name, logging.INFO, __file__, 1, "queued", (), None)
    pickled = pickle.dumps(record)
    assert b"opentelemetry_instrumentation_agentops" not in pickled
    copied = pickle.loads(pickled)
    assert vars(copied)[SESSION_ID] == session.session_id
    assert copied.getMessage() == "queued"


def test_nothing_is_stamped_while_no_logger_provider_is_in_use():
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    log = logging.getLogger("tests.logs.no-provider")
    log.addHandler(handler)
    instrumentor = AgentOpsInstrumentor()
    instrumentor.instrument()  # no logger_provider, and no global one in this process
    try:
        with agentops.start_session():
            log.warning("inside")
    finally:
        instrumentor.uninstrument()
        log.removeHandler(handler)
    (record,) = records
    assert not set(STAMP) & set(dict(vars(record)))


def test_a_logger_provider_that_records_nothing_is_named_in_a_warning(warnings_log):
    from opentelemetry._logs import NoOpLoggerProvider

    instrumentor = AgentOpsInstrumentor()
    instrumentor.instrument(logger_provider=NoOpLoggerProvider())
    instrumentor.uninstrument()
    (warning,) = [m for m in warnings_log() if "logger_provider" in m]
    assert "NoOpLoggerProvider" in warning
    assert "opentelemetry.sdk._logs.LoggerProvider" in warning


def test_uninstrument_gives_the_record_factory_back_and_stamps_no_more():
    original = logging.getLogRecordFactory()
    with log_pipeline() as pipeline:
        assert logging.getLogRecordFactory() is not original
        log = pipeline.logger
    assert logging.getLogRecordFactory() is original
    with agentops.start_session():
        record = log.makeRecord(log.name, logging.INFO, __file__, 1, "after", (), None)
    assert not set(STAMP) & set(dict(vars(record)))


def test_a_factory_set_over_ours_stays_and_ours_turns_inert():
    original = logging.getLogRecordFactory()
    with log_pipeline() as pipeline:
        ours = logging.getLogRecordFactory()

        def theirs(*args, **kwargs):  # as opentelemetry-instrumentation-logging does
            record = ours(*args, **kwargs)
            record.otelTraceID = "0"
            return record

        logging.setLogRecordFactory(theirs)
        log = pipeline.logger
    try:
        assert logging.getLogRecordFactory() is theirs  # uninstrument() left it in place
        with agentops.start_session():
            record = log.makeRecord(log.name, logging.INFO, __file__, 1, "inert", (), None)
        assert not set(STAMP) & set(dict(vars(record)))
        assert record.otelTraceID == "0"
    finally:
        logging.setLogRecordFactory(original)


def test_instrument_installs_no_handler_and_leaves_the_root_logger_and_print_alone():
    root = logging.getLogger()
    before = (list(root.handlers), list(root.filters), root.level, sys.stdout, sys.stderr)
    loggers = dict(logging.Logger.manager.loggerDict)
    instrumentor = AgentOpsInstrumentor()
    instrumentor.instrument(logger_provider=LoggerProvider(shutdown_on_exit=False))
    try:
        after = (list(root.handlers), list(root.filters), root.level, sys.stdout, sys.stderr)
        assert after == before
        assert {
            name: logger
            for name, logger in logging.Logger.manager.loggerDict.items()
            if isinstance(logger, logging.Logger) and (logger.handlers or logger.filters)
        } == {
            name: logger
            for name, logger in loggers.items()
            if isinstance(logger, logging.Logger) and (logger.handlers or logger.filters)
        }
    finally:
        instrumentor.uninstrument()
