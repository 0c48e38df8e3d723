"""Test tiers that run only in their own virtual environments (compat, frameworks).

``pytest tests`` in the main environment leaves such a folder out, unless its environment
variable is set or the folder (or a file in it) is named on the command line.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def asked_for(config: pytest.Config, folder: Path, variable: str) -> bool:
    """Whether this run asks for the tier in ``folder``."""
    if os.environ.get(variable, "").strip().lower() in ("1", "true", "yes"):
        return True
    for arg in config.args:
        path = Path(str(arg).split("::", 1)[0]).resolve()
        if path == folder or folder in path.parents:
            return True
    return False


def outside_the_run(collection_path: Path, config: pytest.Config, folder: Path, variable: str):
    """``pytest_ignore_collect``'s answer for a path of the tier in ``folder``."""
    if folder in (collection_path, *collection_path.parents) and not asked_for(
        config, folder, variable
    ):
        return True
    return None
