"""The benchmark command: ratios against bare OpenTelemetry, peers, and memory at scale.

    .venv/bin/python benchmarks/run.py              full run (a minute or two), writes RESULTS.md
    .venv/bin/python benchmarks/run.py --peers      first create the peers' venvs if missing
    .venv/bin/python benchmarks/run.py --quick      tiny counts: checks every benchmark still runs

Every measurement runs in its own subprocess (ours in this interpreter, each peer in its own
venv, ``benchmarks/.venv-peer-*``), prints JSON, and this script tabulates. It exits non-zero
only when a benchmark crashed, never because of a timing or a missed goal.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import peers as peer_venvs
import report

HERE = Path(__file__).resolve().parent
# Many short rounds rather than a few long ones: a burst of another process spoils one round's
# ratio, and the median of many rounds shrugs it off.
FULL = {"n": 500, "rounds": 21, "sessions": 10_000, "events": 1_000_000, "every": 100_000}
QUICK = {"n": 40, "rounds": 3, "sessions": 200, "events": 2_000, "every": 500}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny counts, for CI: timings mean nothing"
    )
    parser.add_argument(
        "--peers", action="store_true", help="create missing peer venvs first (pip)"
    )
    parser.add_argument("--no-peers", action="store_true", help="skip the peers")
    parser.add_argument(
        "--output",
        type=Path,
        help="where to write the results (default: "
        "benchmarks/RESULTS.md; with --quick, nothing unless given)",
    )
    parser.add_argument("--n", type=int, help="calls per timed block")
    parser.add_argument("--rounds", type=int, help="measured rounds")
    parser.add_argument("--events", type=int, help="events recorded into one session")
    args = parser.parse_args(argv)
    settings = dict(QUICK if args.quick else FULL)
    for name in ("n", "rounds", "events"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    settings["every"] = min(settings["every"], settings["events"])
    timeout = 300 if args.quick else 900

    crashed: list[str] = []
    load = report._load()
    say(
        f"load average before: {load}"
        + ("" if args.quick else "  (timings are noisier on a busy machine)")
    )
    say("ours: items 1-4")
    ours = peer_venvs.run_driver(
        sys.executable, HERE / "ours.py", settings["n"], settings["rounds"], timeout
    )
    if "error" in ours:
        crashed.append(f"ours: {ours['error']}")
        ours = {"results": [], "environment": {}}

    peer_results = [] if args.no_peers else run_peers(args, settings, timeout, crashed)
    scale = run_scale(settings, timeout, crashed)

    info = report.machine()
    info["load average (1, 5, 15 min) at the start"] = load
    command = "benchmarks/run.py" + (" --quick" if args.quick else "")
    markdown = report.results_markdown(
        info, command, settings, ours["results"], ours["environment"], peer_results, scale
    )
    print()
    print(markdown)
    output = args.output or (None if args.quick else HERE / "RESULTS.md")
    if output is not None:
        output.write_text(markdown)
        say(f"wrote {output}")
    else:
        say("quick run: results not written (give --output PATH to keep them)")
    for failure in crashed:
        print(f"CRASHED: {failure}", file=sys.stderr)
    return 1 if crashed else 0


def run_peers(args: Any, settings: dict[str, Any], timeout: float, crashed: list[str]) -> list:
    results = []
    for peer in peer_venvs.PEERS:
        if args.peers:
            try:
                peer_venvs.install(peer, log=say)
            except (OSError, subprocess.CalledProcessError) as error:
                crashed.append(f"installing {peer.title}: {error}")
                results.append({"title": peer.title, "error": f"install failed: {error}"})
                continue
        if not peer.installed():
            results.append({"title": peer.title, "missing": "not installed: run with --peers"})
            continue
        if args.quick and any("results" in r for r in results):
            # One peer venv is enough to know the drivers still work.
            results.append({"title": peer.title, "missing": "skipped by --quick"})
            continue
        say(f"peer: {peer.title}")
        result = peer_venvs.run_driver(
            peer.python, HERE / "drivers" / peer.driver, settings["n"], settings["rounds"], timeout
        )
        result["title"] = peer.title
        if "error" in result:
            crashed.append(f"{peer.title}: {result['error']}")
        results.append(result)
    return results


def run_scale(settings: dict[str, Any], timeout: float, crashed: list[str]) -> dict[str, Any]:
    jobs = {
        "sessions": ["sessions", "--count", str(settings["sessions"])],
        "bare": ["bare", "--count", str(settings["sessions"])],
        "events": ["events", "--count", str(settings["events"]), "--every", str(settings["every"])],
    }
    scale: dict[str, Any] = {}
    for name, job in jobs.items():
        say(f"scale: {' '.join(job)}")
        try:
            done = subprocess.run(
                [sys.executable, str(HERE / "scale.py"), *job],
                cwd=HERE,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            scale[name] = {"error": f"scale.py {name} timed out after {timeout:.0f} s"}
            crashed.append(scale[name]["error"])
            continue
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-15:])
            scale[name] = {"error": f"scale.py {name} exited {done.returncode}:\n{tail}"}
            crashed.append(scale[name]["error"])
            continue
        scale[name] = json.loads(done.stdout.strip().splitlines()[-1])
    return scale


_started = time.monotonic()


def say(message: str) -> None:
    print(f"[bench {time.monotonic() - _started:5.0f} s] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
