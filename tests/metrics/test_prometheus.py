"""The session metrics end to end: the example agent, a real Prometheus, PromQL over its API.

The example support desk runs under ``opentelemetry-instrument`` with
``OTEL_METRICS_EXPORTER=prometheus`` (the distro's own pipeline, nothing configured in
code), served in two waves of four sessions with a Prometheus scrape in between, then with
one session left running. Prometheus (Debian's package, ``scripts/prometheus.sh``) scrapes it
every second on loopback ports of its own. The tests compare what Prometheus answers with
the totals the agent reports for the same sessions, and run every query of
``docs/grafana-dashboard.json``, read from the file, so the dashboard cannot drift from the
metric names.

``METRICS_SCREENSHOT=docs/prometheus-metrics.png`` also saves some of the dashboard's queries
in Prometheus' own graph page, shot with headless Chromium after more waves
(``scripts/metrics_screenshot.sh`` does that).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any

import pytest
from support.network import free_ports
from support.prometheus import by_label, prometheus_server, query, wait_for

from .reader import DURATION_BUCKETS
from .screenshot import graph_page_url, screenshot

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "docs" / "grafana-dashboard.json"
DESK = Path(__file__).with_name("desk.py")
INSTRUMENT = Path(sys.executable).parent / "opentelemetry-instrument"
# Grafana's own variable, the only one the queries hold besides the dashboard's variables: a
# window wide enough for the whole run.
RATE_INTERVAL = "5m"
SCREENSHOT_WAVES = 12
SCREENSHOT_PANELS = {
    "Sessions ended per end state",
    "Session duration p50 / p95",
    "Tokens per session",
}


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def as_promql(expr: str, board: dict[str, Any]) -> str:
    """A panel's expression as Grafana sends it with every variable at "All"."""
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            expr = expr.replace(f"${variable['name']}", variable["allValue"])
    expr = expr.replace("$__rate_interval", RATE_INTERVAL)
    assert "$" not in expr, f"a variable the test does not know: {expr}"
    return expr


def panel_queries() -> list[tuple[str, str, str]]:
    """(panel title, target refId, PromQL) of every target of every panel."""
    board = dashboard()
    return [
        (panel["title"], target["refId"], as_promql(target["expr"], board))
        for panel in board["panels"]
        for target in panel["targets"]
    ]


@dataclass
class Run:
    url: str  # Prometheus
    version: str
    first: list[dict[str, Any]]  # the sessions of each wave, as the agent reports them
    second: list[dict[str, Any]]

    @property
    def ended(self) -> list[dict[str, Any]]:
        return self.first + self.second


class Agent:
    """The desk driver under opentelemetry-instrument, one command and one answer at a time."""

    def __init__(self, metrics_port: int, log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOPS_"))}
        env.update(
            OTEL_SERVICE_NAME="support-desk",
            OTEL_TRACES_EXPORTER="none",  # this test is about metrics; Phoenix tests do traces
            OTEL_LOGS_EXPORTER="none",
            OTEL_METRICS_EXPORTER="prometheus",
            OTEL_EXPORTER_PROMETHEUS_HOST="127.0.0.1",
            OTEL_EXPORTER_PROMETHEUS_PORT=str(metrics_port),
            PYTHONUNBUFFERED="1",
        )
        self._log = open(log, "w")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [str(INSTRUMENT), sys.executable, str(DESK)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.log_path = log

    def _read(self) -> None:
        for line in self.process.stdout:
            self._lines.put(line.strip())

    def answer(self, timeout: float = 60) -> str:
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the agent did not answer; log:\n{self.tail()}") from None

    def send(self, command: str) -> str:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.answer()

    def tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self._log.close()


def total(url: str) -> float:
    return sum(by_label(query(url, "sum(agentops_session_duration_seconds_count)")).values())


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    prometheus_port, metrics_port = free_ports(2)
    log = tmp_path_factory.mktemp("desk") / "agent.log"
    with prometheus_server(f"127.0.0.1:{metrics_port}", prometheus_port) as prometheus:
        agent = Agent(metrics_port, log)
        try:
            assert agent.answer() == "ready", agent.tail()
            url = prometheus.url
            # Scraped before any session: the first wave is not the series' first sample.
            wait_for(url, 'up{job="agent"}', lambda rows: by_label(rows) == {"": 1.0})
            first = json.loads(agent.send("serve"))
            wait_for(url, "sum(agentops_session_duration_seconds_count)", lambda r: total(url) == 4)
            second = json.loads(agent.send("serve"))
            wait_for(url, "sum(agentops_session_duration_seconds_count)", lambda r: total(url) == 8)
            assert agent.send("open") == "opened"
            wait_for(url, "sum(agentops_session_active)", lambda r: by_label(r) == {"": 1.0})
            yield Run(url, prometheus.version, first, second)
            target = os.environ.get("METRICS_SCREENSHOT")
            if target:
                take_screenshot(agent, url, Path(target))
        finally:
            agent.stop()


def take_screenshot(agent: Agent, url: str, output: Path) -> None:
    """More waves a few seconds apart, for lines worth a look, then the graph page of four of
    the dashboard's queries (all of them make a page too tall to read)."""
    for _ in range(SCREENSHOT_WAVES):
        agent.send("serve")
        time.sleep(3)
    shown = [q for title, _, q in panel_queries() if title in SCREENSHOT_PANELS]
    screenshot(graph_page_url(url, shown, "1m"), output)


def test_sessions_by_end_state(run: Run):
    rows = query(
        run.url,
        "sum by (agentops_session_end_state) (agentops_session_duration_seconds_count)",
    )
    expected = Counter(s["end_state"] for s in run.ended)
    assert expected == {"Success": 6, "Fail": 2}  # the desk: three answered, one escalated
    assert by_label(rows, "agentops_session_end_state") == expected


def test_duration_histogram_counts_every_session_in_its_bucket(run: Run):
    rows = query(run.url, "sum by (le) (agentops_session_duration_seconds_bucket)")
    buckets = {float(le): count for le, count in by_label(rows, "le").items()}
    assert len(buckets) > 10 and buckets[float("inf")] == len(run.ended)
    for bound, count in buckets.items():
        assert count == sum(s["duration"] <= bound for s in run.ended), bound
    rows = query(run.url, "sum(agentops_session_duration_seconds_sum)")
    assert by_label(rows)[""] == pytest.approx(sum(s["duration"] for s in run.ended))


def test_tokens_per_session_by_type(run: Run):
    per_session = query(
        run.url,
        "sum by (gen_ai_token_type) (agentops_session_token_usage_sum)"
        " / sum by (gen_ai_token_type) (agentops_session_token_usage_count)",
    )
    expected = {kind: mean(s[f"{kind}_tokens"] for s in run.ended) for kind in ("input", "output")}
    assert all(value > 0 for value in expected.values())
    assert by_label(per_session, "gen_ai_token_type") == pytest.approx(expected)
    counts = query(run.url, "sum by (gen_ai_token_type) (agentops_session_token_usage_count)")
    assert by_label(counts, "gen_ai_token_type") == {"input": 8, "output": 8}


def test_no_series_names_a_session(run: Run):
    rows = query(run.url, '{__name__=~"agentops_session_.*"}')
    labels = {key for row in rows for key in row["metric"]}
    assert labels <= {
        "__name__",
        "agentops_session_end_state",
        "gen_ai_token_type",
        "le",
        "instance",
        "job",
        "otel_scope_name",
        "otel_scope_schema_url",
        "otel_scope_version",
    }, labels


# -- the dashboard: every panel's queries, as Grafana would send them ---------------------


def _mean(sessions: list[dict[str, Any]], key: str, state: str | None = None) -> float:
    return mean(s[key] for s in sessions if state is None or s["end_state"] == state)


def check_active(run: Run, values: dict[str, float], ref: str) -> None:
    assert values == {"": 1.0}  # the session left running


def check_ended(run: Run, values: dict[str, float], ref: str) -> None:
    # The increase over the window: the second wave at least (the first was the series'
    # first sample), at most everything, give or take Prometheus' extrapolation.
    assert set(values) == {"Success", "Fail"}
    for state, value in values.items():
        second = sum(s["end_state"] == state for s in run.second)
        assert second * 0.99 <= value <= sum(s["end_state"] == state for s in run.ended) * 1.2


def check_duration(run: Run, values: dict[str, float], ref: str) -> None:
    (value,) = values.values()
    # Every bucket from the longest session's up has the same samples, so the quantile (its
    # extrapolated rates included) lies at most in that bucket.
    longest = max(s["duration"] for s in run.ended)
    assert 0 < value <= min(b for b in DURATION_BUCKETS if b >= longest), (ref, value)


def check_tokens(run: Run, values: dict[str, float], ref: str) -> None:
    expected = {k: _mean(run.second, f"{k}_tokens") for k in ("input", "output")}
    assert values == pytest.approx(expected)


def check_calls(run: Run, values: dict[str, float], ref: str) -> None:
    key = {"A": "llm_calls", "B": "tool_calls"}[ref]
    assert values == pytest.approx({"": _mean(run.second, key)})


def check_errors(run: Run, values: dict[str, float], ref: str) -> None:
    expected = {state: _mean(run.second, "errors", state) for state in ("Success", "Fail")}
    assert values == pytest.approx(expected)
    assert values["Fail"] >= 1  # the escalated conversation's failed model call


CHECKS = {
    "Active sessions": (None, check_active),
    "Sessions ended per end state": ("agentops_session_end_state", check_ended),
    "Session duration p50 / p95": (None, check_duration),
    "Tokens per session": ("gen_ai_token_type", check_tokens),
    "LLM and tool calls per session": (None, check_calls),
    "Errors per session": ("agentops_session_end_state", check_errors),
}


def test_every_dashboard_panel_has_a_check():
    assert {title for title, _, _ in panel_queries()} == set(CHECKS)
    for panel in dashboard()["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


@pytest.mark.parametrize(
    ("title", "ref", "promql"), panel_queries(), ids=[f"{t} {r}" for t, r, _ in panel_queries()]
)
def test_dashboard_query(run: Run, title: str, ref: str, promql: str):
    label, check = CHECKS[title]
    rows = query(run.url, promql)
    assert rows, f"{title} {ref}: no data for {promql}"
    check(run, by_label(rows, label), ref)


def test_prometheus_is_the_real_one(run: Run):
    assert run.version.startswith("prometheus, version 2."), run.version


# -- the demo's metrics view ---------------------------------------------------------------


def test_demo_metrics_view_prints_the_sessions_per_end_state(tmp_path: Path):
    prometheus_port, metrics_port = free_ports(2)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOPS_"))}
    env.update(  # as scripts/demo.sh runs it when Prometheus is installed
        OTEL_TRACES_EXPORTER="none",
        OTEL_METRICS_EXPORTER="prometheus",
        OTEL_EXPORTER_PROMETHEUS_HOST="127.0.0.1",
        OTEL_EXPORTER_PROMETHEUS_PORT=str(metrics_port),
    )
    with prometheus_server(f"127.0.0.1:{metrics_port}", prometheus_port) as prometheus:
        done = subprocess.run(
            [
                sys.executable,
                str(ROOT / "scripts" / "demo_metrics.py"),
                "--prometheus",
                prometheus.url,
                "--",
                "--sessions-file",
                str(tmp_path / "sessions.json"),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    assert "No metrics view" not in done.stderr
    rows = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()[-2:]}
    assert rows["Fail"][0] == "1" and rows["Success"][0] == "3", done.stdout
    assert rows["Fail"][-1] == "1.0" and rows["Success"][-1] == "0.0"  # errors per session
    assert len(json.loads((tmp_path / "sessions.json").read_text())) == 4
