"""A Phoenix server on ports chosen by the test, so it can be started late and restarted.

``tests/e2e/phoenix.py`` picks fresh ports for every server; an outage test needs the same
endpoint before, between and after the server's lives. Its pieces (environment, health
check, stop) are reused here.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from e2e.phoenix import (
    INSTALL_COMMAND,
    STARTUP_TIMEOUT,
    PhoenixUnavailableError,
    _healthy,
    _log_tail,
    _server_env,
    _stop,
    default_phoenix_bin,
)


@contextlib.contextmanager
def phoenix_on(http_port: int, grpc_port: int, work_dir: Path) -> Iterator[str]:
    """Run Phoenix on the given loopback ports until the block ends; yields its URL."""
    binary = default_phoenix_bin()
    if not os.access(binary, os.X_OK):
        raise PhoenixUnavailableError(f"Phoenix not found at {binary}; run: {INSTALL_COMMAND}")
    work_dir.mkdir(parents=True, exist_ok=True)
    log_path = work_dir / "phoenix.log"
    url = f"http://127.0.0.1:{http_port}"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(binary), "serve"],
            env=_server_env(str(work_dir), http_port, grpc_port),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=work_dir,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise PhoenixUnavailableError(f"Phoenix did not start:\n{_log_tail(log_path)}")
            time.sleep(0.25)
        yield url
    finally:
        _stop(process)
