"""An uncaught exception in a worker thread is an error of that thread's session (defect e).

With several sessions running, the thread's own session must get it: by the time
``threading.excepthook`` runs, the thread propagation has put the context of
``start()`` back, so the exception is recorded while the thread's context still
holds its session, and only once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from opentelemetry.instrumentation.threading import ThreadingInstrumentor

import opentelemetry_instrumentation_agentops as agentops
from opentelemetry_instrumentation_agentops import AgentOpsInstrumentor


@pytest.fixture(params=["no propagation", "ours", "ours and contrib"])
def propagation(request) -> Iterator[str]:
    if request.param != "no propagation":
        AgentOpsInstrumentor().instrument()
    if request.param == "ours and contrib":
        ThreadingInstrumentor().instrument()
    yield request.param
    if request.param == "ours and contrib":
        ThreadingInstrumentor().uninstrument()
    if request.param != "no propagation":
        AgentOpsInstrumentor().uninstrument()


def crash_in_own_session(started: list) -> None:
    started.append(agentops.start_session(name=threading.current_thread().name))
    raise ValueError(f"crash in {threading.current_thread().name}")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
@pytest.mark.parametrize("count", [1, 2])
def test_each_crashing_thread_counts_one_error_in_its_own_session(spans, propagation, count):
    started: list = []
    workers = [
        threading.Thread(target=crash_in_own_session, args=(started,), name=f"worker-{i}")
        for i in range(count)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(started) == count
    for session in started:
        session.end_session()
        assert spans.root_of(session).attributes["agentops.session.errors"] == 1, session.name
        (error,) = [s for s in spans.of_trace(session.trace_id) if s.name == "error ValueError"]
        assert error.attributes["session.id"] == session.session_id
