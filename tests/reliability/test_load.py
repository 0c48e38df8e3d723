"""Load: thousands of concurrent sessions in threads, asyncio tasks and a reused pool.

Every case checks the exported spans of every session: exactly the expected spans in the
session's own trace (zero cross-talk, nothing lost, nothing duplicated), the session's end
state and totals, no "Failed to detach context", an empty registry and no Session object
kept alive afterwards. Counts: ``scale(CI, full)``; the full ones with
AGENTOPS_RELIABILITY_FULL=1.
"""

from __future__ import annotations

import asyncio
import contextvars
import random
import threading
import weakref
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

import opentelemetry_instrumentation_agentops as agentops

from .checks import LEDGER, assert_released, assert_session_traces, assert_valid_export, scale
from .workloads import Ran, run_session, run_session_async, step

pytestmark = pytest.mark.reliability

THREADS = 64
SESSIONS_PER_THREAD = scale(25, 100)
ASYNC_SESSIONS = scale(2_500, 10_000)
POOL_TASKS = scale(2_000, 10_000)
POOL_WORKERS = 4


def check_runs(spans, runs: list[Ran], detach_errors) -> None:
    """Every run's trace is exactly its spans; end states, totals; nothing left behind."""
    exported = spans.all()
    assert len({r.key for r in runs}) == len(runs)
    for ran in runs:
        ran.check()
    assert_session_traces(
        exported,
        {r.key: r.expected_names for r in runs},
        {r.key: r for r in runs},
    )
    roots = {s.context.trace_id: s for s in spans.roots()}
    for ran in runs:
        root = roots[ran.trace_id]
        assert root.attributes["agentops.session.end_state"] == ran.expected_end_state
        assert root.attributes["agentops.session.actions"] == ran.expected_analytics["Actions"]
    assert_valid_export(exported)
    assert detach_errors.count == 0
    assert_released([r.ref for r in runs])


def test_64_threads_each_running_many_sessions(spans, detach_errors):
    barrier = threading.Barrier(THREADS)
    results: list[list[Ran]] = [[] for _ in range(THREADS)]

    def worker(t: int) -> None:
        barrier.wait()
        for i in range(SESSIONS_PER_THREAD):
            results[t].extend(run_session(f"t{t}-s{i}", t * SESSIONS_PER_THREAD + i))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    runs = [ran for per_thread in results for ran in per_thread]
    assert len([r for r in runs if not r.key.endswith("/inner")]) == THREADS * SESSIONS_PER_THREAD
    check_runs(spans, runs, detach_errors)


def test_ten_thousand_concurrent_asyncio_sessions(spans, detach_errors):
    running_at_once = []

    async def session(i: int, started: asyncio.Event) -> list[Ran]:
        await started.wait()  # every task is alive before the first session starts
        result = await run_session_async(f"a{i}", i)
        running_at_once.append(len(agentops.get_active_sessions()))
        return result

    async def main() -> list[list[Ran]]:
        started = asyncio.Event()
        tasks = [asyncio.create_task(session(i, started)) for i in range(ASYNC_SESSIONS)]
        await asyncio.sleep(0)
        started.set()
        return await asyncio.gather(*tasks)

    runs = [ran for result in asyncio.run(main()) for ran in result]
    assert len(runs) > ASYNC_SESSIONS
    # Interleaving really happened: many sessions were running at the same time.
    assert max(running_at_once) > ASYNC_SESSIONS // 2
    check_runs(spans, runs, detach_errors)


def test_reused_thread_pool_never_hands_a_stale_session_to_the_next_task(
    spans, detach_errors, instrumented
):
    """A few workers run thousands of tasks of three kinds, shuffled:

    - own: the task starts its session and ends it by module-level calls; every 5th task
      "forgets" to end it (the test ends it later);
    - carried: submitted inside ``with session.activate()``, records into that session;
    - bare: submitted with no session; must see none, however stale its worker is.

    Two anchor sessions run throughout, so "the only running session" never applies.
    """
    anchors = [contextvars.copy_context().run(agentops.start_session, name=n) for n in "ab"]
    carriers = {}
    forgotten = []
    kinds = ["own", "carried", "bare"] * (POOL_TASKS // 3)
    random.Random(6).shuffle(kinds)
    seen_by_bare = Counter()
    expected: dict[str, Counter] = {a.name: Counter({f"session {a.name}": 1}) for a in anchors}

    def own(n: int) -> None:
        key = f"own{n}"
        session = agentops.start_session(name=key)
        step(key)
        agentops.record(agentops.ActionEvent(action_type=key))
        if n % 5:
            agentops.end_session("Success")
        else:
            forgotten.append(session)

    def carried(key: str) -> None:
        agentops.record(agentops.ActionEvent(action_type=key))

    def bare() -> None:
        current = agentops.get_current_session()
        seen_by_bare[current.name if current else None] += 1

    with ThreadPoolExecutor(POOL_WORKERS) as pool:
        futures = []
        for n, kind in enumerate(kinds):
            if kind == "own":
                futures.append(pool.submit(own, n))
                expected[f"own{n}"] = Counter(
                    {
                        f"session own{n}": 1,
                        "action step": 1,
                        "execute_tool lookup": 1,
                        f"chat own{n}": 1,
                        f"action own{n}": 1,
                    }
                )
            elif kind == "carried":
                key = f"carried{n}"
                carrier = contextvars.copy_context().run(agentops.start_session, name=key)
                carriers[key] = carrier
                with carrier.activate():
                    futures.append(pool.submit(carried, key))
                expected[key] = Counter({f"session {key}": 1, f"action {key}": 1})
            else:
                futures.append(pool.submit(bare))
        for future in futures:
            future.result()
        assert seen_by_bare == Counter({None: kinds.count("bare")})
        for left in [*forgotten, *carriers.values(), *anchors]:
            left.end_session("Success")
        sessions = {s.name: s for s in [*anchors, *carriers.values()]}
        sessions.update(_own_sessions(spans, expected))
        assert_session_traces(spans.all(), expected, sessions)
        assert_valid_export(spans.all())
        refs = [weakref.ref(s) for s in [*forgotten, *carriers.values(), *anchors]]
        del forgotten[:], anchors[:], sessions, left, carrier
        carriers.clear()
        # The workers are still alive: none of them may hold a finished task's session.
        assert_released(refs)
    assert detach_errors.count == 0
    LEDGER["pool tasks run"] += len(kinds)


class _Exported:
    """The identity of a session, read back from its exported root span."""

    def __init__(self, root) -> None:
        self.trace_id = root.context.trace_id
        self.session_id = root.attributes["session.id"]


def _own_sessions(spans, expected) -> dict[str, _Exported]:
    roots = {s.name.removeprefix("session "): s for s in spans.roots()}
    return {key: _Exported(roots[key]) for key in expected if key.startswith("own")}
