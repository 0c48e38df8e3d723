"""Where AgentOps' own programs are read from, for the compat tests that run them.

They are test data from AgentOps' repository, at the tag each was written for, and are never
copied into this project:

- by default, from ``../shared/agentops-programs/<tag>/<path>`` beside the project root (the
  directory holding ``pyproject.toml``): the unmodified files, with AgentOps' license;
- with ``AGENTOPS_REPO`` set (and not empty), from that git directory instead (a clone's
  ``.git`` or a bare mirror of https://github.com/AgentOps-AI/agentops): ``git show tag:path``.

A program that cannot be read fails its test, naming the path expected and the override.
``python tests/compat/programs.py`` prints the source a run uses (``scripts/compat.sh`` does).
Only the standard library is imported here (pytest when a program is missing).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parents[2]  # the project root: pyproject.toml is there
PROGRAMS = ROOT / ".." / "shared" / "agentops-programs"
OVERRIDE = "AGENTOPS_REPO"


def repository() -> str | None:
    """The git directory ``AGENTOPS_REPO`` names; None when it is unset or empty."""
    return os.environ.get(OVERRIDE) or None


def source() -> str:
    """One line: where this run reads AgentOps' programs from."""
    repo = repository()
    if repo is not None:
        return f"AgentOps' programs: git directory {repo} ({OVERRIDE})"
    return f"AgentOps' programs: {PROGRAMS.resolve()} (the default; {OVERRIDE} overrides it)"


def read(tag: str, path: str) -> str:
    """The text of ``path`` as AgentOps' repository has it at ``tag``; fails the test if
    it cannot be read."""
    repo = repository()
    if repo is None:
        expected = PROGRAMS.resolve() / tag / path
        try:
            return expected.read_text(encoding="utf-8")
        except OSError as error:
            _fail(
                f"AgentOps' program {path} (tag {tag}) is missing: expected at {expected} "
                f"({error.strerror}). Put AgentOps' unmodified file there (see "
                f"{PROGRAMS.resolve() / 'README.md'}), or set {OVERRIDE} to a git directory "
                f"of https://github.com/AgentOps-AI/agentops that has tag {tag}."
            )
    try:
        return subprocess.run(
            ["git", "-C", repo, "show", f"{tag}:{path}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", None) or error
        _fail(
            f"AgentOps' program {path} (tag {tag}) could not be read from {OVERRIDE}={repo} "
            f"(git show {tag}:{path}: {str(detail).strip()}). Point {OVERRIDE} at a git "
            f"directory with tag {tag}, or unset it to read {PROGRAMS.resolve() / tag / path}."
        )


def agentops_program(tag: str, path: str) -> str:
    """The source of AgentOps' program ``path`` at ``tag``; of a notebook, its code cells
    (IPython's ``%`` lines left out)."""
    text = read(tag, path)
    if not path.endswith(".ipynb"):
        return text
    cells = json.loads(text)["cells"]
    code = ("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    lines = (line for cell in code for line in cell.splitlines() if not line.startswith("%"))
    return "\n".join(lines) + "\n"


def _fail(message: str) -> NoReturn:
    import pytest

    pytest.fail(message, pytrace=False)


if __name__ == "__main__":
    print(source())
