"""Peers, each measured in its own virtual environment by a small driver script.

A driver imports ``harness.py`` (standard library + OpenTelemetry SDK only) and measures the
peer exactly as ``ours.py`` measures us: same pipeline, same baselines, same block sizes, same
round order. It prints one JSON document on stdout. Venvs live in ``benchmarks/.venv-peer-*``
(gitignored) and are created only when asked (``run.py --peers``), since installs take time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Peer:
    key: str
    title: str  # name and version, as the table shows it
    requirements: tuple[str, ...]  # pip specs, pinned as in shared/reference/peer-bench.md
    driver: str  # script in benchmarks/drivers/

    @property
    def venv(self) -> Path:
        return HERE / f".venv-peer-{self.key}"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def installed(self) -> bool:
        return self.python.exists() and (self.venv / ".installed").exists()


PEERS = (
    Peer("agentops", "AgentOps 0.4.21", ("agentops==0.4.21",), "peer_agentops.py"),
    Peer(
        "openinference",
        "OpenInference 0.1.72",
        ("openinference-instrumentation==0.1.72", "openinference-semantic-conventions"),
        "peer_openinference.py",
    ),
    # traceloop-sdk imports httpx without declaring it (peer-bench.md, note 1), and its unpinned
    # instrumentation packages send pip's resolver into a conflict unless OTel is pinned too
    # (to the versions peer-bench.md's resolver chose).
    Peer(
        "openllmetry",
        "OpenLLMetry 0.62.4",
        (
            "traceloop-sdk==0.62.4",
            "httpx",
            "opentelemetry-api==1.45.1",
            "opentelemetry-sdk==1.45.1",
            "opentelemetry-instrumentation==0.66b1",
        ),
        "peer_openllmetry.py",
    ),
)


def install(peer: Peer, log=print) -> None:
    """Create the peer's venv and install its pinned packages (a no-op when done before)."""
    if peer.installed():
        return
    log(f"installing {peer.title} into {peer.venv.relative_to(HERE.parent)} ...")
    if not peer.python.exists():
        # The base interpreter, not this venv's: a peer must not see our packages.
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(peer.venv)], check=True)
    pip = [str(peer.python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, *peer.requirements], check=True)
    (peer.venv / ".installed").write_text("\n".join(peer.requirements) + "\n")


def run_driver(python: Path | str, script: Path, n: int, rounds: int, timeout: float) -> dict:
    """Run one driver script; returns its JSON, or ``{"error": ...}`` when it failed."""
    driver = script.name
    env = dict(os.environ, PYTHONPATH=str(HERE), PYTHONDONTWRITEBYTECODE="1")
    # Peers write log files into the working directory (agentops.log): keep them out of ours.
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as cwd:
        try:
            done = subprocess.run(
                [str(python), str(script), "--n", str(n), "--rounds", str(rounds)],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return {"error": f"{driver} timed out after {timeout:.0f} s"}
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        return {"error": f"{driver} exited {done.returncode}:\n{tail}"}
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": f"{driver} printed no JSON:\n{done.stdout[-2000:]}"}
