"""The framework tier: real agent frameworks with their OpenTelemetry instrumentations.

Run it with ``bash scripts/frameworks.sh`` (it creates ``.venv-frameworks`` with the
pinned versions), or by hand with ``<venv>/bin/python -m pytest tests/frameworks``.
``pytest tests`` in the main environment leaves this folder out unless
``AGENTOPS_FRAMEWORKS=1``; naming it on the command line always collects it. Without
the frameworks installed the tests fail, never skip, so a run that tested nothing
cannot pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.tiers import outside_the_run

from examples.fake_openai import FakeOpenAIServer

HERE = Path(__file__).resolve().parent


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    return outside_the_run(collection_path, config, HERE, "AGENTOPS_FRAMEWORKS")


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake
