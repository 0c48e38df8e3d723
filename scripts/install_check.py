"""Checks of the end-user install, run by ``scripts/install-check.sh`` inside the fresh venv.

    python install_check.py program README.rst   print the README's "A first session" program
    python install_check.py deps                 the runtime dependencies are the card's five,
                                                 each the newest release the index serves
    python install_check.py session OUTPUT       OUTPUT (what the program printed with
                                                 OTEL_TRACES_EXPORTER=console) holds the session

Standard library only: it runs on the fresh venv's interpreter, next to nothing but the package.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from importlib.metadata import requires, version
from pathlib import Path

PACKAGE = "opentelemetry-instrumentation-agentops"
# --pre: opentelemetry-instrumentation has only pre-releases (0.x b).
OUTDATED = ["pip", "list", "--outdated", "--pre", "--no-cache-dir", "--format=json"]
CARD = {
    "opentelemetry-api",
    "opentelemetry-sdk",
    "opentelemetry-exporter-otlp",
    "opentelemetry-instrumentation",
    "wrapt",
}


def program(readme: Path) -> str:
    """The first ``.. code:: python`` block under the README's "A first session" heading."""
    section = readme.read_text(encoding="utf-8").split("\nA first session\n", 1)[1]
    block = section.split(".. code:: python\n", 1)[1].splitlines()[1:]
    lines = []
    for line in block:
        if line and not line.startswith(" "):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines)).strip() + "\n"


def deps() -> str:
    runtime = [r for r in requires(PACKAGE) or [] if "extra ==" not in r]
    names = {re.match(r"[A-Za-z0-9._-]+", r).group().lower() for r in runtime}  # type: ignore[union-attr]
    if names != CARD:
        raise SystemExit(f"runtime dependencies {sorted(names)} are not the card's {sorted(CARD)}")
    listing = subprocess.run(
        [sys.executable, "-m", *OUTDATED],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    stale = [p for p in json.loads(listing) if p["name"].lower() in CARD]
    if stale:
        raise SystemExit(f"not the newest releases: {stale}")
    return ", ".join(f"{name} {version(name)}" for name in sorted(CARD))


def spans(output: str) -> list[dict]:
    """The JSON objects the console exporter printed, one per span."""
    decoder, found, index = json.JSONDecoder(), [], 0
    while (start := output.find("{", index)) != -1:
        try:
            item, index = decoder.raw_decode(output, start)
        except ValueError:
            index = start + 1
            continue
        if isinstance(item, dict) and "context" in item:
            found.append(item)
    return found


def session(output_file: Path) -> str:
    output = output_file.read_text(encoding="utf-8")
    roots = [s for s in spans(output) if s["name"].startswith("session") and not s.get("parent_id")]
    if len(roots) != 1:
        raise SystemExit(f"expected one session root span, found {len(roots)} in:\n{output}")
    attributes = roots[0].get("attributes", {})
    if not attributes.get("session.id") or attributes.get("agentops.session.llm_calls") != 1:
        raise SystemExit(f"the session span lacks its id or its LLM call: {attributes}")
    if "'LLM calls': 1, 'Tool calls': 1" not in output:
        raise SystemExit(f"the program's analytics line is missing:\n{output}")
    return f"session span {roots[0]['name']!r} with session.id {attributes['session.id']}"


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "program":
        sys.stdout.write(program(Path(rest[0])))
    else:
        print(deps() if command == "deps" else session(Path(rest[0])))
