"""A context in which a session was current never falls through to another session (D1).

Module-level calls made in a context whose session has ended (ended there by
``end_session()``, which restored the context it started from, or ended elsewhere, by a
watchdog) act on that session: a late ``record()`` lands in its trace, uncounted, with one
warning, and ``end_session()`` warns that it already ended. They never reach the one
other session that runs, which belongs to another user. Rule 2 ("the only running
session") serves only contexts that never held a session.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import json
import threading
import urllib.request
import weakref
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import opentelemetry_instrumentation_agentops as agentops

STRAY = "stray"
TIMEOUT = 10  # seconds a step may wait for another thread: a guard against hanging


def stray_calls() -> dict[str, object]:
    """What a stale context does after its session ended: record, end it Fail, look."""
    agentops.record(agentops.ActionEvent(action_type=STRAY))
    ended = agentops.end_session("Fail", "stray")
    return {"current": agentops.get_current_session(), "end_session": ended}


def assert_untouched(spans, other) -> None:
    """``other`` (another user's session) ended as its owner said, and nothing stray in it."""
    assert other.end_state == "Success"
    assert other.get_analytics()["Actions"] == 0
    names = [s.name for s in spans.of_trace(other.trace_id)]
    assert names == [f"session {other.name}"]


def assert_landed_in(spans, ended, end_state: str) -> None:
    """The stray event is in ``ended``'s trace, with its id, and its end state is its own."""
    assert ended.end_state == end_state
    assert ended.get_analytics()["Actions"] == 0  # late: not counted
    (stray,) = spans.named(f"action {STRAY}")
    assert stray.context.trace_id == ended.trace_id
    assert stray.attributes["session.id"] == ended.session_id
    root = spans.root_of(ended)
    assert root.attributes["agentops.session.end_state"] == end_state


def assert_warned_once_each(messages: list[str], ended) -> None:
    recording = [m for m in messages if "Recording into session" in m]
    ending = [m for m in messages if "was already ended" in m]
    assert len(recording) == 1 and ended.session_id in recording[0]
    assert len(ending) == 1 and ended.session_id in ending[0]
    assert not [m for m in messages if "sessions are running" in m or "no running" in m]


def in_thread(target: Callable[[], object]) -> object:
    """``target()`` in a new thread (started without any context propagation)."""
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(target()))
    thread.start()
    thread.join(TIMEOUT)
    return result[0]


# --- threads -------------------------------------------------------------------------


def test_after_end_session_restored_its_context_a_thread_never_reaches_another_session(
    spans, warnings_log
):
    other_running, stray_done = threading.Event(), threading.Event()
    sessions: dict[str, agentops.Session] = {}

    def user_a() -> object:
        sessions["a"] = agentops.start_session(name="a")
        agentops.end_session("Success")  # restores the context it started from
        assert other_running.wait(TIMEOUT)  # B's session is the only one running now
        try:
            return stray_calls()
        finally:
            stray_done.set()

    def user_b() -> None:
        sessions["b"] = agentops.start_session(name="b")
        other_running.set()
        assert stray_done.wait(TIMEOUT)
        agentops.end_session("Success")

    b = threading.Thread(target=user_b)
    b.start()
    seen = in_thread(user_a)
    b.join(TIMEOUT)
    assert seen == {"current": None, "end_session": sessions["a"].get_analytics()}
    assert_untouched(spans, sessions["b"])
    assert_landed_in(spans, sessions["a"], "Success")
    assert_warned_once_each(warnings_log(), sessions["a"])


def test_a_session_ended_by_a_watchdog_thread_keeps_its_context_off_another_session(
    spans, warnings_log
):
    started, watched, stray_done = threading.Event(), threading.Event(), threading.Event()
    sessions: dict[str, agentops.Session] = {}

    def user_a() -> object:
        sessions["a"] = agentops.start_session(name="a")
        started.set()
        assert watched.wait(TIMEOUT)  # ended by the watchdog meanwhile; B's still runs
        try:
            return stray_calls()
        finally:
            stray_done.set()

    def watchdog() -> None:
        assert started.wait(TIMEOUT)
        sessions["a"].end_session("Indeterminate", "timed out")
        watched.set()

    sessions["b"] = agentops.start_session(name="b")  # in this (the test's) context
    threads = [threading.Thread(target=watchdog)]
    threads[0].start()
    seen = in_thread(user_a)
    threads[0].join(TIMEOUT)
    assert stray_done.is_set()
    agentops.end_session("Success")  # B, current here
    assert seen == {"current": None, "end_session": sessions["a"].get_analytics()}
    assert_untouched(spans, sessions["b"])
    assert_landed_in(spans, sessions["a"], "Indeterminate")
    assert sessions["a"].end_state_reason == "timed out"
    assert_warned_once_each(warnings_log(), sessions["a"])


def test_decorated_calls_in_a_stale_context_stay_out_of_another_session(spans):
    @agentops.record_action("late")
    def late() -> None:
        pass

    def user_a() -> agentops.Session:
        session = agentops.start_session(name="a")
        agentops.end_session()
        late()
        return session

    other = agentops.start_session(name="b")
    a = in_thread(user_a)
    other.end_session()
    assert_untouched(spans, other)
    assert a.get_analytics()["Actions"] == 0


def test_a_context_that_never_held_a_session_still_gets_the_only_running_one(spans):
    only = agentops.start_session(name="only")

    def worker() -> object:
        agentops.record(agentops.ActionEvent(action_type="from a worker"))
        return agentops.get_current_session()

    assert in_thread(worker) is only
    only.end_session()
    assert only.get_analytics()["Actions"] == 1
    assert spans.one("action from a worker").context.trace_id == only.trace_id


def test_a_context_remembers_only_its_last_session(spans):
    """Sessions started one after another in one context are not kept alive in a chain."""
    refs = []
    for n in range(3):
        session = agentops.start_session(name=f"s{n}")
        refs.append(weakref.ref(session))
        agentops.end_session()
    del session
    gc.collect()
    assert [ref() is None for ref in refs] == [True, True, False]  # the last is remembered
    agentops.start_session(name="next").end_session()
    gc.collect()
    assert refs[2]() is None


def test_a_session_ended_inside_its_activate_block_is_remembered_after_it(spans, warnings_log):
    a = contextvars.copy_context().run(agentops.start_session, name="a")  # current elsewhere
    other = contextvars.copy_context().run(agentops.start_session, name="b")
    with a.activate():
        agentops.end_session("Success")
    agentops.record(agentops.ActionEvent(action_type=STRAY))
    assert agentops.get_current_session() is None
    other.end_session("Success")
    assert_untouched(spans, other)
    assert spans.one(f"action {STRAY}").context.trace_id == a.trace_id


# --- asyncio tasks -------------------------------------------------------------------


def test_asyncio_tasks_never_reach_another_session(spans, warnings_log):
    async def main() -> tuple[agentops.Session, agentops.Session, object]:
        other_running, stray_done = asyncio.Event(), asyncio.Event()
        holder: dict[str, agentops.Session] = {}

        async def user_a() -> object:
            holder["a"] = agentops.start_session(name="a")
            agentops.end_session("Success")
            await other_running.wait()
            try:
                return stray_calls()
            finally:
                stray_done.set()

        async def user_b() -> None:
            holder["b"] = agentops.start_session(name="b")
            other_running.set()
            await stray_done.wait()
            agentops.end_session("Success")

        seen, _ = await asyncio.gather(user_a(), user_b())
        return holder["a"], holder["b"], seen

    a, b, seen = asyncio.run(main())
    assert seen == {"current": None, "end_session": a.get_analytics()}
    assert_untouched(spans, b)
    assert_landed_in(spans, a, "Success")
    assert_warned_once_each(warnings_log(), a)


def test_an_asyncio_task_whose_session_a_watchdog_ended_keeps_to_it(spans, warnings_log):
    async def main() -> tuple[agentops.Session, agentops.Session, object]:
        holder: dict[str, agentops.Session] = {}
        watched = asyncio.Event()

        async def user_a() -> object:
            holder["a"] = agentops.start_session(name="a")
            await watched.wait()
            return stray_calls()

        async def watchdog() -> None:
            await asyncio.sleep(0)
            holder["a"].end_session("Indeterminate", "timed out")
            watched.set()

        task = asyncio.create_task(user_a())
        holder["b"] = agentops.start_session(name="b")  # the only one running, soon
        await watchdog()
        seen = await task
        agentops.end_session("Success")
        return holder["a"], holder["b"], seen

    a, b, seen = asyncio.run(main())
    assert seen == {"current": None, "end_session": a.get_analytics()}
    assert_untouched(spans, b)
    assert_landed_in(spans, a, "Indeterminate")
    assert_warned_once_each(warnings_log(), a)


# --- a threaded HTTP server, real requests --------------------------------------------


class ChatServer:
    """A chat server: one session per request, ``/chat?user=...``; the test sequences them.

    ``steps`` holds, per user, the events a request waits for and sets, so two requests
    overlap in the order a test needs; ``watchdog`` ends a user's session from its own
    thread when asked to.
    """

    def __init__(self) -> None:
        self.sessions: dict[str, agentops.Session] = {}
        self.events: dict[str, threading.Event] = {}
        self.stray: dict[str, object] = {}

    def event(self, name: str) -> threading.Event:
        return self.events.setdefault(name, threading.Event())

    def wait(self, name: str) -> None:
        assert self.event(name).wait(TIMEOUT), name

    def handle(self, user: str, plan: str) -> dict[str, object]:
        session = self.sessions[user] = agentops.start_session(name=user)
        self.event(f"{user} running").set()
        if plan == "end then stray":
            agentops.end_session("Success")
            self.wait("b running")
            self.stray = stray_calls()
            self.event("stray done").set()
        elif plan == "watched then stray":
            self.wait("watchdog done")
            self.wait("b running")
            self.stray = stray_calls()
            self.event("stray done").set()
        else:  # "wait for the stray": the other user's request
            self.wait("stray done")
            agentops.end_session("Success")
        return {"session": session.session_id, "state": session.end_state}

    def watchdog(self, user: str) -> None:
        self.wait(f"{user} running")
        self.sessions[user].end_session("Indeterminate", "timed out")
        self.event("watchdog done").set()


@pytest.fixture
def chat_server(instrumented) -> Iterator[tuple[str, ChatServer]]:
    chat = ChatServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = dict(p.split("=", 1) for p in self.path.split("?", 1)[1].split("&"))
            body = json.dumps(chat.handle(query["user"], query["plan"].replace("+", " ")))
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", chat
    finally:
        server.shutdown()
        server.server_close()


def requests_at_once(base: str, *queries: str) -> list[dict[str, object]]:
    """Send each ``/chat?...`` request from its own client thread; their JSON answers."""
    answers: dict[int, dict[str, object]] = {}

    def get(index: int, query: str) -> None:
        with urllib.request.urlopen(f"{base}/chat?{query}", timeout=TIMEOUT) as reply:
            answers[index] = json.loads(reply.read())

    clients = [threading.Thread(target=get, args=item) for item in enumerate(queries)]
    for client in clients:
        client.start()
    for client in clients:
        client.join(TIMEOUT)
    return [answers[i] for i in range(len(queries))]


def test_a_server_request_after_end_session_never_reaches_another_users_session(
    chat_server, spans, warnings_log
):
    base, chat = chat_server
    requests_at_once(base, "user=a&plan=end+then+stray", "user=b&plan=wait+for+the+stray")
    a, b = chat.sessions["a"], chat.sessions["b"]
    assert chat.stray == {"current": None, "end_session": a.get_analytics()}
    assert_untouched(spans, b)
    assert_landed_in(spans, a, "Success")
    assert_warned_once_each(warnings_log(), a)


def test_a_server_request_whose_session_a_watchdog_ended_never_reaches_another_users(
    chat_server, spans, warnings_log
):
    base, chat = chat_server
    watchdog = threading.Thread(target=chat.watchdog, args=("a",))
    watchdog.start()
    requests_at_once(base, "user=a&plan=watched+then+stray", "user=b&plan=wait+for+the+stray")
    watchdog.join(TIMEOUT)
    a, b = chat.sessions["a"], chat.sessions["b"]
    assert chat.stray == {"current": None, "end_session": a.get_analytics()}
    assert_untouched(spans, b)
    assert_landed_in(spans, a, "Indeterminate")
    assert_warned_once_each(warnings_log(), a)
