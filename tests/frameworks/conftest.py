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
from opentelemetry import trace
from support.tiers import outside_the_run

from examples.fake_openai import FakeOpenAIServer

HERE = Path(__file__).resolve().parent


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    return outside_the_run(collection_path, config, HERE, "AGENTOPS_FRAMEWORKS")


@pytest.fixture(autouse=True, scope="session")
def tracers_follow_each_test() -> Iterator[None]:
    """Frameworks keep their first tracer: it follows each test's provider (support/runtime.py)."""
    provider = trace.get_tracer_provider()
    provider.follow = True  # type: ignore[attr-defined]
    yield
    provider.follow = False  # type: ignore[attr-defined]


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake
