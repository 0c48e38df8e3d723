"""The session metrics of design.md section 10, read with an in-memory metric reader.

Every instrument, unit, attribute and value is compared with what the sessions' root spans
say about the same sessions, so metrics and traces cannot tell two stories.
"""

from __future__ import annotations

import pytest
from opentelemetry.sdk.metrics.export import Histogram, Sum
from support.runtime import metric_instruments, use_meter_provider

import opentelemetry_instrumentation_agentops as agentops

from .reader import DURATION_BUCKETS, Metrics

# The instruments and their attributes, as docs/metrics.rst names them.
DURATION, ACTIVE = "agentops.session.duration", "agentops.session.active"
TOKEN_USAGE = "agentops.session.token.usage"
LLM_CALLS, TOOL_CALLS = "agentops.session.llm_calls", "agentops.session.tool_calls"
ERRORS, COST = "agentops.session.errors", "agentops.session.cost"
END_STATE, TOKEN_TYPE = "agentops.session.end_state", "gen_ai.token.type"
# instrument -> (unit, the root span attribute holding the same total)
PER_SESSION = {
    LLM_CALLS: ("{call}", "agentops.session.llm_calls"),
    TOOL_CALLS: ("{call}", "agentops.session.tool_calls"),
    ERRORS: ("{error}", "agentops.session.errors"),
    COST: ("USD", "agentops.session.cost_usd"),
}
ALL = (DURATION, ACTIVE, TOKEN_USAGE, *PER_SESSION)


def key(**attributes: str) -> frozenset:
    return frozenset(attributes.items())


def run_sessions() -> list[agentops.Session]:
    """Sessions in every end state, with calls, tokens, costs and errors in some of them."""
    ended = []
    one = agentops.start_session(name="one", tags=["a"])
    one.record(agentops.LLMEvent(model="m", prompt_tokens=10, completion_tokens=4, cost=0.02))
    one.record(agentops.LLMEvent(model="m", prompt_tokens=7, completion_tokens=3, cost=0.01))
    one.record(agentops.ToolEvent(name="search"))
    one.record(agentops.ActionEvent(action_type="step"))
    one.end_session("Success")
    ended.append(one)
    two = agentops.start_session(name="two")
    two.record(agentops.LLMEvent(model="m", prompt_tokens=100, completion_tokens=50))
    two.end_session("Success")
    ended.append(two)
    with pytest.raises(RuntimeError), agentops.start_session(name="three") as three:
        three.record(agentops.ToolEvent(name="search"))
        three.record(agentops.ErrorEvent(error_type="Timeout"))
        raise RuntimeError("boom")
    ended.append(three)
    four = agentops.start_session(name="four")
    four.record(agentops.LLMEvent(model="m", prompt_tokens=1, completion_tokens=1, cost=0.5))
    four.end_session("Indeterminate", "left open")
    ended.append(four)
    return ended


def root_attributes(spans, session) -> dict:
    (root,) = [s for s in spans.of_trace(session.trace_id) if s.parent is None]
    return dict(root.attributes)


def test_every_instrument_has_its_kind_unit_and_attributes(recorded):
    run_sessions()
    collected = recorded.collect()
    assert set(collected) == set(ALL)
    units = {name: metric.unit for name, metric in collected.items()}
    assert units == {
        DURATION: "s",
        ACTIVE: "{session}",
        TOKEN_USAGE: "{token}",
        **{name: unit for name, (unit, _) in PER_SESSION.items()},
    }
    active = collected[ACTIVE].data
    assert isinstance(active, Sum) and not active.is_monotonic
    assert [dict(p.attributes) for p in active.data_points] == [{}]
    for name in set(ALL) - {ACTIVE}:
        assert isinstance(collected[name].data, Histogram), name
        keys = {frozenset(p.attributes) for p in collected[name].data.data_points}
        expected = {END_STATE, TOKEN_TYPE} if name == TOKEN_USAGE else {END_STATE}
        assert keys == {frozenset(expected)}, name


def test_values_are_the_totals_on_each_sessions_root_span(recorded, spans):
    sessions = run_sessions()
    by_state: dict[str, list[dict]] = {}
    for session in sessions:
        by_state.setdefault(session.end_state, []).append(root_attributes(spans, session))
    assert sorted(by_state) == ["Fail", "Indeterminate", "Success"]

    for name, (_, total) in PER_SESSION.items():
        points = recorded.points(name)
        expected = {}
        for state, roots in by_state.items():
            values = [root[total] for root in roots if total in root]
            if values:  # a cost is recorded only for the sessions that know one
                expected[key(**{END_STATE: state})] = values
        assert set(points) == set(expected), name
        for attributes, values in expected.items():
            point = points[attributes]
            assert point.count == len(values), (name, attributes)
            assert point.sum == pytest.approx(sum(values)), (name, attributes)
            assert (point.min, point.max) == (pytest.approx(min(values)), max(values))

    tokens = recorded.points(TOKEN_USAGE)
    assert len(tokens) == 6
    for state, roots in by_state.items():
        for token_type, total in (
            ("input", "gen_ai.usage.input_tokens"),
            ("output", "gen_ai.usage.output_tokens"),
        ):
            point = tokens[key(**{END_STATE: state, TOKEN_TYPE: token_type})]
            assert point.count == len(roots)  # one value per session and type
            assert point.sum == sum(root[total] for root in roots)
    # Success: 10+7 and 100 input tokens, 4+3 and 50 output tokens.
    assert tokens[key(**{END_STATE: "Success", TOKEN_TYPE: "input"})].sum == 117
    assert tokens[key(**{END_STATE: "Success", TOKEN_TYPE: "output"})].sum == 57


def test_the_duration_is_each_sessions_own(recorded, spans):
    sessions = run_sessions()
    points = recorded.points(DURATION)
    for state in ("Success", "Fail", "Indeterminate"):
        ended = [s for s in sessions if s.end_state == state]
        point = points[key(**{END_STATE: state})]
        assert point.count == len(ended)
        assert point.sum == pytest.approx(sum(s.duration_seconds for s in ended))
        for session in ended:  # the root span ends with it; it starts within the root, first
            root = spans.root_of(session)
            inside = [s for s in spans.of_trace(session.trace_id) if s is not root]
            started = root.end_time - round(session.duration_seconds * 1e9)
            assert root.start_time <= started <= min(s.end_time for s in inside)
    assert list(points[key(**{END_STATE: "Success"})].explicit_bounds) == list(DURATION_BUCKETS)


def test_active_counts_sessions_started_and_not_ended(recorded):
    def active() -> int:
        (point,) = recorded.points(ACTIVE).values()
        return point.value

    first, second = agentops.start_session(), agentops.start_session()
    assert active() == 2
    first.end_session()
    assert active() == 1
    second.end_session("Fail")
    second.end_session()  # ending twice counts once
    assert active() == 0


def test_a_thousand_distinct_sessions_give_a_handful_of_series(recorded):
    """No id, name, tag, user or content in any attribute (content capture on)."""
    agentops.init(auto_start_session=False, capture_content=True, instrument_llm_calls=False)
    states = ("Success", "Fail", "Indeterminate")
    for i in range(1000):
        session = agentops.start_session(
            name=f"user-{i}", tags=[f"tag-{i}", "shared"], session_id=f"chat-{i}", user_id=f"u-{i}"
        )
        session.set_input(f"question {i}")
        session.record(agentops.LLMEvent(model=f"model-{i % 7}", prompt_tokens=i, cost=0.001))
        session.end_session(states[i % 3], f"reason {i}")
    collected = recorded.collect()
    series = {name: len(m.data.data_points) for name, m in collected.items()}
    assert series == {
        DURATION: 3,
        ACTIVE: 1,
        TOKEN_USAGE: 6,
        LLM_CALLS: 3,
        TOOL_CALLS: 3,
        ERRORS: 3,
        COST: 3,
    }
    points = [p for m in collected.values() for p in m.data.data_points]
    values = {value for p in points for value in p.attributes.values()}
    assert values == {*states, "input", "output"}
    assert sum(p.count for p in recorded.points(DURATION).values()) == 1000


def test_the_switch_turns_them_off(recorded, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_AGENTOPS_METRICS", "false")
    agentops.init(auto_start_session=False)  # reads the environment again
    assert agentops.start_session().end_session()["Duration"]
    assert recorded.collect() == {}


def test_a_session_switched_off_midway_still_leaves_active_balanced(recorded, monkeypatch):
    session = agentops.start_session()
    monkeypatch.setenv("OTEL_INSTRUMENTATION_AGENTOPS_METRICS", "false")
    agentops.init(auto_start_session=False)
    session.end_session()
    (point,) = recorded.points(ACTIVE).values()
    assert point.value == 0  # its -1 went where its +1 went
    assert recorded.points(DURATION) == {}  # nothing else once off


def test_without_a_meter_provider_nothing_is_made_or_recorded():
    # The global MeterProvider of this test process is never set: the API's proxy.
    session = agentops.start_session()
    assert metric_instruments() is None
    session.end_session()
    assert not session.is_running
    assert metric_instruments() is None  # not even at its end


def test_a_session_is_measured_on_the_provider_in_use_when_it_started(recorded):
    use_meter_provider(None)
    before = agentops.start_session()  # no MeterProvider yet: not measured, even at its end
    use_meter_provider(recorded.provider)
    after = agentops.start_session()
    before.end_session()
    (point,) = recorded.points(ACTIVE).values()
    assert point.value == 1  # only the one measured, still running
    after.end_session("Fail")
    assert [dict(k) for k in recorded.points(DURATION)] == [{END_STATE: "Fail"}]
    (point,) = recorded.points(ACTIVE).values()
    assert point.value == 0


class BrokenMeterProvider:
    def get_meter(self, *args, **kwargs):
        raise RuntimeError("broken meter provider")


class BrokenInstruments:
    """A provider whose instruments exist but fail at every record."""

    def get_meter(self, *args, **kwargs):
        return self

    def __getattr__(self, name):
        if name.startswith("create_"):
            return lambda *args, **kwargs: self
        raise AttributeError(name)

    def add(self, *args, **kwargs):
        raise RuntimeError("broken add")

    def record(self, *args, **kwargs):
        raise RuntimeError("broken record")


@pytest.mark.parametrize("provider", [BrokenMeterProvider(), BrokenInstruments()])
def test_a_broken_meter_provider_never_breaks_sessions(provider, warnings_log, spans):
    use_meter_provider(provider)
    try:
        for _ in range(3):
            with agentops.start_session(name="still works") as session:
                session.record(agentops.ActionEvent(action_type="step"))
            assert session.end_state == "Success"
    finally:
        agentops.end_all_sessions()
        use_meter_provider(None)
    assert len(spans.named("session still works")) == 3
    warned = [m for m in warnings_log() if "session metrics are not recorded" in m]
    assert 1 <= len(warned) <= 2  # once per failure kind, not once per session


def test_instrument_takes_a_meter_provider_and_uninstrument_gives_it_back(recorded):
    instrumentor = agentops.AgentOpsInstrumentor()
    other = Metrics()
    instrumentor.instrument(meter_provider=other.provider)
    try:
        agentops.start_session().end_session()
        assert other.points(DURATION)
        assert recorded.points(DURATION) == {}
    finally:
        instrumentor.uninstrument()
    agentops.start_session().end_session("Fail")  # on the provider in use before
    assert [dict(k) for k in other.points(DURATION)] == [{END_STATE: "Success"}]
    assert [dict(k) for k in recorded.points(DURATION)] == [{END_STATE: "Fail"}]
    other.provider.shutdown()
