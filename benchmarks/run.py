"""The benchmark command: ratios against bare OpenTelemetry, peers, import time, memory, faults.

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
# import_rounds: pairs of fresh interpreters; scale_rounds: pairs of RSS processes (sessions,
# bare root spans of the same shape; live snapshots on, off), alternating. live_sessions: open
# sessions of the live pair; sequential_sessions: sessions one after another, snapshots on and
# off (RSS at 1k, 10k, 100k); offline_sessions: sessions run with the collector down (and with
# the null exporter), fault_rounds pairs of them; exit_rounds: pairs of exits (hung collector,
# null exporter) of each kind, each a few seconds (the flush bound).
FULL = {
    "n": 500,
    "rounds": 21,
    "sessions": 10_000,
    "events": 1_000_000,
    "every": 100_000,
    "import_rounds": 41,
    "scale_rounds": 5,
    "live_sessions": 1_000,
    "sequential_sessions": 100_000,
    "offline_sessions": 10_000,
    "fault_rounds": 3,
    "exit_rounds": 2,
}
QUICK = {
    "n": 40,
    "rounds": 3,
    "sessions": 200,
    "events": 2_000,
    "every": 500,
    "import_rounds": 3,
    "scale_rounds": 1,
    "live_sessions": 200,
    "sequential_sessions": 2_000,
    "offline_sessions": 400,
    "fault_rounds": 1,
    "exit_rounds": 1,
}


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
    say("ours: operations against bare OpenTelemetry")
    ours = peer_venvs.run_driver(
        sys.executable, HERE / "ours.py", settings["n"], settings["rounds"], timeout
    )
    if "error" in ours:
        crashed.append(f"ours: {ours['error']}")
        ours = {"results": [], "environment": {}}

    peer_results = [] if args.no_peers else run_peers(args, settings, timeout, crashed)
    imports = run_imports(settings, timeout, crashed)
    scale = run_scale(settings, timeout, crashed)
    faults = run_faults(settings, timeout, crashed)

    info = report.machine()
    info["load average (1, 5, 15 min) at the start"] = load
    command = "benchmarks/run.py" + (" --quick" if args.quick else "")
    markdown = report.results_markdown(
        info,
        command,
        settings,
        ours["results"],
        ours["environment"],
        peer_results,
        scale,
        imports,
        faults,
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


def run_imports(settings: dict[str, Any], timeout: float, crashed: list[str]) -> dict[str, Any]:
    rounds = settings["import_rounds"]
    say(f"import time: {rounds} pairs of fresh interpreters")
    done = _subprocess([str(HERE / "imports.py"), "--rounds", str(rounds)], timeout)
    if "error" in done:
        crashed.append(f"imports.py: {done['error']}")
    return done


def run_scale(settings: dict[str, Any], timeout: float, crashed: list[str]) -> dict[str, Any]:
    count, rounds = str(settings["sessions"]), settings["scale_rounds"]
    # Open sessions against open same-shape bare root spans; live snapshots on against off.
    scale = run_pairs("scale.py", ("sessions", "bare-same"), ["--count", count], rounds, timeout)
    nested = run_pairs(
        "scale.py", ("sessions-nested", "bare-linked"), ["--count", count], rounds, timeout
    )
    nested["nested_ratio"] = nested.pop("ratio", None)
    scale.update(nested)
    live = ["--count", str(settings["live_sessions"])]
    live_pairs = run_pairs("scale.py", ("live", "live-off"), live, rounds, timeout)
    live_pairs["live_ratio"] = live_pairs.pop("ratio", None)
    scale.update(live_pairs)
    sequential = ["--count", str(settings["sequential_sessions"])]
    modes = ("live-sequential", "live-sequential-off")
    sequential_pairs = run_pairs("scale.py", modes, sequential, rounds, timeout)
    sequential_pairs["sequential_ratio"] = sequential_pairs.pop("ratio", None)
    scale.update(sequential_pairs)
    jobs = {
        "bare": ["bare", "--count", count],
        "events": ["events", "--count", str(settings["events"]), "--every", str(settings["every"])],
    }
    for name, job in jobs.items():
        say(f"scale: {' '.join(job)}")
        scale[name] = _subprocess([str(HERE / "scale.py"), *job], timeout)
    _crashes(scale, crashed)
    return scale


def run_faults(settings: dict[str, Any], timeout: float, crashed: list[str]) -> dict[str, Any]:
    """Issue #19: the collector down (against the null exporter), exits with a hung one."""
    offline = ["--count", str(settings["offline_sessions"])]
    rounds = settings["fault_rounds"]
    # The ratio of their slowest end_session(); their RSS growth is reported beside.
    faults = run_pairs("faults.py", ("offline", "offline-null"), offline, rounds, timeout)
    rounds = str(settings["exit_rounds"])
    say(f"faults: exits, {rounds} pairs of each kind (a few seconds each)")
    faults["exits"] = _subprocess([str(HERE / "faults.py"), "exits", "--rounds", rounds], timeout)
    _crashes(faults, crashed)
    return faults


def run_pairs(
    script: str, modes: tuple[str, str], args: list[str], rounds: int, timeout: float
) -> dict[str, Any]:
    """``rounds`` pairs of fresh processes, ``script MODE *args`` for each of the two modes,
    alternating which runs first; the ratio of their ``delta`` is taken per pair (as every
    other figure is), and the pair of the median ratio is kept under the modes' names.

    Also ``<mode>_rounds``: every run; ``ratio``: median, min and max of the ratios. A crash
    is kept under its mode's name, with no ratio.
    """
    done: dict[str, Any] = {f"{mode.replace('-', '_')}_rounds": [] for mode in modes}
    for index in range(rounds):
        for mode in modes if index % 2 == 0 else modes[::-1]:
            say(f"{Path(script).stem}: {mode} {' '.join(args)} (pair {index + 1})")
            result = _subprocess([str(HERE / script), mode, *args], timeout)
            if "error" in result:
                return {mode: result}
            done[f"{mode.replace('-', '_')}_rounds"].append(result)
    first, second = (done[f"{mode.replace('-', '_')}_rounds"] for mode in modes)
    pairs = list(zip(first, second, strict=True))
    ratios = [a["delta"] / b["delta"] for a, b in pairs]
    middle = sorted(range(len(pairs)), key=lambda i: ratios[i])[len(pairs) // 2]
    done[modes[0]], done[modes[1]] = pairs[middle]  # the pair of the median ratio
    done["ratio"] = {"ratio": ratios[middle], "min": min(ratios), "max": max(ratios)}
    return done


def _crashes(results: dict[str, Any], crashed: list[str]) -> None:
    crashed.extend(
        item["error"] for item in results.values() if isinstance(item, dict) and "error" in item
    )


def _subprocess(argv: list[str], timeout: float) -> dict[str, Any]:
    """Run a benchmark script with this interpreter; its last line of stdout is JSON."""
    name = Path(argv[0]).name
    try:
        done = subprocess.run(
            [sys.executable, *argv], cwd=HERE, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"error": f"{name} {' '.join(argv[1:2])} timed out after {timeout:.0f} s"}
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        return {"error": f"{name} {' '.join(argv[1:2])} exited {done.returncode}:\n{tail}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


_started = time.monotonic()


def say(message: str) -> None:
    print(f"[bench {time.monotonic() - _started:5.0f} s] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
