"""Token counts and costs that are negative, NaN or infinite never reach a total (design.md 7).

One bad value is not added to any total and logs one warning naming its field; it never
turns a session's total into ``inf``, NaN or a negative number. This holds for the
program's own events (``LLMEvent``), for a decorator's ``cost=``, and for the usage
attributes of other instrumentations' spans in every convention the totals count.
"""

from __future__ import annotations

import math

import pytest
from support.conventions import ALL, LLM, OPENINFERENCE
from support.conventions import call as traced_call
from support.runtime import Tracer

import opentelemetry_instrumentation_agentops as agentops
from opentelemetry_instrumentation_agentops import AgentOpsError

CLIENT = Tracer("vendor.client")
BAD = [-5, -5.0, math.nan, math.inf, -math.inf]
BAD_IDS = ["negative int", "negative float", "nan", "inf", "-inf"]
COST = "agentops.session.cost_usd"
INPUT, OUTPUT = "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"


def naming(messages: list[str], field: str) -> list[str]:
    return [m for m in messages if m.startswith(f"{field} is ")]


def root_totals(session) -> tuple[int, int, float | None]:
    attributes = session.span.attributes
    return attributes[INPUT], attributes[OUTPUT], attributes.get(COST)


@pytest.mark.parametrize("bad", BAD, ids=BAD_IDS)
@pytest.mark.parametrize("field", ["prompt_tokens", "completion_tokens", "cost"])
def test_a_bad_llm_event_value_is_not_added_and_named_in_one_warning(
    field, bad, spans, warnings_log
):
    good = {"prompt_tokens": 10, "completion_tokens": 20, "cost": 0.5}
    with agentops.start_session() as session:
        agentops.record(agentops.LLMEvent(model="m", **good))
        agentops.record(agentops.LLMEvent(model="m", **{**good, field: bad}))
    expected = {"prompt_tokens": 20, "completion_tokens": 40, "cost": 1.0}
    expected[field] = good[field]  # the bad event's value is left out
    assert root_totals(session) == (
        expected["prompt_tokens"],
        expected["completion_tokens"],
        pytest.approx(expected["cost"]),
    )
    assert session.get_analytics()["LLM calls"] == 2  # the call itself still counts
    (warning,) = naming(warnings_log(), f"LLMEvent.{field}")
    assert "not added to any session total" in warning
    # The event's span does not carry the bad value either.
    bad_span = spans.named("chat m")[1]
    key = {"prompt_tokens": INPUT, "completion_tokens": OUTPUT, "cost": "agentops.llm.cost_usd"}
    assert key[field] not in bad_span.attributes


def test_one_inf_cost_never_makes_the_total_inf_and_one_warning_per_field(warnings_log):
    with agentops.start_session() as session:
        for cost in (0.25, math.inf, -1.0, math.nan, 0.25):
            agentops.record(agentops.LLMEvent(model="m", cost=cost, prompt_tokens=-1))
    assert root_totals(session) == (0, 0, pytest.approx(0.5))
    assert session.get_analytics()["Cost"] == "0.500000"
    assert len(naming(warnings_log(), "LLMEvent.cost")) == 1  # once per field, not per event
    assert len(naming(warnings_log(), "LLMEvent.prompt_tokens")) == 1


def test_huge_costs_saturate_instead_of_becoming_inf():
    with agentops.start_session() as session:
        for _ in range(3):
            agentops.record(agentops.LLMEvent(model="m", cost=1e308))
    assert math.isfinite(root_totals(session)[2])


def test_whole_float_token_counts_count_and_fractions_are_named(warnings_log):
    with agentops.start_session() as session:
        agentops.record(agentops.LLMEvent(model="m", prompt_tokens=7.0, completion_tokens=2.5))
    assert root_totals(session)[:2] == (7, 0)
    (warning,) = naming(warnings_log(), "LLMEvent.completion_tokens")
    assert "not a whole number" in warning


def test_strict_mode_raises_on_a_bad_llm_event_value():
    agentops.init(strict=True, auto_start_session=False)
    negative = r"LLMEvent\.cost is negative"
    with agentops.start_session(), pytest.raises(AgentOpsError, match=negative):
        agentops.record(agentops.LLMEvent(model="m", cost=-5.0))


def test_a_bad_decorator_cost_is_named_once_and_never_counted(warnings_log):
    @agentops.tool(name="search", cost=-2.0)
    def search() -> str:
        return "found"

    with agentops.start_session() as session:
        search()
        search()
    assert root_totals(session)[2] is None
    assert session.get_analytics()["Tool calls"] == 2
    assert len(naming(warnings_log(), "@tool(cost=...)")) == 1


@pytest.mark.parametrize("bad", BAD, ids=BAD_IDS)
@pytest.mark.parametrize("convention", ALL, ids=lambda c: c.name)
def test_bad_token_counts_on_other_instrumentations_spans_are_named_and_skipped(
    convention, bad, warnings_log
):
    agentops.init(strict=True, auto_start_session=False)  # a span's end never raises
    with agentops.start_session() as session:
        with traced_call(CLIENT, convention, LLM, (12, 5)):
            pass
        with traced_call(CLIENT, convention, LLM, (bad, 5)):
            pass
    assert root_totals(session)[:2] == (12, 10)
    assert session.get_analytics()["LLM calls"] == 2
    assert len(naming(warnings_log(), convention.input_key)) == 1


@pytest.mark.parametrize("bad", BAD, ids=BAD_IDS)
@pytest.mark.parametrize("key", ["agentops.llm.cost_usd", "llm.cost.total"])
def test_bad_costs_on_other_instrumentations_spans_are_named_and_skipped(key, bad, warnings_log):
    with agentops.start_session() as session:
        for cost in (0.5, bad):
            with traced_call(CLIENT, OPENINFERENCE, LLM, (1, 1)) as span:
                span.set_attribute(key, cost)
    assert root_totals(session) == (2, 2, pytest.approx(0.5))
    assert len(naming(warnings_log(), key)) == 1
