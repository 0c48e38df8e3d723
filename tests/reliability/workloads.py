"""Agent workloads for the load tests: one session each, with mixed nesting.

Every span a session makes carries the session's key in its name where it can, so a span
that lands in the wrong trace is caught by name as well as by trace id. ``run_session``
(threads) and ``run_session_async`` (asyncio tasks) make the same spans:

    session KEY                       root; every 3rd session also has
      action step                       session KEY/inner (a separate root)
        execute_tool lookup               action KEY/inner
          chat KEY
      execute_tool stream   (a generator)
        action KEY  x2
      action KEY
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import opentelemetry_instrumentation_agentops as agentops

END_STATES = ("Success", "Fail", "Indeterminate")


@dataclass
class Ran:
    """What one session run left behind, without keeping the Session alive."""

    key: str
    trace_id: int
    session_id: str
    end_state: str
    analytics: dict[str, Any]
    expected_names: Counter[str]
    expected_end_state: str
    expected_analytics: dict[str, int]
    ref: weakref.ref = field(repr=False)

    def check(self) -> None:
        assert self.end_state == self.expected_end_state, self
        counts = {k: self.analytics[k] for k in self.expected_analytics}
        assert counts == self.expected_analytics, self


def plan(index: int) -> tuple[str, bool, bool]:
    """(end state, ended by a ``with`` block, has a nested session) for session ``index``."""
    return END_STATES[index % 3], index % 4 == 0, index % 3 == 1


def expected_names(key: str) -> Counter[str]:
    return Counter(
        {
            f"session {key}": 1,
            "action step": 1,
            "execute_tool lookup": 1,
            f"chat {key}": 1,
            "execute_tool stream": 1,
            f"action {key}": 3,
        }
    )


EXPECTED_ANALYTICS = {"LLM calls": 1, "Tool calls": 2, "Actions": 4, "Errors": 0}
INNER_ANALYTICS = {"LLM calls": 0, "Tool calls": 0, "Actions": 1, "Errors": 0}


def _ran(session: Any, analytics: dict, names: Counter[str], end: str, counts: dict) -> Ran:
    return Ran(
        session.name,
        session.trace_id,
        session.session_id,
        session.end_state,
        analytics,
        names,
        end,
        counts,
        weakref.ref(session),
    )


# -- threads ----------------------------------------------------------------------------


@agentops.record_action("step")
def step(key: str) -> None:
    lookup(key)


@agentops.record_tool("lookup")
def lookup(key: str) -> None:
    agentops.record(agentops.LLMEvent(model=key, prompt_tokens=3, completion_tokens=2))


@agentops.record_tool("stream")
def stream(key: str):
    for n in range(2):
        agentops.record(agentops.ActionEvent(action_type=key))
        yield n


def _inner(key: str) -> Ran:
    inner_key = f"{key}/inner"
    inner = agentops.start_session(name=inner_key)
    agentops.record(agentops.ActionEvent(action_type=inner_key))
    analytics = agentops.end_session("Success")
    names = Counter({f"session {inner_key}": 1, f"action {inner_key}": 1})
    return _ran(inner, analytics, names, "Success", INNER_ANALYTICS)


def run_session(key: str, index: int) -> list[Ran]:
    """One session in the calling thread (module-level calls only), plus its nested one."""
    end_state, with_block, nested = plan(index)
    ran = []
    session = agentops.start_session(name=key, tags=[key])
    with session if with_block else contextlib.nullcontext():
        step(key)
        for _ in stream(key):
            pass
        if nested:
            ran.append(_inner(key))
        agentops.record(agentops.ActionEvent(action_type=key))
        if not with_block:
            analytics = agentops.end_session(end_state)
    if with_block:
        analytics = session.get_analytics()
    expected_end = "Success" if with_block else end_state
    ran.append(_ran(session, analytics, expected_names(key), expected_end, EXPECTED_ANALYTICS))
    return ran


# -- asyncio ------------------------------------------------------------------------------


@agentops.record_action("step")
async def step_async(key: str) -> None:
    await asyncio.sleep(0)
    await lookup_async(key)


@agentops.record_tool("lookup")
async def lookup_async(key: str) -> None:
    await asyncio.sleep(0)
    agentops.record(agentops.LLMEvent(model=key, prompt_tokens=3, completion_tokens=2))


@agentops.record_tool("stream")
async def stream_async(key: str):
    for n in range(2):
        await asyncio.sleep(0)
        agentops.record(agentops.ActionEvent(action_type=key))
        yield n


async def run_session_async(key: str, index: int) -> list[Ran]:
    """The same session as ``run_session``, in an asyncio task, yielding at every step."""
    end_state, with_block, nested = plan(index)
    ran = []
    session = agentops.start_session(name=key, tags=[key])
    with session if with_block else contextlib.nullcontext():
        await step_async(key)
        async for _ in stream_async(key):
            pass
        if nested:
            await asyncio.sleep(0)
            ran.append(_inner(key))
        await asyncio.sleep(0)
        agentops.record(agentops.ActionEvent(action_type=key))
        if not with_block:
            analytics = agentops.end_session(end_state)
    if with_block:
        analytics = session.get_analytics()
    expected_end = "Success" if with_block else end_state
    ran.append(_ran(session, analytics, expected_names(key), expected_end, EXPECTED_ANALYTICS))
    return ran
