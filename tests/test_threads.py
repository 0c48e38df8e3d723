"""instrument(): context into threads and pools, alone and beside the real ThreadingInstrumentor."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from opentelemetry import context
from opentelemetry.instrumentation.threading import ThreadingInstrumentor
from opentelemetry.instrumentation.utils import is_instrumentation_enabled, suppress_instrumentation
from support.threads import TARGETS, layers, our_layers, threads_instrumented

from opentelemetry_instrumentation_agentops import AgentOpsInstrumentor

KEY = "agentops-test-key"


def instrument_threads() -> None:
    AgentOpsInstrumentor().instrument()


def uninstrument_threads() -> None:
    instrumentor = AgentOpsInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()


ORIGINALS = {(owner, name): vars(owner)[name] for owner, name in TARGETS}
TIMER_HAS_START = "start" in vars(threading.Timer)


def restore_originals() -> None:
    uninstrument_threads()
    ThreadingInstrumentor().uninstrument()
    for (owner, name), original in ORIGINALS.items():
        setattr(owner, name, original)
    if not TIMER_HAS_START and "start" in vars(threading.Timer):
        # ThreadingInstrumentor wraps Timer.start, inherited from Thread, and its unwrap()
        # leaves Thread's wrapper behind on Timer (its own quirk, not ours).
        del threading.Timer.start


@pytest.fixture(autouse=True)
def pristine() -> Iterator[None]:
    restore_originals()
    yield
    restore_originals()


@contextmanager
def value(item: Any) -> Iterator[None]:
    token = context.attach(context.set_value(KEY, item))
    try:
        yield
    finally:
        context.detach(token)


def seen() -> Any:
    return context.get_value(KEY)


def in_thread(make: Callable[..., threading.Thread] = threading.Thread) -> Any:
    """What a thread started here sees (constructed outside any value, started in this context)."""
    result: list[Any] = []
    thread = make(target=lambda: result.append(seen()))
    thread.start()
    thread.join()
    return result[0]


def timer(target: Callable[[], None]) -> threading.Timer:
    return threading.Timer(0, target)


def in_pool(pool: ThreadPoolExecutor) -> Any:
    return pool.submit(seen).result()


def test_thread_runs_in_the_context_of_its_start():
    instrument_threads()
    result: list[Any] = []
    with value("built"):
        thread = threading.Thread(target=lambda: result.append(seen()))
    with value("started"):
        thread.start()
    thread.join()
    assert result == ["started"]
    with value("timer"):
        assert in_thread(timer) == "timer"


def test_each_pool_task_runs_in_the_context_of_its_submit():
    instrument_threads()
    with ThreadPoolExecutor(1) as pool:
        with value("first"):
            assert in_pool(pool) == "first"
        with value("second"):
            assert in_pool(pool) == "second"
        assert in_pool(pool) is None  # the same worker, no value in the submitter's context


def test_a_pooled_worker_keeps_nothing_of_the_task_that_started_it():
    class Held:
        pass

    instrument_threads()
    with ThreadPoolExecutor(1) as pool:
        held = Held()
        ref = weakref.ref(held)
        with value(held):
            assert in_pool(pool) is held
        del held
        gc.collect()
        assert ref() is None  # the worker is alive and idle, and holds no context of the task
        assert pool._threads  # (still running: the check above was on a live worker)


def test_work_started_under_suppression_is_suppressed():
    instrument_threads()
    with suppress_instrumentation():
        assert in_thread() is None
        result: list[bool] = []
        thread = threading.Thread(target=lambda: result.append(is_instrumentation_enabled()))
        thread.start()
        thread.join()
    assert result == [False]


def test_instrument_and_uninstrument_are_idempotent():
    assert not threads_instrumented()
    instrument_threads()
    instrument_threads()
    assert threads_instrumented()
    for owner, name in TARGETS:
        assert len(our_layers(owner, name)) == 1, (owner, name)
    uninstrument_threads()
    uninstrument_threads()
    assert not threads_instrumented()
    for owner, name in TARGETS:
        assert vars(owner)[name] is ORIGINALS[owner, name]
    with value("x"):
        assert in_thread() is None
        with ThreadPoolExecutor(1) as pool:
            assert in_pool(pool) is None


# -- beside opentelemetry-instrumentation-threading -------------------------------------------


def ours_first() -> None:
    instrument_threads()
    ThreadingInstrumentor().instrument()


def contrib_first() -> None:
    ThreadingInstrumentor().instrument()
    instrument_threads()


@contextmanager
def counting_attaches(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The idents of the threads that attached a context carrying KEY, one entry per attach."""
    attaches: list[int] = []
    real_attach = context.attach

    def attach(ctx: context.Context) -> object:
        if context.get_value(KEY, ctx) is not None:
            attaches.append(threading.get_ident())
        return real_attach(ctx)

    monkeypatch.setattr(context, "attach", attach)
    yield attaches


def propagates(monkeypatch: pytest.MonkeyPatch) -> bool:
    """Whether a thread and a pool task get the context, each attached exactly once."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(int).result()  # the worker starts outside the value: only tasks count
        with value("v"), counting_attaches(monkeypatch) as attaches:
            thread_saw = in_thread()
            pool_saw = in_pool(pool)
    here = threading.get_ident()
    elsewhere = [ident for ident in attaches if ident != here]
    if thread_saw is None and pool_saw is None:
        return False
    assert (thread_saw, pool_saw) == ("v", "v")
    assert len(elsewhere) == 2, "the context must be attached once in each thread"
    return True


@pytest.mark.parametrize("setup", [ours_first, contrib_first])
def test_beside_the_threading_instrumentor_context_flows_once(setup, monkeypatch):
    setup()
    assert propagates(monkeypatch)
    for owner, name in TARGETS:
        assert len(our_layers(owner, name)) == 1, (owner, name)
    assert threading.Thread.start is not ORIGINALS[threading.Thread, "start"]


@pytest.mark.parametrize("setup", [ours_first, contrib_first])
def test_uninstrumenting_the_threading_instrumentor_leaves_ours_working(setup, monkeypatch):
    setup()
    ThreadingInstrumentor().uninstrument()
    assert propagates(monkeypatch)
    for owner, name in TARGETS:  # ours alone, directly on the original
        (layer,) = layers(owner, name)
        assert layer.__wrapped__ is ORIGINALS[owner, name]
    uninstrument_threads()
    assert not propagates(monkeypatch)


@pytest.mark.parametrize("setup", [ours_first, contrib_first])
def test_uninstrumenting_ours_leaves_the_threading_instrumentor_working(setup, monkeypatch):
    setup()
    uninstrument_threads()
    assert propagates(monkeypatch)
    for owner, name in TARGETS:
        assert our_layers(owner, name) == []
    ThreadingInstrumentor().uninstrument()
    assert not propagates(monkeypatch)
    for owner, name in TARGETS:
        assert vars(owner)[name] is ORIGINALS[owner, name]


def test_reinstrumenting_beside_the_threading_instrumentor_wraps_nothing_twice(monkeypatch):
    contrib_first()
    uninstrument_threads()
    instrument_threads()
    ThreadingInstrumentor().uninstrument()
    ThreadingInstrumentor().instrument()
    for owner, name in TARGETS:
        assert len(our_layers(owner, name)) == 1, (owner, name)
    assert propagates(monkeypatch)
