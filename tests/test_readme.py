"""Every command of README.rst works as pasted: each code block is run here, or says why not.

The README's ``bash``, ``console``, ``shell`` and ``python`` code blocks are read from the file.
The reStructuredText comment right before a block says what to do with it:

    .. run-by-tests: NAME       RECIPES[NAME] runs it and checks its exit status and output
    .. not-run-by-tests: WHY    not run; WHY says what covers it instead

A block with neither, an unknown or unused recipe, or a reason left empty fails. Shell blocks
run with bash, one command at a time, with this interpreter's bin directory first on PATH (so
``python`` and ``opentelemetry-instrument`` are the project venv's, as after ``activate``) and
no ``OTEL_*`` variable but theirs. ``localhost:4318`` in a command is replaced by a collector
the test starts (``support.network.otlp_collector``), so the OTLP recipes are checked to arrive,
in the protocol they name.
"""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docutils.core as docutils_core  # the `test` extra (scripts/lowest.sh leaves this file out)
import pytest
from support.network import free_port, otlp_collector, otlp_spans
from support.scripts import load

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.rst"
SHELL = {"bash", "console", "shell", "sh"}
LANGUAGES = SHELL | {"python"}
CODE = re.compile(r"^\.\. (?:code|code-block|sourcecode)::\s*(\S*)\s*$")
MARKER = re.compile(r"^\.\. (run-by-tests|not-run-by-tests):(.*)$")
SUMMARY = re.compile(
    r"Session \S+ ended Success \| Duration: [\d.]+s \| LLM calls: 1 \| Tool calls: 1"
)
ANALYTICS = "'LLM calls': 1, 'Tool calls': 1"


@dataclass
class Block:
    line: int  # of the ``.. code::`` directive, 1-based
    language: str
    text: str
    marker: str | None = None  # "run-by-tests" or "not-run-by-tests"
    value: str = ""  # the recipe's name, or the reason

    @property
    def commands(self) -> list[str]:
        """The block's shell commands, a backslash continuation joined, comments dropped."""
        joined = re.sub(r"\\\n\s*", " ", self.text)
        lines = (re.sub(r"\s+#.*$", "", line).strip() for line in joined.splitlines())
        return [line for line in lines if line and not line.startswith("#")]


def read_blocks(text: str) -> list[Block]:
    """Every ``.. code::`` block of the README, with the marker comment right before it."""
    lines = text.splitlines()
    blocks: list[Block] = []
    pending: tuple[str, str, int] | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if found := MARKER.match(line):
            value = [found.group(2).strip()]
            i += 1
            while i < len(lines) and lines[i].startswith((" ", "\t")) and lines[i].strip():
                value.append(lines[i].strip())
                i += 1
            pending = (found.group(1), " ".join(v for v in value if v), i)
            if i >= len(lines) or not CODE.match(lines[i]):
                raise AssertionError(f"README.rst:{i}: {found.group(1)} is not before a block")
            continue
        if found := CODE.match(line):
            body, j = [], i + 1
            while j < len(lines) and (not lines[j].strip() or lines[j].startswith((" ", "\t"))):
                body.append(lines[j])
                j += 1
            block = Block(i + 1, found.group(1).lower(), textwrap.dedent("\n".join(body)).strip())
            if pending is not None:
                block.marker, block.value = pending[0], pending[1]
            blocks.append(block)
            pending = None
            i = j
            continue
        i += 1
    return blocks


# -- running a block ---------------------------------------------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a fresh shell in the activated venv: no OTEL_* of ours leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)
    env.update(extra)
    return env


def sh(command: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=clean_env(**extra),
        capture_output=True,
        text=True,
        timeout=120,  # a hang guard, not a measurement
    )


def succeeded(done: subprocess.CompletedProcess[str]) -> str:
    """stdout and stderr, after checking the exit status."""
    output = f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    assert done.returncode == 0, f"exit status {done.returncode}\n{output}"
    return output


# The spans that the console exporter printed, one JSON object each.
console_spans = load("install_check").spans


def session_root(stdout: str, name: str) -> dict:
    roots = [s for s in console_spans(stdout) if s["name"] == name and not s.get("parent_id")]
    assert len(roots) == 1, f"expected one root span {name!r}:\n{stdout}"
    return roots[0]["attributes"]


def listening(port: int) -> bool:
    for host in ("127.0.0.1", "::1"):
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            pass
    return False


def first_session(blocks: list[Block], where: Path) -> Path:
    """The "A first session" program, saved as the README says: ``first_session.py``."""
    (program,) = [b for b in blocks if b.value == "first-session"]
    path = where / "first_session.py"
    path.write_text(program.text + "\n", encoding="utf-8")
    return where


# -- the recipes, one per run block ------------------------------------------------------------


def run_first_session(block: Block, blocks: list[Block], tmp: Path) -> None:
    assert block.language == "python"
    cwd = first_session(blocks, tmp)
    done = sh(
        f"{sys.executable} first_session.py",
        cwd,
        OTEL_TRACES_EXPORTER="console",
        OTEL_METRICS_EXPORTER="none",
    )
    output = succeeded(done)
    attributes = session_root(done.stdout, "session")
    assert attributes["session.id"] and attributes["agentops.session.llm_calls"] == 1, attributes
    assert attributes["gen_ai.usage.input_tokens"] == 12, attributes
    names = {s["name"] for s in console_spans(done.stdout)}
    assert {"chat gpt-4o", "execute_tool lookup_order"} <= names, names
    assert ANALYTICS in done.stdout, output
    assert SUMMARY.search(done.stderr), output


def run_first_session_local(block: Block, blocks: list[Block], tmp: Path) -> None:
    console, nothing = block.commands
    cwd = first_session(blocks, tmp)
    done = sh(console, cwd)
    output = succeeded(done)
    assert session_root(done.stdout, "session")["agentops.session.llm_calls"] == 1, output
    done = sh(nothing, cwd)
    output = succeeded(done)
    assert not console_spans(done.stdout), output
    assert ANALYTICS in done.stdout and SUMMARY.search(done.stderr), output
    assert "Failed to export" not in done.stderr, output


def run_otlp(command: str, cwd: Path, root: str) -> None:
    """``command`` with its localhost:4318 endpoint pointed at a collector: the spans arrive."""
    assert "http://localhost:4318" in command, command
    with otlp_collector() as (endpoint, received):
        done = sh(command.replace("http://localhost:4318", endpoint), cwd)
        output = succeeded(done)
    assert "Failed to export" not in done.stderr, output
    names = [name for name, _ in otlp_spans(received)]  # decoded as OTLP/HTTP protobuf
    assert root in names, f"{names}\n{output}"


def run_first_session_otlp(block: Block, blocks: list[Block], tmp: Path) -> None:
    (command,) = block.commands
    run_otlp(command, first_session(blocks, tmp), "session")


def run_no_collector(block: Block, blocks: list[Block], tmp: Path) -> None:
    (command,) = block.commands
    extra = {}
    if listening(4318):  # not nothing: point the default endpoint at a port nobody holds
        extra["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{free_port()}"
    done = sh(command, first_session(blocks, tmp), **extra)
    output = succeeded(done)
    assert ANALYTICS in done.stdout, output
    assert "Failed to export spans batch" in done.stderr, output
    assert "/v1/metrics" not in done.stderr and "metrics batch" not in done.stderr, output
    # The exit time it buys is a figure of docs/operations.rst, not a threshold of a test.
    assert "OTEL_EXPORTER_OTLP_TIMEOUT=" in command, command


def run_zero_code_console(block: Block, blocks: list[Block], tmp: Path) -> None:
    (command,) = block.commands
    done = sh(command, ROOT)
    output = succeeded(done)
    attributes = session_root(done.stdout, "session zero_code_agent.py")
    assert attributes["agentops.session.end_state"] == "Success", output
    assert attributes["agentops.session.tool_calls"] == 2, output


def run_zero_code_otlp(block: Block, blocks: list[Block], tmp: Path) -> None:
    (command,) = block.commands
    run_otlp(command, ROOT, "session zero_code_agent.py")


RECIPES: dict[str, Callable[[Block, list[Block], Path], None]] = {
    "first-session": run_first_session,
    "first-session-local": run_first_session_local,
    "first-session-otlp": run_first_session_otlp,
    "no-collector": run_no_collector,
    "zero-code-console": run_zero_code_console,
    "zero-code-otlp": run_zero_code_otlp,
}

BLOCKS = read_blocks(README.read_text(encoding="utf-8"))
RUN = [b for b in BLOCKS if b.language in LANGUAGES and b.marker == "run-by-tests"]


# -- the tests ---------------------------------------------------------------------------------


def test_every_block_is_run_or_says_why_not() -> None:
    unmarked = [b.line for b in BLOCKS if b.language in LANGUAGES and b.marker is None]
    assert not unmarked, f"README.rst: code blocks at lines {unmarked} are neither run nor marked"
    for block in BLOCKS:
        if block.marker == "not-run-by-tests":
            assert len(block.value) > 10, f"README.rst:{block.line}: say why it is not run"
        if block.marker == "run-by-tests":
            assert block.value in RECIPES, f"README.rst:{block.line}: no recipe {block.value!r}"
    unused = set(RECIPES) - {b.value for b in RUN}
    assert not unused, f"recipes no README block uses: {sorted(unused)}"


def test_the_quick_start_commands_are_there() -> None:
    # CI runs scripts/test.sh (.ci/run); the demo's agent runs in tests/e2e.
    (quick,) = [b for b in BLOCKS if "bash scripts/demo.sh" in b.text]
    assert quick.commands == ["bash scripts/demo.sh", "bash scripts/test.sh"]
    assert quick.marker == "not-run-by-tests"


def test_the_first_session_is_the_program_install_check_runs() -> None:
    # scripts/install-check.sh takes the first python block under the "A first session" title.
    lines = README.read_text(encoding="utf-8").splitlines()
    title = lines.index("A first session") + 1
    first = next(b for b in BLOCKS if b.language == "python" and b.line > title)
    assert first.value == "first-session"


@pytest.mark.parametrize("block", RUN, ids=lambda b: f"{b.value}-line{b.line}")
def test_block_runs(block: Block, tmp_path: Path) -> None:
    RECIPES[block.value](block, BLOCKS, tmp_path)


def test_readme_is_valid_restructuredtext_with_no_warning() -> None:
    # PyPI renders README.rst (the package's long description) and rejects invalid markup.
    messages = io.StringIO()
    docutils_core.publish_doctree(
        README.read_text(encoding="utf-8"),
        settings_overrides={"report_level": 2, "halt_level": 5, "warning_stream": messages},
    )
    assert not messages.getvalue(), messages.getvalue()


def test_links_into_the_checkout_point_at_files() -> None:
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"<([A-Za-z0-9_./-]+?)(?:#[a-z0-9-]+)?>`__?", text)
    local = [t for t in targets if not t.startswith(("http:", "https:"))]
    assert local, "no link into docs/"
    missing = [t for t in local if not (ROOT / t).is_file()]
    assert not missing, f"README.rst links to missing files: {missing}"
    for page in sorted({t for t in local if t.startswith("docs/") and t.endswith(".rst")}):
        assert (
            page.removeprefix("docs/").removesuffix(".rst")
            in (ROOT / "docs" / "index.rst").read_text()
        )


def test_readme_stays_a_newcomer_page() -> None:
    # The design's budget: what it is, install, a first session, zero code, migrating, links.
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= 300, f"README.rst has {lines} lines: move the detail into docs/"
