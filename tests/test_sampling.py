"""SessionSampler: every run of a conversation kept or dropped together (design.md section 9)."""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import sys
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision, TraceIdRatioBased
from support.runtime import configure
from support.span_file import read_spans, run_script, script_env, write_script

import opentelemetry_instrumentation_agentops as agentops
from opentelemetry_instrumentation_agentops import SessionSampler

BIN = Path(sys.executable).parent
ENTRY_POINT = "agentops_session"  # OTEL_TRACES_SAMPLER=agentops_session


def decide(sampler, trace_id: int, attributes=None, parent=None) -> bool:
    # An explicit empty context for a root: None would mean the ambient one.
    parent = Context() if parent is None else parent
    result = sampler.should_sample(parent, trace_id, "session", attributes=attributes)
    return result.decision is Decision.RECORD_AND_SAMPLE


def sampled(session) -> bool:
    return session.span.get_span_context().trace_flags.sampled


def session_hash(session_id: str) -> int:
    """The rule docs/conversations.rst gives: a 64-bit BLAKE2b of the id's UTF-8 text."""
    digest = hashlib.blake2b(session_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def session_sampler(argument: str | None) -> SessionSampler:
    """What ``OTEL_TRACES_SAMPLER=agentops_session`` gives: the SDK loads the entry point and
    calls it with ``OTEL_TRACES_SAMPLER_ARG``."""
    (entry_point,) = entry_points(group="opentelemetry_traces_sampler", name=ENTRY_POINT)
    return entry_point.load()(argument)


def kept_by_hash(session_id: str, ratio: float) -> bool:
    return session_hash(session_id) < TraceIdRatioBased.get_bound_for_rate(ratio)


@pytest.fixture
def sampled_provider():
    """A provider with SessionSampler(0.5) for the package, and its exporter."""

    def make(ratio: float) -> InMemorySpanExporter:
        exporter = InMemorySpanExporter()
        provider = TracerProvider(sampler=SessionSampler(ratio))
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        configure(tracer_provider=provider)
        return exporter

    return make


# -- the decision -------------------------------------------------------------------------


@pytest.mark.parametrize(("session_id", "at"), [("chat-123", 0.93448), ("日本語", 0.95352)])
def test_the_hash_is_fixed_text_hashing_not_pythons_salted_hash(session_id, at):
    # Fixed values: the same in every process and Python version (BLAKE2b of the UTF-8 id
    # puts "chat-123" at 0.93448 of the range): kept from that ratio up, dropped below it.
    assert abs(session_hash(session_id) / 2**64 - at) < 0.00001
    assert not decide(SessionSampler(at - 0.0001), 1, {"session.id": session_id})
    assert decide(SessionSampler(at + 0.0001), 1, {"session.id": session_id})


def test_every_root_of_one_session_id_gets_the_same_decision():
    sampler = SessionSampler(0.5)
    for n in range(200):
        session_id = f"conversation-{n}"
        decisions = {
            decide(sampler, trace_id, {"session.id": session_id})
            for trace_id in (1, 2**64 - 1, 2**127 + n)
        }
        assert decisions == {kept_by_hash(session_id, 0.5)}, session_id


def test_gen_ai_conversation_id_counts_when_there_is_no_session_id():
    sampler = SessionSampler(0.5)
    ids = [f"c{n}" for n in range(100)]
    assert [decide(sampler, 7, {"gen_ai.conversation.id": i}) for i in ids] == [
        kept_by_hash(i, 0.5) for i in ids
    ]


@pytest.mark.parametrize("attributes", [None, {}, {"session.id": ""}, {"session.id": 3}])
def test_a_root_without_a_session_id_falls_back_to_the_trace_id_ratio(attributes):
    sampler, by_trace = SessionSampler(0.3), TraceIdRatioBased(0.3)
    trace_ids = [n * 0x9E3779B97F4A7C15 % 2**128 for n in range(1, 400)]
    mine = [decide(sampler, t, attributes) for t in trace_ids]
    assert mine == [decide(by_trace, t, attributes) for t in trace_ids]
    assert 0 < sum(mine) < len(mine)


def test_a_session_id_that_is_its_own_trace_id_is_decided_by_the_trace_id():
    """A session started without session_id, or its continuation: its id is its trace's."""
    sampler, by_trace = SessionSampler(0.3), TraceIdRatioBased(0.3)
    trace_ids = [n * 0x9E3779B97F4A7C15 % 2**128 for n in range(1, 400)]
    assert [decide(sampler, t, {"session.id": str(uuid.UUID(int=t))}) for t in trace_ids] == [
        decide(by_trace, t) for t in trace_ids
    ]


@pytest.mark.parametrize("sampled", [True, False])
@pytest.mark.parametrize("remote", [True, False])
def test_other_spans_follow_their_parent(sampled, remote):
    flags = trace.TraceFlags(trace.TraceFlags.SAMPLED if sampled else 0)
    parent = trace.set_span_in_context(
        trace.NonRecordingSpan(trace.SpanContext(5, 6, is_remote=remote, trace_flags=flags))
    )
    for ratio in (0.0, 1.0):
        sampler = SessionSampler(ratio)
        assert decide(sampler, 5, {"session.id": "chat-123"}, parent) is sampled


def test_ratio_zero_keeps_nothing_and_one_keeps_everything():
    ids = [f"s{n}" for n in range(300)]
    assert not any(decide(SessionSampler(0.0), 1, {"session.id": i}) for i in ids)
    assert all(decide(SessionSampler(1.0), 1, {"session.id": i}) for i in ids)


@pytest.mark.parametrize(("given", "used"), [(1.5, 1.0), (-0.1, 0.0), ("half", 1.0), (None, 1.0)])
def test_a_bad_ratio_is_reported_and_replaced(given, used, warnings_log):
    assert SessionSampler(given).ratio == used
    assert any("SessionSampler ratio" in m for m in warnings_log())


def test_a_bad_ratio_raises_in_strict_mode():
    configure(strict=True)
    with pytest.raises(agentops.InvalidArgumentError):
        SessionSampler(2)


@pytest.mark.parametrize(
    ("argument", "ratio"), [("0.25", 0.25), (" 1 ", 1.0), ("", 1.0), (None, 1.0), ("0", 0.0)]
)
def test_the_entry_point_factory_takes_the_sdks_text_argument(argument, ratio):
    sampler = session_sampler(argument)
    assert isinstance(sampler, SessionSampler)
    assert sampler.ratio == ratio
    assert sampler.get_description() == f"SessionSampler{{{ratio}}}"


def test_the_entry_point_factory_reports_text_that_is_no_number(warnings_log):
    assert session_sampler("a quarter").ratio == 1.0
    assert any("'a quarter'" in m for m in warnings_log())


def test_the_entry_point_is_installed():
    found = entry_points(group="opentelemetry_traces_sampler", name=ENTRY_POINT)
    assert len(found) == 1, "the project's metadata is stale: reinstall it (scripts/test.sh)"
    assert isinstance(next(iter(found)).load()("0.5"), SessionSampler)


# -- through the package: runs, continuations ---------------------------------------------


def test_a_kept_run_keeps_all_its_spans_and_a_dropped_one_exports_nothing(sampled_provider):
    exporter = sampled_provider(0.5)
    kept = {}
    for n in range(60):
        with agentops.start_session(session_id=f"chat-{n}") as session:
            session.record(agentops.LLMEvent(model="m", prompt_tokens=1))
            agentops.record(agentops.ToolEvent(name="lookup"))
        kept[session.trace_id] = kept_by_hash(f"chat-{n}", 0.5)
    by_trace = defaultdict(list)
    for span in exporter.get_finished_spans():
        by_trace[span.context.trace_id].append(span.name)
    assert {t for t, k in kept.items() if k} == set(by_trace)
    assert all(
        sorted(names) == ["chat m", "execute_tool lookup", "session"] for names in by_trace.values()
    )
    assert 10 < len(by_trace) < 50


def test_a_continuation_by_uuid_gets_the_original_sessions_decision(sampled_provider):
    sampled_provider(0.5)
    decisions = []
    for _ in range(60):
        original = agentops.start_session()
        original.end_session()
        continued = agentops.start_session(inherited_session_id=original.session_id)
        continued.end_session()
        assert continued.trace_id == original.trace_id
        decisions.append((sampled(original), sampled(continued)))
    assert all(a == b for a, b in decisions)
    assert {a for a, _ in decisions} == {True, False}


def test_a_continuation_by_traceparent_follows_the_remote_parent(sampled_provider):
    sampled_provider(0.0)  # nothing would be kept at a root
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    assert sampled(agentops.start_session(inherited_session_id=parent))
    dropped = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
    assert not sampled(agentops.start_session(inherited_session_id=dropped))


# -- 1,000 conversations of 3 runs from 2 processes ----------------------------------------

RATIO = 0.3
CONVERSATIONS = 1000

RUN_TURNS = """
from opentelemetry_instrumentation_agentops import SessionSampler
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
import opentelemetry_instrumentation_agentops as agentops

provider = TracerProvider(sampler=SessionSampler(float(os.environ["RATIO"])))
provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(SPAN_FILE)))
agentops.init(tracer_provider=provider, auto_start_session=False)
for n in range(int(os.environ["CONVERSATIONS"])):
    for turn in os.environ["TURNS"].split(","):
        with agentops.start_session(session_id=f"conversation-{n}", name=f"turn {turn}") as s:
            s.record(agentops.LLMEvent(model="m", prompt_tokens=3, completion_tokens=4))
"""


def test_conversations_run_from_two_processes_are_kept_or_dropped_whole(tmp_path):
    def run(turns: str, seed: str):
        span_file = tmp_path / f"turns-{seed}.jsonl"
        done = run_script(
            tmp_path,
            RUN_TURNS,
            span_file=span_file,
            name=f"turns_{seed}.py",
            timeout=120,
            RATIO=str(RATIO),
            CONVERSATIONS=str(CONVERSATIONS),
            TURNS=turns,
            PYTHONHASHSEED=seed,  # a different salt for hash() in each process
            OTEL_INSTRUMENTATION_AGENTOPS_SESSION_SUMMARY="false",
        )
        assert done.returncode == 0, done.stderr
        return read_spans(span_file)

    with ThreadPoolExecutor(2) as pool:  # both processes run at the same time
        spans = [s for found in pool.map(run, ["1,3", "2"], ["1", "2"]) for s in found]

    runs = defaultdict(set)  # conversation -> the turns exported
    roots = [s for s in spans if s["parent_span_id"] is None]
    children = defaultdict(int)
    for span in spans:
        if span["parent_span_id"] is not None:
            children[span["trace_id"]] += 1
    for root in roots:
        runs[root["attributes"]["session.id"]].add(root["name"])
        assert children[root["trace_id"]] == 1, root  # a kept run keeps its spans
    assert sum(children.values()) == len(roots)
    whole = {"session turn 1", "session turn 2", "session turn 3"}
    assert all(turns == whole for turns in runs.values()), "a conversation lost turns"
    kept = len(runs) / CONVERSATIONS
    assert abs(kept - RATIO) <= 0.05, kept
    assert set(runs) == {
        f"conversation-{n}"
        for n in range(CONVERSATIONS)
        if kept_by_hash(f"conversation-{n}", RATIO)
    }


# -- zero code ------------------------------------------------------------------------------

UNDER_INSTRUMENT = """
import opentelemetry_instrumentation_agentops as agentops

provider = trace.get_tracer_provider()
kept = []
for n in range(200):
    with agentops.start_session(session_id=f"conversation-{n}") as session:
        kept.append(session.span.get_span_context().trace_flags.sampled)
print(json.dumps({"sampler": provider.sampler.get_description(), "kept": kept}))
"""


def test_opentelemetry_instrument_uses_it_from_the_environment(tmp_path):
    script = write_script(tmp_path, UNDER_INSTRUMENT)
    env = script_env(
        tmp_path / "unused.jsonl",
        OTEL_TRACES_SAMPLER=ENTRY_POINT,
        OTEL_TRACES_SAMPLER_ARG="0.4",
        OTEL_TRACES_EXPORTER="none",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
    )
    command = [str(BIN / "opentelemetry-instrument"), sys.executable, str(script)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Failed to initialize sampler" not in done.stderr, done.stderr
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    assert printed["sampler"] == "SessionSampler{0.4}"
    assert printed["kept"] == [kept_by_hash(f"conversation-{n}", 0.4) for n in range(200)]


INIT_PIPELINE = """
import opentelemetry_instrumentation_agentops as agentops

agentops.init(auto_start_session=False)
print(json.dumps(trace.get_tracer_provider().sampler.get_description()))
"""


@pytest.mark.parametrize(
    ("sampler", "description"),
    [("agentops_session", "SessionSampler{0.4}"), ("traceidratio", "TraceIdRatioBased{0.4}")],
)
def test_the_pipeline_init_builds_takes_it_from_the_environment(tmp_path, sampler, description):
    done = run_script(
        tmp_path,
        INIT_PIPELINE,
        OTEL_TRACES_SAMPLER=sampler,
        OTEL_TRACES_SAMPLER_ARG="0.4",
        OTEL_TRACES_EXPORTER="none",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]).startswith(description)
    assert "Couldn't recognize sampler" not in done.stderr


def test_the_sampler_logs_nothing_on_the_hot_path(caplog):
    caplog.set_level(logging.DEBUG)
    sampler = SessionSampler(0.5)
    for n in range(50):
        decide(sampler, n + 1, {"session.id": f"s{n}"})
    assert caplog.records == []
