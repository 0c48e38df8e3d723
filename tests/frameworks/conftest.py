"""The framework tier: real agent frameworks with their OpenTelemetry instrumentations.

Run it with ``bash scripts/frameworks.sh`` (it creates ``.venv-frameworks`` with the
pinned versions), or by hand with ``<venv>/bin/python -m pytest tests/frameworks``.
``pytest tests`` in the main environment leaves this folder out unless
``AGENTOPS_FRAMEWORKS=1``; naming it on the command line always collects it. Without
the frameworks installed the tests fail, never skip, so a run that tested nothing
cannot pass.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.fake_openai import FakeOpenAIServer

HERE = Path(__file__).resolve().parent


def _asked_for(config: pytest.Config) -> bool:
    if os.environ.get("AGENTOPS_FRAMEWORKS", "").strip().lower() in ("1", "true", "yes"):
        return True
    for arg in config.args:
        path = Path(str(arg).split("::", 1)[0]).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if HERE in (collection_path, *collection_path.parents) and not _asked_for(config):
        return True
    return None


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake
