"""Compatibility tests: they need the real ``agentops`` installed beside the project.

Run them with ``bash scripts/compat.sh`` (one virtual environment per agentops
version: ``.venv-agentops-0.3`` and ``.venv-agentops-0.4``), or by hand with
``<venv>/bin/python -m pytest tests/compat``. ``pytest tests`` in the main
environment leaves them out unless ``AGENTOPS_COMPAT=1``; naming this directory
on the command line always collects them. Without agentops they fail, never skip,
so a run that silently tested nothing cannot pass. AgentOps' own programs are read as
``programs.py`` says (``../shared/agentops-programs`` by default); a missing one fails.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest
from support.tiers import outside_the_run

from examples.fake_openai import FakeOpenAIServer

from . import programs

HERE = Path(__file__).resolve().parent
_ran: list[pytest.Item] = []  # the tests of this run that read AgentOps' programs


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if outside_the_run(collection_path, config, HERE, "AGENTOPS_COMPAT"):
        return True
    # The 0.4 programs exist only where agentops 0.4 is installed: not collected, not skipped.
    if collection_path.name == "test_crewai.py" and not _installed("crewai"):
        return True  # the crewai environment of scripts/compat.sh runs it
    if collection_path.name.endswith("_04.py") and (agentops_version() or "").startswith("0.3"):
        return True
    return None


def pytest_report_header(config: pytest.Config) -> str:
    return programs.source()


def pytest_collection_modifyitems(session, config, items) -> None:
    _ran[:] = [item for item in items if item.path.name.startswith("test_agentops_repo")]


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    # Also under -q, which leaves the header out: the run says where the programs came from.
    if _ran:
        terminalreporter.write_line(programs.source())


def _installed(distribution: str) -> bool:
    try:
        metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


def agentops_version() -> str | None:
    try:
        return metadata.version("agentops")
    except metadata.PackageNotFoundError:
        return None


@pytest.fixture(scope="session")
def agentops_line() -> str:
    """ "0.3" or "0.4"; fails (never skips) when agentops is not installed."""
    version = agentops_version()
    if version is None:
        pytest.fail(
            "The compatibility tests need the real agentops package, which is not installed "
            "in this environment. Run `bash scripts/compat.sh` (it creates .venv-agentops-0.3 "
            "and .venv-agentops-0.4 with agentops 0.3.26 / 0.4.21), or install agentops into "
            "the environment running pytest.",
            pytrace=False,
        )
    return ".".join(version.split(".")[:2])


@pytest.fixture(autouse=True)
def _needs_agentops(agentops_line: str) -> None:
    """Every compat test fails clearly without agentops."""


@pytest.fixture
def fake_openai():
    """The fake OpenAI server of ``examples/`` on a free loopback port."""
    with FakeOpenAIServer() as server:
        yield server
