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
    for row in ROWS:
        assert row in done.stdout, f"missing row {row!r}:\n{done.stdout}"
    assert "crashed" not in done.stdout
    written = output.read_text()
    assert "## Machine" in written and "- python: " in written
    for row in ROWS:
        assert row in written
