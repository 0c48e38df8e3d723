"""The redirect itself: what it replaces, what it leaves alone, and ``uninstrument()``."""

from __future__ import annotations

import importlib
import sys

import pytest

import opentelemetry_instrumentation_agentops as ours
from opentelemetry_instrumentation_agentops import AgentOpsInstrumentor

from .scripts import run_program

pytestmark = pytest.mark.compat
PUBLIC = ("init", "start_session", "end_session", "end_all_sessions", "record", "track_agent")
LINE_PUBLIC = {
    "0.3": ("record_action", "record_tool", "add_tags", "set_tags", "ActionEvent", "Session"),
    "0.4": ("start_trace", "end_trace", "agent", "tool", "trace", "session", "ActionEvent"),
}


def is_redirected() -> bool:
    """Whether the imported agentops package is this engine: its sessions are ours."""
    return getattr(sys.modules["agentops"], "Session", None) is ours.Session


@pytest.mark.parametrize("order", ["after", "before"])
def test_init_needs_no_key_and_sets_up_nothing_of_its_own(tmp_path, order):
    """With a provider given to instrument() only, agentops.init() sets no global one."""
    run = run_program(
        tmp_path,
        "import agentops\n",
        """
        session = agentops.init()
        agentops.record(agentops.ActionEvent(action_type="step"))
        agentops.end_session("Success")
        """,
        order=order,
        provider="explicit",
    )
    run.assert_clean()
    assert run.report["global_provider"] == "ProxyTracerProvider"
    (root,) = run.roots()
    assert root["attributes"]["agentops.session.end_state"] == "Success"
    assert run.in_trace(root) == ["action step", "session"]


def snapshot(agentops_line: str) -> dict[tuple[object, str], object]:
    """Identity of every attribute the redirect touches that a user or agentops reads."""
    import agentops

    owners: list[tuple[object, tuple[str, ...]]] = [
        (agentops, PUBLIC + LINE_PUBLIC[agentops_line] + ("configure",))
    ]
    if agentops_line == "0.3":
        client_class = agentops.client.Client.__closure__[0].cell_contents
        decorators = importlib.import_module("agentops.decorators")
        owners += [
            (decorators, ("record_action", "record_tool", "track_agent")),
            (client_class, ("initialize", "configure", "is_initialized", "record")),
            (agentops, ("check_agentops_update",)),
        ]
    else:
        core = importlib.import_module("agentops.sdk.core")
        factory = importlib.import_module("agentops.sdk.decorators.factory")
        legacy = importlib.import_module("agentops.legacy")
        owners += [
            (core.TracingCore, ("initialized", "start_trace", "end_trace", "get_tracer")),
            (factory, ("_create_as_current_span", "_record_entity_input")),
            (legacy, ("end_session", "start_session", "_current_trace_context")),
            (importlib.import_module("agentops.sdk.decorators"), ("agent", "tool", "trace")),
        ]
    result = {}
    for owner, names in owners:
        for name in names:
            # a class's own attribute (a property is compared as itself)
            value = vars(owner).get(name) if isinstance(owner, type) else getattr(owner, name, None)
            result[(id(owner), name)] = value
    return result


def test_uninstrument_gives_the_original_package_back(agentops_line):
    import agentops

    before = snapshot(agentops_line)
    instrumentor = AgentOpsInstrumentor()
    for _ in range(2):  # and a second instrument() redirects again
        instrumentor.instrument()
        try:
            assert is_redirected()
            during = snapshot(agentops_line)
            unchanged = [key[1] for key in before if during[key] is before[key]]
            assert unchanged == [], f"not redirected: {unchanged}"
            assert agentops.Session is ours.Session
            assert agentops.ActionEvent is ours.ActionEvent
        finally:
            instrumentor.uninstrument()
        assert not is_redirected()
        after = snapshot(agentops_line)
        unrestored = [key[1] for key in before if after[key] is not before[key]]
        assert unrestored == [], f"not restored: {unrestored}"
    if agentops_line == "0.4":
        assert not hasattr(agentops, "record_action"), "names added for 0.3 code are removed"
        assert agentops.tracer.initialized is False


def test_redirected_calls_reach_this_engine(instrumented, agentops_line, spans):
    import agentops

    session = agentops.start_session(tags=["in-process"])
    assert isinstance(session, ours.Session)
    assert ours.get_current_session() is session
    agentops.record(agentops.ToolEvent(name="lookup"))
    agentops.end_session("Success")
    assert session.end_state == "Success"
    assert spans.one("execute_tool lookup").context.trace_id == session.trace_id


def test_submodule_names_are_ours_too(instrumented, agentops_line, spans):
    session = ours.start_session()
    if agentops_line == "0.3":
        from agentops.decorators import record_action, track_agent

        record_action("step")(lambda: 1)()
        track_agent("helper")(lambda: 2)()
        names = ["action step", "invoke_agent helper"]
    else:
        from agentops.legacy import end_session, start_session
        from agentops.sdk import agent as sdk_agent
        from agentops.sdk.decorators import tool

        tool(lambda: 1, name="search")()
        sdk_agent(name="helper")(lambda: 2)()
        legacy = start_session()
        assert isinstance(legacy, ours.Session)
        end_session(legacy)
        assert legacy.end_state == "Success"
        names = ["execute_tool search", "invoke_agent helper"]
    for name in names:
        assert spans.one(name).context.trace_id == session.trace_id


STALE = {
    "0.3": (
        "from agentops import init, start_session, end_session, record, ActionEvent\n",
        """
        assert init(auto_start_session=False) is None
        start_session(tags=["stale"])
        record(ActionEvent(action_type="old"))
        end_session("Success")
        init()
        end_session("Fail", "reason here")
        """,
    ),
    "0.4": (
        "from agentops import init, start_session, end_session\n",
        """
        init()
        end_session()
        start_session(tags=["stale"])
        end_session("Fail", end_state_reason="reason here")
        """,
    ),
}


def test_references_taken_before_instrumenting(tmp_path, agentops_line):
    """``from agentops import init, ...`` before instrument(): agentops' own functions."""
    setup, run_code = STALE[agentops_line]
    run = run_program(tmp_path, setup, run_code, order="before")
    run.assert_clean()
    roots = sorted(run.roots(), key=lambda r: r["start"])
    assert len(roots) == 2, [r["name"] for r in roots]
    tagged = next(r for r in roots if r["attributes"].get("agentops.session.tags"))
    other = next(r for r in roots if r is not tagged)
    if agentops_line == "0.3":
        assert tagged["attributes"]["agentops.session.end_state"] == "Success"
        assert run.in_trace(tagged) == ["action old", "session"]
        failed = other
    else:
        assert other["attributes"]["agentops.session.end_state"] == "Success"
        failed = tagged
    assert failed["attributes"]["agentops.session.end_state"] == "Fail"
    assert failed["attributes"]["agentops.session.end_state_reason"] == "reason here"


def package_state() -> dict[tuple[str, str], object]:
    """Every attribute of every loaded agentops module and of the classes the redirect touches."""
    import agentops

    owners: list[tuple[str, object]] = [
        (name, module) for name, module in sys.modules.items() if name.split(".")[0] == "agentops"
    ]
    if hasattr(agentops, "Client"):
        owners.append(("client class", type(agentops.Client())))
    for path in ("agentops.sdk.core:TracingCore", "agentops.client.client:Client"):
        module_name, _, attribute = path.partition(":")
        module = sys.modules.get(module_name)
        if module is not None:
            owners.append((path, getattr(module, attribute)))
    return {(label, name): value for label, owner in owners for name, value in vars(owner).items()}


def test_a_thousand_cycles_leave_the_agentops_package_as_it_was(agentops_line):
    before = package_state()
    instrumentor = AgentOpsInstrumentor()
    for _ in range(1000):
        instrumentor.instrument()
        assert is_redirected()
        instrumentor.uninstrument()
    after = package_state()
    changed = sorted(
        key for key in before.keys() | after.keys() if before.get(key) is not after.get(key)
    )
    assert changed == []
