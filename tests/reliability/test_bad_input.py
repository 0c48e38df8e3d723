"""Bad input, default mode: nothing raises and every exported span is valid OpenTelemetry.

Property-based (Hypothesis) over every public function, Session method, event field and
decorator, with values of every type, huge, deep, cyclic and hostile (``weird.py``). After
each example all sessions are ended and every exported span is checked: attribute values
are str, bool, int (64-bit), float or homogeneous arrays of them, text is UTF-8 and within
the size cap, times are valid, and the OTLP encoder takes the batch whole. The program must
also still work afterwards: a plain session is exported as usual.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.runtime import configure, end_all_sessions_quietly

import opentelemetry_instrumentation_agentops as agentops
from opentelemetry_instrumentation_agentops import AgentOpsInstrumentor

from .checks import LEDGER, assert_valid_export, reset, scale
from .weird import FLAGS, UnprintableError, made, values

pytestmark = pytest.mark.reliability

EXAMPLES = scale(40, 400)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
EVENT_FIELDS = {
    agentops.ActionEvent: ("action_type", "logs", "screenshot"),
    agentops.LLMEvent: (
        "model",
        "prompt",
        "completion",
        "prompt_tokens",
        "completion_tokens",
        "cost",
        "thread_id",
    ),
    agentops.ToolEvent: ("name", "logs"),
    agentops.ErrorEvent: ("trigger_event", "exception", "error_type", "code", "details", "logs"),
}
COMMON_FIELDS = ("event_type", "params", "returns", "init_timestamp", "end_timestamp", "id")
END_STATES = st.one_of(
    st.sampled_from(["Success", "fail", " ERROR ", "Failure", "indeterminate", "Maybe", ""]),
    st.sampled_from(list(agentops.EndState)),
)


def draw(data: st.DataObject, label: str) -> object:
    return made(data.draw(values(), label=label))


def draw_name(data: st.DataObject, label: str) -> object:
    """A decorator's name: anything but a callable (``@deco(f)`` is ``@deco`` applied to f)."""
    name = draw(data, label)
    return None if callable(name) else name


def draw_flag(data: st.DataObject, label: str) -> object:
    return made(data.draw(FLAGS, label=label))


def draw_end_state(data: st.DataObject, label: str = "end_state") -> object:
    return made(data.draw(st.one_of(END_STATES.map(_thunk), values()), label=label))


def _thunk(value: object):
    from .weird import const

    return const(value)


def situation(data: st.DataObject) -> list:
    """No session, one, or two with neither current: the sessions it started."""
    kind = data.draw(st.sampled_from(["none", "one", "two-none-current"]), label="situation")
    if kind == "none":
        return []
    if kind == "one":
        return [agentops.start_session(name="running")]
    from opentelemetry import context

    first, second = agentops.start_session(name="a"), agentops.start_session(name="b")
    context.attach(context.Context())  # neither is current here
    return [first, second]


def a_session_or_value(data: st.DataObject, sessions: list) -> object:
    choice = data.draw(st.sampled_from(["running", "ended", "weird", "none"]), label="session=")
    if choice == "running" and sessions:
        return sessions[0]
    if choice == "ended":
        ended = agentops.start_session(name="ended")
        ended.end_session()
        return ended
    return draw(data, "session") if choice == "weird" else None


def event(data: st.DataObject) -> object:
    kind = data.draw(st.sampled_from(list(EVENT_FIELDS)), label="event class")
    fields = data.draw(
        st.lists(st.sampled_from(COMMON_FIELDS + EVENT_FIELDS[kind]), unique=True),
        label="weird fields",
    )
    return kind(**{f: draw(data, f) for f in fields})


# -- the scenarios: each calls public API with drawn values -------------------------------


def call_init(data: st.DataObject) -> None:
    kwargs = {
        name: draw(data, name)
        for name in (
            "api_key",
            "tags",
            "default_tags",
            "inherited_session_id",
            "tracer_provider",
            "exporter",
            "exporter_endpoint",
            "service_name",
        )
    }
    for flag in ("auto_start_session", "skip_auto_end_session", "capture_content"):
        kwargs[flag] = draw_flag(data, flag)
    kwargs["strict"] = data.draw(st.sampled_from([None, False]), label="strict")
    names = st.sampled_from(["endpoint", "max_wait_time", "instrument_llm_calls", "parent_key"])
    for name in data.draw(st.lists(names, unique=True), label="legacy"):
        kwargs[name] = draw(data, name)
    agentops.init(**kwargs)
    agentops.init(**kwargs)  # again: a re-run notebook cell


def call_instrument(data: st.DataObject) -> None:
    instrumentor = AgentOpsInstrumentor()
    instrumentor.instrument(
        tracer_provider=draw(data, "tracer_provider"),
        capture_content=draw_flag(data, "capture_content"),
    )
    try:
        with agentops.start_session(name="instrumented"):
            agentops.record(agentops.LLMEvent(model="m"))
    finally:
        instrumentor.uninstrument()


def call_start_session(data: st.DataObject) -> None:
    session = agentops.start_session(
        draw(data, "tags"),
        draw(data, "inherited_session_id"),
        name=draw(data, "name"),
        attributes=draw(data, "attributes"),
    )
    session.record(agentops.ActionEvent(action_type="inside"))


def call_end_session(data: st.DataObject) -> None:
    sessions = situation(data)
    legacy = {"is_auto_end": draw_flag(data, "is_auto_end"), "video": draw(data, "video")}
    agentops.end_session(
        draw_end_state(data),
        draw(data, "end_state_reason"),
        session=a_session_or_value(data, sessions),
        **legacy,
    )
    agentops.end_session(draw_end_state(data))  # and again


def call_end_session_positional(data: st.DataObject) -> None:
    situation(data)
    agentops.end_session(draw_end_state(data, "first argument"))


def call_record(data: st.DataObject) -> None:
    situation(data)
    agentops.record(event(data) if data.draw(st.booleans(), label="an event") else draw(data, "x"))


def call_tags(data: st.DataObject) -> None:
    situation(data)
    agentops.add_tags(draw(data, "add_tags"))
    agentops.set_tags(draw(data, "set_tags"))


def call_queries(data: st.DataObject) -> None:
    situation(data)
    agentops.get_current_session()
    assert isinstance(agentops.get_active_sessions(), list)
    agentops.end_all_sessions(draw_end_state(data), draw(data, "end_state_reason"))
    assert agentops.get_active_sessions() == []


def call_session_methods(data: st.DataObject) -> None:
    session = agentops.start_session(name="methods")
    calls: dict[str, Callable[[], object]] = {
        "record": lambda: session.record(event(data)),
        "record value": lambda: session.record(draw(data, "value")),
        "end_session": lambda: session.end_session(
            draw_end_state(data), draw(data, "reason"), video=draw(data, "video")
        ),
        "add_tags": lambda: session.add_tags(draw(data, "tags")),
        "set_tags": lambda: session.set_tags(draw(data, "tags")),
        "get_analytics": session.get_analytics,
        "activate": lambda: _activate_and_record(session),
        "patch": lambda: session.patch(_echo)(draw(data, "arg"), kw=draw(data, "kw")),
        "patch weird": lambda: session.patch(draw(data, "func")),
    }
    order = data.draw(st.lists(st.sampled_from(sorted(calls)), min_size=1, max_size=6))
    for name in order:  # in any order: after the end too (ending twice, recording late)
        result = calls[name]()
        if name == "get_analytics":
            assert set(result) >= {"LLM calls", "Tool calls", "Actions", "Errors"}


def _echo(*args: object, **kwargs: object) -> tuple:
    agentops.record(agentops.ActionEvent(action_type="patched"))
    return args, kwargs


def _activate_and_record(session: agentops.Session) -> None:
    with session.activate():
        agentops.record(agentops.ToolEvent(name="activated"))


def call_events(data: st.DataObject) -> None:
    session = agentops.start_session(name="events")
    first = event(data)
    session.record(first)
    trigger = first if data.draw(st.booleans(), label="trigger is the first") else None
    session.record(agentops.ErrorEvent(trigger_event=trigger, exception=draw(data, "exception")))
    session.record(first)  # the same event object twice


def call_decorators(data: st.DataObject) -> None:
    configure(capture_content=data.draw(st.booleans(), label="capture_content"))
    agentops.start_session(name="decorated")
    kind = data.draw(
        st.sampled_from([agentops.record_action, agentops.record_tool, agentops.track_agent]),
        label="decorator",
    )
    name = draw_name(data, "decorator name")

    def plain(*args: object, **kwargs: object) -> object:
        return draw(data, "return value")

    def generator(*args: object, **kwargs: object):
        yield draw(data, "yielded")

    wrapped = kind(name)(plain)
    wrapped(draw(data, "arg"), draw(data, "arg"), key=draw(data, "kwarg"))
    list(kind(name)(generator)(draw(data, "arg"), api_key="sk-never"))
    bare = kind(plain)  # used without parentheses
    bare(draw(data, "arg"))


def call_decorated_raising(data: st.DataObject) -> None:
    configure(capture_content=data.draw(st.booleans(), label="capture_content"))
    agentops.start_session(name="raising")
    error = data.draw(st.sampled_from([UnprintableError(), ValueError("\ud800"), KeyError()]))

    @agentops.record_tool(draw_name(data, "name"))
    def fails(*args: object) -> None:
        raise error

    with pytest.raises(type(error)) as raised:
        fails(draw(data, "arg"))
    assert raised.value is error  # propagated unchanged


def call_track_agent_class(data: st.DataObject) -> None:
    configure(capture_content=data.draw(st.booleans(), label="capture_content"))
    agentops.start_session(name="agents")

    @agentops.track_agent(draw_name(data, "agent name"))
    class Agent:
        def __init__(self, role: object = None) -> None:
            self.role = role

        @agentops.record_action(draw_name(data, "method name"))
        def act(self, value: object) -> object:
            return value

    agent = Agent(draw(data, "role"), agentops_name=draw(data, "agentops_name"))
    agent.act(draw(data, "value"))


SCENARIOS = [
    call_init,
    call_instrument,
    call_start_session,
    call_end_session,
    call_end_session_positional,
    call_record,
    call_tags,
    call_queries,
    call_session_methods,
    call_events,
    call_decorators,
    call_decorated_raising,
    call_track_agent_class,
]


def _still_works(spans) -> None:
    """After whatever happened, a plain session is recorded and exported as usual."""
    reset(spans)
    with agentops.start_session(name="plain") as session:
        agentops.record(agentops.ActionEvent(action_type="ok"))
    assert session.end_state == "Success"
    names = sorted(s.name for s in spans.all() if s.context.trace_id == session.trace_id)
    assert names == ["action ok", "session plain"]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__.removeprefix("call_"))
@FUZZ
@given(data=st.data())
def test_bad_input_never_raises_and_exports_valid_spans(spans, quiet, scenario, data):
    reset(spans)
    try:
        scenario(data)
    finally:
        end_all_sessions_quietly()
    assert_valid_export(spans.all())
    assert agentops.get_active_sessions() == []
    _still_works(spans)
    LEDGER["hypothesis examples"] += 1
