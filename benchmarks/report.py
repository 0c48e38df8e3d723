"""Tables (Markdown, printed and written to RESULTS.md) and the machine they were measured on."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

MIB = 1024 * 1024
# Goals of the scale items (issue #7, item 6) and of issue #16 (memory and import time).
SESSIONS_GOAL_MIB = 60
SESSIONS_SAME_GOAL = 1.35  # issue #20 (#16: 1.2): open sessions' RSS / same-shape bare roots' RSS
IMPORT_GOAL = 1.5  # import of ours / import of opentelemetry.sdk.trace
# "Flat": after the first sample, RSS may not grow by more than this (the SDK's bounded queue and
# allocator noise fit well inside it; something kept per event would not, at 100k+ events).
EVENTS_FLAT_MIB = 16
# Issue #19: bounds that were assertions of the tests, now goals of rows here.
SEQUENTIAL_GOAL = 0.10  # snapshots on against off, RSS of sequential sessions (issue #21)
LIVE_ENTRY_GOAL = 300  # bytes the live scheduler holds per running session (tests/test_live.py)
LIVE_AFTER_GOAL = 1024  # bytes it holds once every session ended and its entry came due
OFFLINE_END_GOAL = 0.5  # s, slowest end_session() with the collector down: half its 1 s timeout
EXIT_OVER_BOUND = 2.5  # s an exit may take beyond the flush bound with a collector that hangs


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "os": platform.platform(),
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": _memory(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "commit": _commit(),
        # Other processes competing for the CPUs make the figures noisier: say how busy it was.
        "load average (1, 5, 15 min) when the tables were written": _load(),
    }
    return info


def _load() -> str:
    try:
        return ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _commit() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head}{' (src modified)' if dirty else ''}" or "unknown"


def _ratio(result: dict[str, Any]) -> str:
    return f"{result['ratio']:.2f}x ({result['ratio_min']:.2f}-{result['ratio_max']:.2f})"


def _met(value: float, goal: float | None) -> str:
    if goal is None:
        return "-"
    return "yes" if value <= goal else "**no**"


def ours_table(results: list[dict[str, Any]]) -> list[str]:
    """Items 1-4: our operations against bare OpenTelemetry."""
    lines = [
        "| operation | baseline | ratio: median (min-max) | vs clean provider | µs ours / bare "
        "| goal | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        goal = f"<= {r['goal']}x" if r["goal"] is not None else "(diagnostic)"
        # When the clean provider is the headline, there is no second figure to show.
        # Nor for a row against an off switch of a session: both baselines are the same call.
        shown = r["headline"] == "shared" and not r["extra"].get("switch")
        clean = f"{r['ratio_clean']:.2f}x" if shown else "-"
        lines.append(
            f"| {r['operation']} | {r['baseline']} | **{_ratio(r)}** | {clean} "
            f"| {r['candidate_us']:.1f} / {r['bare_us']:.1f} | {goal} "
            f"| {_met(r['ratio'], r['goal'])} |"
        )
    return lines


def peers_table(ours: dict[str, dict[str, Any]], peers: list[dict[str, Any]]) -> list[str]:
    """Item 5: each peer against its own bare baselines, next to ours for the same operation."""
    lines = [
        "| peer | operation | baseline | peer ratio: median (min-max) | peer vs clean provider "
        "| ours, same op (vs clean) | ours lower |",
        "|---|---|---|---|---|---|---|",
    ]
    for peer in peers:
        if "error" in peer or "missing" in peer:
            reason = peer.get("missing") or peer["error"].splitlines()[0]
            lines.append(f"| {peer['title']} | - | - | {reason} | - | - | - |")
            continue
        for r in peer["results"]:
            mine = ours.get(r["extra"].get("ours", ""))
            if mine is None:
                mine_text, lower = "-", "-"
            else:
                # Our headline (for the processor row it is already the clean provider's).
                mine_text = f"{mine['ratio']:.2f}x ({mine['ratio_clean']:.2f}x), {mine['key']}"
                # Lower on both baselines: the same provider's and the clean one's.
                below = mine["ratio"] < r["ratio"] and mine["ratio_clean"] < r["ratio_clean"]
                lower = "yes" if below else "**no**"
            lines.append(
                f"| {peer['title']} | {r['operation']} | {r['baseline'].split(' ', 1)[0]} "
                f"| **{_ratio(r)}** | {r['ratio_clean']:.2f}x | {mine_text} | {lower} |"
            )
    return lines


def imports_table(imports: dict[str, Any]) -> list[str]:
    """Issue #16: import time in fresh interpreters."""
    lines = [
        "| import | against | ratio: median (min-max) | ms ours / SDK | modules loaded, ours / SDK "
        "| instrumentor machinery loaded | goal | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    if not imports or "error" in imports:
        reason = (imports or {}).get("error", "not run").splitlines()[0]
        return [
            *lines,
            f"| `import opentelemetry_instrumentation_agentops` | crashed: {reason} "
            "| - | - | - | - | - | - |",
        ]
    heavy = ", ".join(f"`{m}`" for m in imports["ours_heavy"]) or "none"
    ratio = f"{imports['ratio']:.2f}x ({imports['ratio_min']:.2f}-{imports['ratio_max']:.2f})"
    lines.append(
        f"| `import opentelemetry_instrumentation_agentops` | `import opentelemetry.sdk.trace` "
        f"| **{ratio}** | {imports['ours_ms']:.1f} / {imports['sdk_ms']:.1f} "
        f"| {imports['ours_modules']} / {imports['sdk_modules']} | {heavy} "
        f"| <= {IMPORT_GOAL}x | {_met(imports['ratio'], IMPORT_GOAL)} |"
    )
    return lines


def scale_table(scale: dict[str, Any]) -> list[str]:
    """Item 6: memory."""
    lines = ["| measurement | result | goal | met |", "|---|---|---|---|"]
    sessions, bare, events = scale.get("sessions"), scale.get("bare"), scale.get("events")
    same, ratio = scale.get("bare-same"), scale.get("ratio")
    if sessions and same and ratio and "error" not in sessions and "error" not in same:
        pairs = len(scale.get("sessions_rounds", ()))
        lines.append(
            f"| {sessions['count']:,} open sessions, each in a context of its own as a server's "
            f"conversations are, against {same['count']:,} open bare root spans of the same "
            "shape (`session.id`, `gen_ai.conversation.id`, `session.tags`), "
            f"RSS ratio, median of {pairs} pairs of processes (min-max) "
            f"| **{ratio['ratio']:.2f}x ({ratio['min']:.2f}-{ratio['max']:.2f})**: "
            f"{sessions['delta'] / MIB:.1f} / {same['delta'] / MIB:.1f} MiB "
            f"| ≤ {SESSIONS_SAME_GOAL}x | {_met(ratio['ratio'], SESSIONS_SAME_GOAL)} |"
        )
    nested, linked, nested_ratio = (
        scale.get("sessions-nested"),
        scale.get("bare-linked"),
        scale.get("nested_ratio"),
    )
    if nested and linked and nested_ratio and "error" not in nested and "error" not in linked:
        lines.append(
            f"| for scale: {nested['count']:,} open sessions each started inside the one before "
            "(its root links to the previous root) against bare root spans of that shape, link "
            f"included, RSS ratio (min-max) | {nested_ratio['ratio']:.2f}x "
            f"({nested_ratio['min']:.2f}-{nested_ratio['max']:.2f}): "
            f"{nested['delta'] / MIB:.1f} / {linked['delta'] / MIB:.1f} MiB | - | - |"
        )
    if sessions and "error" not in sessions:
        delta = sessions["delta"] / MIB
        lines.append(
            f"| {sessions['count']:,} open sessions, RSS over the same process before "
            f"| {delta:.1f} MiB ({sessions['per_item'] / 1024:.1f} KiB each) "
            f"| ≤ {SESSIONS_GOAL_MIB} MiB | {_met(delta, SESSIONS_GOAL_MIB)} |"
        )
    lines += _live_rows(scale)
    lines += _sequential_rows(scale)
    if bare and "error" not in bare:
        lines.append(
            f"| for scale: {bare['count']:,} open bare root spans, no attributes "
            f"| {bare['delta'] / MIB:.1f} MiB ({bare['per_item'] / 1024:.1f} KiB each) | - | - |"
        )
    if events and "error" not in events:
        growth = events["growth_after_first"] / MIB
        every = events["samples"][1][0] if len(events["samples"]) > 1 else events["count"]
        lines.append(
            f"| {events['count']:,} events in one session, RSS sampled every {every:,} "
            f"| start {events['start'] / MIB:.1f} MiB, end {events['end'] / MIB:.1f} MiB, "
            f"max Δ {events['max_delta'] / MIB:.1f} MiB, growth after the first sample "
            f"{growth:.1f} MiB; {events['counted']:,} actions counted "
            f"| flat (≤ {EVENTS_FLAT_MIB} MiB growth) | {_met(growth, EVENTS_FLAT_MIB)} |"
        )
    for name, item in scale.items():
        if isinstance(item, dict) and "error" in item:
            lines.append(f"| {name} | crashed: {item['error'].splitlines()[0]} | - | - |")
    return lines


def _live_rows(scale: dict[str, Any]) -> list[str]:
    """Issue #19: the live scheduler's memory (a bound of tests/test_live.py until then)."""
    live, off, ratio = scale.get("live"), scale.get("live-off"), scale.get("live_ratio")
    if not (live and off and ratio) or "error" in live or "error" in off:
        return []
    per_session, after = live["scheduler_per_session"], live["scheduler_after"]
    met = per_session <= LIVE_ENTRY_GOAL and after <= LIVE_AFTER_GOAL
    pairs = len(scale.get("live_rounds", ()))
    return [
        f"| {live['count']:,} open sessions with live snapshots (every 0.1 s), against the same "
        f"with them off, RSS ratio, median of {pairs} pairs of processes (min-max); the live "
        "scheduler (`sys.getsizeof` of its fresh references and heap entries) once each had "
        f"{live['snapshots'] // live['count']} snapshots "
        f"| **{ratio['ratio']:.2f}x ({ratio['min']:.2f}-{ratio['max']:.2f})**: "
        f"{live['delta'] / MIB:.1f} / {off['delta'] / MIB:.1f} MiB, {live['threads']} thread; "
        f"schedule {per_session:.0f} B per running session, {after} B once all ended "
        f"| ≤ {LIVE_ENTRY_GOAL} B per session, ≤ {LIVE_AFTER_GOAL} B once ended "
        f"| {'yes' if met else '**no**'} |"
    ]


def _sequential_rows(scale: dict[str, Any]) -> list[str]:
    """Issue #21: sessions ended before their first snapshot leave the schedule."""
    on, off = scale.get("live-sequential"), scale.get("live-sequential-off")
    ratio = scale.get("sequential_ratio")
    if not (on and off and ratio) or "error" in on or "error" in off:
        return []
    pairs = len(scale.get("live_sequential_rounds", ()))
    at = ", ".join(
        f"{int(n):,}: {on['rss'][n] / MIB:.1f} / {off['rss'][n] / MIB:.1f} MiB "
        f"({on['queued'][n]} queued)"
        for n in on["rss"]
    )
    met = ratio["max"] <= 1 + SEQUENTIAL_GOAL
    return [
        f"| {on['count']:,} sessions one after another, live snapshots at their default "
        "interval (none comes due) against off: RSS of the process, median of "
        f"{pairs} pairs of processes (min-max); at each count, on / off and the ended sessions "
        f"still in the schedule | **{ratio['ratio']:.2f}x ({ratio['min']:.2f}-{ratio['max']:.2f})**"
        f": {at} | ≤ {1 + SEQUENTIAL_GOAL:.2f}x | {'yes' if met else '**no**'} |"
    ]


def faults_table(faults: dict[str, Any]) -> list[str]:
    """Issue #19: a collector down or hung, against the null exporter."""
    lines = ["| measurement | result | against the null exporter | goal | met |"]
    lines.append("|---|---|---|---|---|")
    down, null, ratio = faults.get("offline"), faults.get("offline-null"), faults.get("ratio")
    if down and null and ratio and "error" not in down and "error" not in null:
        pairs = len(faults.get("offline_rounds", ()))
        slowest, growth = down["slowest_end"], down["growth"] / MIB
        ratio_text = f"{ratio['ratio']:.2f}x ({ratio['min']:.2f}-{ratio['max']:.2f})"
        lines += [
            f"| `end_session()` of {down['count']:,} sessions, the collector down (connection "
            "refused, 1 s export timeout): the median call against the same sessions exported "
            f"to the null exporter, median of {pairs} pairs of processes (min-max); the slowest "
            f"| **{ratio_text}**: {down['median_end'] * 1e6:.0f} / "
            f"{null['median_end'] * 1e6:.0f} µs; slowest {slowest * 1000:.1f} ms "
            f"| slowest {null['slowest_end'] * 1000:.1f} ms "
            f"| slowest < {OFFLINE_END_GOAL * 1000:.0f} ms (half the export timeout) "
            f"| {'yes' if slowest < OFFLINE_END_GOAL else '**no**'} |",
            f"| the same sessions, RSS growth from the first quarter to the last "
            f"| **{growth:.1f} MiB** | {null['growth'] / MIB:.1f} MiB "
            f"| flat (≤ {EVENTS_FLAT_MIB} MiB growth) | {_met(growth, EVENTS_FLAT_MIB)} |",
        ]
    exits = faults.get("exits")
    if exits and "error" not in exits:
        bound = exits["flush_bound"]
        goal = bound + EXIT_OVER_BOUND
        what = {
            "exit": "the end of the program",
            "exception": "an uncaught exception",
            "sigterm": "SIGTERM (sent at its last statement)",
        }
        for how, text in what.items():
            figures = exits[how]
            lines.append(
                f"| exit by {text}, a collector that hangs, {exits['left_running']} sessions of "
                f"{exits['events_each']} events left running: seconds from its last statement "
                f"to the end of the process, median of {exits['rounds']} "
                f"| **{figures['hung']:.2f} s** (max {figures['hung_max']:.2f}) "
                f"| {figures['null']:.2f} s "
                f"| ≤ {goal:g} s (the flush bound, {bound:g} s, + {EXIT_OVER_BOUND:g} s) "
                f"| {_met(figures['hung_max'], goal)} |"
            )
    for name, item in faults.items():
        if isinstance(item, dict) and "error" in item:
            lines.append(f"| {name} | crashed: {item['error'].splitlines()[0]} | - | - | - |")
    return lines


KINDS = (
    (
        "same",
        "## Ours against the same span (issue #16)",
        [
            "Each baseline is a bare span of the shape ours must produce anyway: the same name,",
            "attributes, start and end times passed in, end attributes and status. What is left",
            "is our own Python; the limit is the SDK (`docs/benchmarks.rst`, section Profile).",
        ],
    ),
    (
        "switch",
        "## Features against their off switch (issue #16)",
        [
            "Each feature on against the same operation with it off, interleaved round by round:",
            "what the feature itself costs. The span processor's off switch is a provider",
            "without it; counting's, the same span with keys that no convention knows.",
        ],
    ),
    (
        "simplest",
        "## Ours against the simplest bare span (issue #7)",
        [
            "Ratio: against the same bare operation on the same TracerProvider (batch processor,",
            "null exporter), which also runs our span processor. *vs clean provider*: against",
            "the bare operation on an identical provider our package never touched, so it",
            "includes what our span processor costs every span. The peers are compared with",
            "these rows.",
        ],
    ),
)


def results_markdown(
    info: dict[str, str],
    command: str,
    settings: dict[str, Any],
    ours: list[dict[str, Any]],
    ours_env: dict[str, str],
    peers: list[dict[str, Any]],
    scale: dict[str, Any],
    imports: dict[str, Any] | None = None,
    faults: dict[str, Any] | None = None,
) -> str:
    """The whole RESULTS.md."""
    by_key = {r["key"]: r for r in ours}
    envs = [f"ours: OpenTelemetry SDK {ours_env.get('sdk', '?')}"] + [
        f"{p['title']}: SDK {p['environment']['sdk']}" for p in peers if "environment" in p
    ]
    tables: list[str] = []
    for kind, title, intro in KINDS:
        rows = [r for r in ours if r["extra"].get("kind", "simplest") == kind]
        if rows:
            tables += [title, "", *intro, "", *ours_table(rows), ""]
    parts = [
        "# Benchmark results",
        "",
        f"Written by `{command}`. Every ratio is a median of per-round ratios against a bare",
        "OpenTelemetry SDK operation timed in the same process, interleaved, so machine speed",
        "mostly cancels out: compare ratios, not µs. Method: `benchmarks/harness.py` and",
        "`docs/benchmarks.rst`.",
        "",
        "## Machine",
        "",
        *[f"- {key}: {value}" for key, value in info.items()],
        f"- OpenTelemetry SDK per venv: {'; '.join(envs)}",
        f"- blocks of {settings['n']} calls, {settings['rounds']} measured rounds after a "
        "warm-up round",
        "",
        *tables,
        "## Peers",
        "",
        "Each peer in its own venv, against its own bare baselines measured in the same run",
        "(same provider; clean provider in the next column). *ours, same op*: our row of the",
        "simplest-span table above, measured the same way in our venv. Baselines (b) and (c)",
        "as in `shared/reference/peer-bench.md`.",
        "",
        *peers_table(by_key, peers),
        "",
        "## Import time (issue #16)",
        "",
        f"Fresh interpreters, {settings.get('import_rounds', '?')} pairs, alternating which goes",
        "first; each times its one `import` statement (`benchmarks/imports.py`).",
        "",
        *imports_table(imports or {}),
        "",
        "## Scale",
        "",
        *scale_table(scale),
        "",
        "## Faults (issue #19)",
        "",
        "Bounds the tests used to assert, measured here; the tests keep the behaviour.",
        "A fault against the same operation without it, interleaved round by round:",
        "",
        *ours_table([r for r in ours if r["extra"].get("kind") == "fault"]),
        "",
        "A collector down or hanging against the null exporter, fresh processes",
        "(`benchmarks/faults.py`):",
        "",
        *faults_table(faults or {}),
        "",
    ]
    return "\n".join(parts)
