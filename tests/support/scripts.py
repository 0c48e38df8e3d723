"""The repository's Python scripts (``scripts/*.py``), loaded as modules for the tests that use
their helpers: one copy of each helper, in the script that needs it without the tests."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from types import ModuleType

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


@functools.cache
def load(name: str) -> ModuleType:
    """``scripts/<name>.py`` as a module (loaded once)."""
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None, f"no scripts/{name}.py"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
