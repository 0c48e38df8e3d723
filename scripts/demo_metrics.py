"""Run the example agent, then print its session metrics as Prometheus answers for them.

``scripts/demo.sh`` runs it instead of ``examples/support_desk.py`` when Prometheus is
installed, with ``OTEL_METRICS_EXPORTER=prometheus`` (``init()`` serves the metrics on
``OTEL_EXPORTER_PROMETHEUS_PORT``) and a Prometheus scraping that port. Arguments after
``--`` go to the example. Once the agent is done, this process keeps serving its metrics
until Prometheus has scraped every ended session, then prints, per end state, the PromQL
results of the figures of the dashboard (``docs/grafana-dashboard.json``), or says why
it cannot (the agent's exit status stays its own)::

    end state      sessions  mean duration  tokens/session  LLM calls/session  errors/session
    Fail                  1        0.112 s             0.0                1.0             1.0
    Success               3        0.216 s            99.3                2.0             0.0

Reuses the Prometheus helpers of the tests (``tests/support/prometheus.py``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# tests/ and examples/, so the helpers and the example import as the tests import them.
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "examples")]

import support_desk  # noqa: E402
from support.prometheus import by_label, query, wait_for  # noqa: E402

STATE = "agentops_session_end_state"


def per_session(metric: str) -> str:
    return f"sum by ({STATE}) ({metric}_sum) / sum by ({STATE}) ({metric}_count)"


# (column, PromQL by end state, format)
FIGURES = (
    ("sessions", f"sum by ({STATE}) (agentops_session_duration_seconds_count)", "{:.0f}"),
    ("mean duration", per_session("agentops_session_duration_seconds"), "{:.3f} s"),
    (
        "tokens/session",  # input and output together, over the sessions
        f"sum by ({STATE}) (agentops_session_token_usage_sum)"
        f" / sum by ({STATE}) (agentops_session_duration_seconds_count)",
        "{:.1f}",
    ),
    ("LLM calls/session", per_session("agentops_session_llm_calls"), "{:.1f}"),
    ("errors/session", per_session("agentops_session_errors"), "{:.1f}"),
)


def report(url: str, sessions: int, timeout: float) -> None:
    total = f"sum({FIGURES[0][1]})"
    wait_for(url, total, lambda rows: sum(by_label(rows).values()) >= sessions, timeout)
    columns = {name: by_label(query(url, promql), STATE) for name, promql, _ in FIGURES}
    print(f"Session metrics in Prometheus ({url}/classic/graph), PromQL by end state:")
    for name, promql, _ in FIGURES:
        print(f"  {name:<18} {promql}")
    print()
    print("  end state    " + "".join(f"{name:>19}" for name, _, _ in FIGURES))
    for state in sorted(columns["sessions"]):
        cells = (fmt.format(columns[name].get(state, 0.0)) for name, _, fmt in FIGURES)
        print(f"  {state:<13}" + "".join(f"{cell:>19}" for cell in cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prometheus", required=True, help="Prometheus URL, scraping this agent")
    parser.add_argument("--timeout", type=float, default=30, help="seconds to wait for a scrape")
    parser.add_argument("example", nargs=argparse.REMAINDER, help="-- arguments of the example")
    args = parser.parse_args(argv)
    example_args = args.example[1:] if args.example[:1] == ["--"] else args.example
    status = support_desk.main(example_args)
    try:
        report(args.prometheus.rstrip("/"), len(support_desk.TICKETS), args.timeout)
    except (AssertionError, OSError) as error:  # the view is optional: the agent's run stands
        print(f"No metrics view: {error}", file=sys.stderr)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
