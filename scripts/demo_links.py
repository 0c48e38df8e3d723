"""Print the Phoenix UI link of each session trace listed in a sessions file.

``scripts/demo.sh`` runs it after ``examples/support_desk.py --sessions-file FILE``. Phoenix
ingests spans asynchronously, so it first waits until each session's root span is stored, then
prints one line per session::

    support alice   ticket-1042  alice   Success        http://127.0.0.1:PORT/projects/<id>/traces/<trace-id>

Exit status 1 if a session did not arrive in time. Reuses the Phoenix helpers of the tests
(``tests/support/phoenix.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

# tests/, so the test helpers import as the tests import them: ``support.phoenix``.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.phoenix import project_id, wait_for_spans


def root_arrived(url: str, trace_id: str, project: str, timeout: float) -> bool:
    """Wait until the trace's root span (the session span, which ends last) is stored."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        try:
            spans = wait_for_spans(url, trace_id, 1, project, timeout=max(remaining, 0.0))
        except AssertionError:
            return False
        if any(span["parent_id"] is None for span in spans):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def print_links(url: str, project: str, sessions: list[dict[str, Any]], timeout: float) -> int:
    url = url.rstrip("/")
    missing = [s for s in sessions if not root_arrived(url, s["trace_id"], project, timeout)]
    arrived = [s for s in sessions if s not in missing]
    if arrived:
        pid = project_id(url, project)
        print(f"Sessions in Phoenix (project {project!r}): {url}/projects/{pid}/sessions")
        for session in arrived:
            link = f"{url}/projects/{pid}/traces/{session['trace_id']}"
            ids = f"{session['session_id']:<12} {session.get('user_id') or '':<7}"
            print(f"  {session['name']:<15} {ids} {session['end_state']:<14} {link}")
    for session in missing:
        print(
            f"  {session['name']}: trace {session['trace_id']} did not reach Phoenix "
            f"within {timeout:.0f} s",
            file=sys.stderr,
        )
    return 1 if missing else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sessions_file", type=Path, help="JSON written by --sessions-file")
    parser.add_argument("--url", required=True, help="Phoenix base URL, http://127.0.0.1:PORT")
    parser.add_argument("--project", default="default", help="Phoenix project name")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait per session")
    args = parser.parse_args(argv)
    sessions = json.loads(args.sessions_file.read_text())
    return print_links(args.url, args.project, sessions, args.timeout)


if __name__ == "__main__":
    raise SystemExit(main())
