"""Pytest fixtures for the e2e tests: a session-wide Phoenix server.

The fixture fails (never skips) when Phoenix is missing, so a CI run without the backend
cannot pass by silently running no e2e test.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from .phoenix import PhoenixServer, PhoenixUnavailableError, phoenix_server


@pytest.fixture(scope="session")
def phoenix() -> Iterator[PhoenixServer]:
    """A running Phoenix: ``$PHOENIX_URL`` if set, else a private one stopped at session end."""
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(phoenix_server())
        except PhoenixUnavailableError as exc:
            # "from None": the message says everything; the chained traceback is noise.
            raise pytest.fail.Exception(str(exc), pytrace=False) from None
        yield server
