"""Sphinx configuration of the manual; ``scripts/test.sh`` builds it with warnings as errors:

.venv/bin/python -m sphinx -W -b html docs /tmp/agentops-docs
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from sphinx.util import logging

# The package from this checkout, also when the interpreter that builds has not installed it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

PACKAGE = "opentelemetry_instrumentation_agentops"

project = "opentelemetry-instrumentation-agentops"
author = "the opentelemetry-instrumentation-agentops authors"
copyright = "the opentelemetry-instrumentation-agentops authors; Apache-2.0"
extensions = ["sphinx.ext.autodoc"]
exclude_patterns = ["_build"]
html_theme = "alabaster"

# api.rst documents the package and the names of its __all__ only: every module under it is
# private and may move, so no page names one.
autodoc_default_options = {"member-order": "groupwise"}
autodoc_typehints = "signature"

logger = logging.getLogger(__name__)


def drop_package_docstring(
    app: Any, what: str, name: str, obj: Any, options: Any, lines: list
) -> None:
    # The package docstring is what help() shows, with section titles of its own that cannot
    # nest in a page; api.rst has its own introduction.
    if what == "module" and name == PACKAGE:
        lines.clear()


def check_public_names(app: Any, env: Any) -> None:
    """A warning (an error under -W) for each name of ``__all__`` the API page misses."""
    package = __import__(PACKAGE)
    documented = {name.removeprefix(PACKAGE + ".") for name in env.get_domain("py").objects}
    for name in sorted(set(package.__all__) - documented):
        logger.warning("%s.%s is public (in __all__) but not documented in api.rst", PACKAGE, name)


def setup(app: Any) -> None:
    app.connect("autodoc-process-docstring", drop_package_docstring)
    app.connect("env-check-consistency", check_public_names)
