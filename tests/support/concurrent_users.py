"""The concurrent users of the log tests: in-process (``test_logs.py``) and as a program run
under ``opentelemetry-instrument`` (``test_logs_zero_code.py``)."""

from __future__ import annotations

import logging
import threading

import opentelemetry_instrumentation_agentops as agentops


def serve_concurrently(log: logging.Logger, users: int) -> dict[int, str]:
    """``users`` sessions in threads, all running at once, each logging inside and outside
    an agent (``user N: start``, ``helper``, ``end``, ``after``); each user's session id."""
    all_running = threading.Barrier(users)
    session_ids: dict[int, str] = {}

    def serve(user: int) -> None:
        @agentops.track_agent(f"helper {user}")
        def helper() -> None:
            log.info("user %d: helper", user)

        with agentops.start_session(name=f"user {user}") as session:
            session_ids[user] = session.session_id
            all_running.wait(10)
            log.info("user %d: start", user)
            helper()
            all_running.wait(10)
            log.warning("user %d: end", user)
        log.info("user %d: after", user)

    threads = [threading.Thread(target=serve, args=(n,)) for n in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return session_ids
