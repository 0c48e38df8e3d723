"""Regenerate docs/phoenix-conversation.png: one conversation of the chat server in Phoenix.

    .venv/bin/python scripts/conversation_screenshot.py [OUTPUT.png]

Starts a throwaway Phoenix (the e2e tests' helper), runs ``examples/chat_server.py`` exporting
to it, talks one conversation of four turns (one run per request, all with the same
``session_id``), waits until Phoenix's sessions view has the four traces, takes a headless
Chromium screenshot of that session's page (``scripts/chromium-screenshot.sh``) and stops
both servers by their PIDs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "examples")]

from chat_server import talk  # noqa: E402
from e2e.phoenix import get_sessions, phoenix_server, project_id  # noqa: E402

PROJECT = "chat-server"
CONVERSATION_ID = "conversation-42"
TURNS = [
    "Hello! I bought a charger last week.",
    "Where is my order?",
    "It arrived broken, I want a refund.",
    "Thanks a lot, bye!",
]


def wait_for_session(url: str, turns: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = {s["session_id"]: s for s in get_sessions(url, PROJECT)}
        except OSError:  # 404 until the project's first span arrived
            found = {}
        session = found.get(CONVERSATION_ID)
        if session is not None and len(session["traces"]) == turns:
            return session
        time.sleep(0.5)
    raise SystemExit(f"Phoenix did not show {turns} traces of {CONVERSATION_ID} in time")


def main() -> None:
    output = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "phoenix-conversation.png")
    with phoenix_server() as phoenix:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOPS_"))}
        env.update(
            OTEL_EXPORTER_OTLP_ENDPOINT=phoenix.url,
            OTEL_RESOURCE_ATTRIBUTES=f"openinference.project.name={PROJECT}",
            OTEL_BSP_SCHEDULE_DELAY="100",
            OTEL_METRICS_EXPORTER="none",
            OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="true",  # made-up messages
            PYTHONUNBUFFERED="1",
        )
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "examples" / "chat_server.py"), "--port", "0"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            url = server.stdout.readline().split()[-1]
            for message in TURNS:
                print(talk(url, CONVERSATION_ID, message)["reply"])
                time.sleep(1)  # turns a second apart, as a person types
            session = wait_for_session(phoenix.url, len(TURNS))
            project = project_id(phoenix.url, PROJECT)
            page = f"{phoenix.url}/projects/{project}/sessions/{session['id']}"
            script = ROOT / "scripts" / "chromium-screenshot.sh"
            subprocess.run(["bash", str(script), page, str(output)], check=True)
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
