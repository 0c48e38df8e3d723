"""Log records carry the session under ``opentelemetry-instrument``, exported over OTLP.

The logging bridge as ``opentelemetry-instrument`` sets it up: the SDK's ``LoggingHandler``
(``OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED=true``) or the one of
``opentelemetry-instrumentation-logging`` (its instrumentor, loaded by the same command),
on the root logger, writing to the global LoggerProvider whose batch exporter the SDK's
configurator added before any instrumentor ran: the order a processor appended by
``instrument()`` could not serve. The records arrive over OTLP/HTTP at a local receiver.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support.network import otlp_collector, otlp_logs
from support.span_file import last_json, script_env, write_script

BIN = Path(sys.executable).parent
SESSION_ID, AGENT_ID, AGENT_NAME = "session.id", "gen_ai.agent.id", "gen_ai.agent.name"
CODE_FILE = "code.file.path"  # the SDK's handler always adds it; the contrib one by choice

DESK = """
import logging

from support.concurrent_users import serve_concurrently

log = logging.getLogger("desk")
log.setLevel(logging.INFO)
log.info("before any session")
print(json.dumps(serve_concurrently(log, 3)))
"""


@pytest.mark.parametrize("bridge", ["sdk", "instrumentation-logging"])
def test_records_of_concurrent_sessions_arrive_over_otlp_with_their_session(tmp_path, bridge):
    script = write_script(tmp_path, DESK)
    with otlp_collector() as (url, received):
        env = script_env(
            tmp_path / "unused.jsonl",
            OTEL_TRACES_EXPORTER="none",
            OTEL_METRICS_EXPORTER="none",
            OTEL_LOGS_EXPORTER="otlp",
            OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
            OTEL_EXPORTER_OTLP_ENDPOINT=url,
            OTEL_BLRP_SCHEDULE_DELAY="50",
        )
        if bridge == "sdk":
            env["OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED"] = "true"
        command = [str(BIN / "opentelemetry-instrument"), sys.executable, str(script)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        records = {body: attributes for body, attributes in otlp_logs(received)}

    session_ids = {int(user): sid for user, sid in last_json(done.stdout).items()}
    assert len(set(session_ids.values())) == 3
    assert (CODE_FILE in records["before any session"]) is (bridge == "sdk")  # which bridge
    assert SESSION_ID not in records["before any session"]
    helpers = set()
    for user, session_id in session_ids.items():
        start, helper = records[f"user {user}: start"], records[f"user {user}: helper"]
        assert (start[SESSION_ID], helper[SESSION_ID]) == (session_id, session_id)
        assert AGENT_ID not in start
        assert helper[AGENT_NAME] == f"helper {user}"
        helpers.add(helper[AGENT_ID])
        assert SESSION_ID not in records[f"user {user}: after"]
    assert len(helpers) == 3
