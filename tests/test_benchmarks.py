"""The benchmark command still works: every benchmark runs and the results are written.

Only that: timings are never checked here (``benchmarks/run.py --quick`` uses tiny counts).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# One row per benchmark of issue #7 (items 1-4 and 6; peers are skipped with --no-peers).
ROWS = (
    "`record(event)`",
    "`start_session()` + `end_session()`",
    '`@record_action("step")` function',
    "third-party `start_as_current_span` in a session",
    "third-party `chat` span with tokens in a session",
    "open sessions, RSS over the same process before",
    "events in one session",
)
# Issue #16: same-shape baselines, features against their off switch, import time, memory.
ROWS_16 = (
    '`record(ActionEvent(action_type="step"))`, same shape',
    "a bare span with the same 4 attributes, start and end times passed in",
    "`start_session()` + `end_session()`, same shape",
    "`end_state` and the six totals at end; status OK",
    '`@record_action("step")` function, same shape',
    "a processor that only stamps",
    "counted as an LLM call",
    "off switch: the same span with keys no convention knows",
    "no session running, our span processor on",
    "live snapshots on",
    "`OTEL_INSTRUMENTATION_AGENTOPS_LIVE_INTERVAL=0`",
    "`OTEL_INSTRUMENTATION_AGENTOPS_METRICS=false`",
    "metrics on, an SDK MeterProvider",
    "`logger.info(...)` through the OpenTelemetry logging handler, in a session",
    "off switch: the same without the record factory `instrument()` installs",
    "a request whose baggage names another service's session",
    "its id put in the context's baggage",
    "`import opentelemetry_instrumentation_agentops` | `import opentelemetry.sdk.trace`",
    "open bare root spans of the same shape",
    "## Ours against the same span (issue #16)",
    "## Features against their off switch (issue #16)",
)
# Issue #19: the bounds the tests used to assert on memory and time, as rows.
ROWS_19 = (
    "## Faults (issue #19)",
    "the live thread stuck in the export of a snapshot (a collector that hangs)",
    "open sessions with live snapshots (every 0.1 s",
    "B per running session",
    "the collector down (connection refused, 1 s export timeout): the median call against",
    "RSS growth from the first quarter to the last",
    "exit by the end of the program, a collector that hangs",
    "exit by an uncaught exception, a collector that hangs",
    "exit by SIGTERM (sent at its last statement), a collector that hangs",
)


def test_quick_benchmark_prints_every_row_and_writes_results(tmp_path: Path) -> None:
    output = tmp_path / "RESULTS.md"
    run = ROOT / "benchmarks" / "run.py"
    done = subprocess.run(
        [sys.executable, str(run), "--quick", "--no-peers", "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for row in ROWS + ROWS_16 + ROWS_19:
        assert row in done.stdout, f"missing row {row!r}:\n{done.stdout}"
    assert "crashed" not in done.stdout
    written = output.read_text()
    assert "## Machine" in written and "- python: " in written
    for row in ROWS + ROWS_16 + ROWS_19:
        assert row in written
