"""Checks of the end-user install, run by ``scripts/install-check.sh`` inside the fresh venvs.

    python install_check.py program README.rst   print the README's "A first session" program
    python install_check.py names                the runtime dependencies, one word each, in
                                                 the package's order; they must be the card's
                                                 five
    python install_check.py versions             the opentelemetry-* and wrapt distributions of
                                                 this interpreter, as JSON (not the package)
    python install_check.py deps ALONE_PYTHON    the package's venv holds the same
                                                 opentelemetry-* and wrapt distributions, at the
                                                 same versions, as ALONE_PYTHON's venv, where
                                                 only the five dependencies were installed
    python install_check.py session OUTPUT       OUTPUT (what the program printed with
                                                 OTEL_TRACES_EXPORTER=console) holds the session

``deps`` holds the package to what pip resolves for its dependencies without it, whatever the
index serves and in whatever order upstream publishes: a difference means the package's own
bounds hold the resolution back (or push it elsewhere), so a user gets other versions than the
same dependencies would give them on their own.

Standard library only: it runs on the fresh venvs' interpreters, next to nothing but the package.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from importlib.metadata import distributions, requires
from pathlib import Path

PACKAGE = "opentelemetry-instrumentation-agentops"
CARD = {
    "opentelemetry-api",
    "opentelemetry-sdk",
    "opentelemetry-exporter-otlp",
    "opentelemetry-instrumentation",
    "wrapt",
}
HEADING = "A first session"
# A section title's underline (or overline): one punctuation character, repeated.
ADORNMENT = re.compile(r"([!-/:-@\[-`{-~])\1+\s*")
CODE = re.compile(r"(?P<indent> *)\.\. +(?:code|code-block|sourcecode):: *python3? *")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _is_title(lines: list[str], index: int) -> bool:
    """Whether ``lines[index]`` is a section title: unindented text over its adornment."""
    text = lines[index].rstrip()
    if not text or text[0].isspace() or ADORNMENT.fullmatch(text) or index + 1 >= len(lines):
        return False
    under = lines[index + 1].rstrip()
    return bool(ADORNMENT.fullmatch(under)) and len(under) >= len(text)


def program(readme: Path) -> str:
    """The first ``.. code:: python`` block of the README's "A first session" section.

    Whatever else the section holds before it (prose, other blocks, directive options), and
    however the title is adorned or the block indented; never a block of a later section.
    """
    lines = readme.read_text(encoding="utf-8").splitlines()
    titles = [i for i in range(len(lines)) if _is_title(lines, i)]
    start = next((i for i in titles if lines[i].strip().lower() == HEADING.lower()), None)
    if start is None:
        raise SystemExit(f'{readme}: no section titled "{HEADING}"')
    end = next((i for i in titles if i > start), len(lines))
    for index in range(start + 2, end):
        directive = CODE.fullmatch(lines[index].rstrip())
        if directive:
            return _block(lines[index + 1 : end], len(directive["indent"]), readme)
    raise SystemExit(f'{readme}: no ".. code:: python" block in the "{HEADING}" section')


def _block(lines: list[str], indent: int, readme: Path) -> str:
    """The body of a directive indented ``indent``: its options skipped, then dedented."""
    body: list[str] = []
    options = True
    for line in lines:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break  # the first line back at the directive's indentation ends it
        if options and line.strip().startswith(":"):
            continue  # a directive option (:number-lines:, :name: ...)
        options = options and not line.strip()
        body.append(line)
    code = textwrap.dedent("\n".join(body)).strip()
    if not code:
        raise SystemExit(f'{readme}: the "{HEADING}" python block is empty')
    return code + "\n"


def names() -> list[str]:
    """The package's runtime dependencies, in its order; they must be the card's five."""
    runtime = [r for r in requires(PACKAGE) or [] if "extra ==" not in r]
    found = [canonical(re.match(r"[A-Za-z0-9._-]+", r).group()) for r in runtime]  # type: ignore[union-attr]
    if sorted(found) != sorted(CARD):
        raise SystemExit(f"runtime dependencies {sorted(found)} are not the card's {sorted(CARD)}")
    return found


def versions() -> dict[str, str]:
    """The opentelemetry-* and wrapt distributions installed here, but the package."""
    found = {}
    for dist in distributions():
        name = canonical(dist.metadata["Name"] or "")
        if (name.startswith("opentelemetry-") or name == "wrapt") and name != PACKAGE:
            found[name] = dist.version
    return dict(sorted(found.items()))


def deps(alone_python: str) -> str:
    """This venv (the package installed) resolved what the five alone resolve in the other."""
    names()
    ours = versions()
    listing = subprocess.run(
        [alone_python, str(Path(__file__).resolve()), "versions"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return compare(ours, json.loads(listing))


def compare(ours: dict[str, str], alone: dict[str, str]) -> str:
    """The distributions with the package (``ours``) are those of the five alone, or exit."""
    if not set(CARD) <= set(alone):
        raise SystemExit(f"the five dependencies alone did not install: {alone}")
    if ours != alone:
        rows = [
            f"      {name}: {ours.get(name, 'absent')} with the package, "
            f"{alone.get(name, 'absent')} alone"
            for name in sorted(set(ours) | set(alone))
            if ours.get(name) != alone.get(name)
        ]
        raise SystemExit(
            "    pip install . resolves other versions than the five dependencies alone:"
            " the package's own bounds change what pip resolves\n" + "\n".join(rows)
        )
    listed = ", ".join(f"{n} {v}" for n, v in ours.items())
    return f"the same {len(ours)} distributions as the five alone: {listed}"


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


def main(argv: list[str]) -> None:
    command, *rest = argv
    if command == "program":
        sys.stdout.write(program(Path(rest[0])))
    elif command == "names":
        print(" ".join(names()))
    elif command == "versions":
        print(json.dumps(versions()))
    elif command == "deps":
        print(deps(rest[0]))
    elif command == "session":
        print(session(Path(rest[0])))
    else:
        raise SystemExit(f"unknown command {command!r}: program, names, versions, deps, session")


if __name__ == "__main__":
    main(sys.argv[1:])
