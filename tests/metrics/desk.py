"""The example support desk (``examples/support_desk.py``), served wave after wave on command.

The Prometheus test runs it under ``opentelemetry-instrument`` with
``OTEL_METRICS_EXPORTER=prometheus``, so its metrics go where the distro sends them, and
drives it through stdin, one command a line, so that Prometheus scrapes between waves:

- ``serve``: serve the four tickets once more; prints one JSON line with each session's
  end state and totals;
- ``open``: start one session and leave it running; prints ``opened``;
- ``quit`` (or end of input): exit, ending what still runs.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))

import support_desk
from fake_openai import FakeOpenAIServer

import opentelemetry_instrumentation_agentops as agentops


def totals(session: agentops.Session) -> dict:
    t = session.totals
    return {
        "end_state": session.end_state,
        "duration": session.duration_seconds,
        "llm_calls": t.llm_calls,
        "tool_calls": t.tool_calls,
        "errors": t.errors,
        "input_tokens": t.input_tokens,
        "output_tokens": t.output_tokens,
    }


def main() -> int:
    support_desk.setup_telemetry()
    with FakeOpenAIServer() as server:
        print("ready", flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "serve":
                sessions = asyncio.run(support_desk.run_desk(server.base_url))
                print(json.dumps([totals(s) for s in sessions]), flush=True)
            elif command == "open":
                agentops.start_session(name="waiting for a customer")
                print("opened", flush=True)
            elif command == "quit":
                break
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
