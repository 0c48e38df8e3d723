"""The helpers of the install check (``scripts/install_check.py``): the README's first program
is found however its section is written, and the package's install is held to what its five
dependencies resolve alone. The installs themselves run in ``scripts/install-check.sh``."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import requires
from pathlib import Path

import pytest
from support.scripts import load

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "install_check.py"


@pytest.fixture(scope="module")
def check():
    return load("install_check")


def readme(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "README.rst"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_readme_first_program_is_found_and_compiles(check):
    code = check.program(ROOT / "README.rst")
    assert "opentelemetry_instrumentation_agentops" in code
    compile(code, "README.rst", "exec")


def test_the_first_program_is_the_first_python_block_of_its_section_only(check, tmp_path):
    text = """\
Title
=====

Intro, with a block that is not the one:

.. code:: python

    print("intro")

A first session
~~~~~~~~~~~~~~~

First install it:

.. code:: bash

    pip install the-package

Then:

.. code-block:: python
   :number-lines:

   import os

   if os.sep:
       print("first")  # ----
   # the last line

Prose after the block.

Next
~~~~

.. code:: python

    print("next")
"""
    code = check.program(readme(tmp_path, text))
    assert code == 'import os\n\nif os.sep:\n    print("first")  # ----\n# the last line\n'


def test_a_section_without_a_python_block_is_an_error_not_a_later_block(check, tmp_path):
    text = "A first session\n---------------\n\nSoon.\n\nNext\n----\n\n.. code:: python\n\n    1\n"
    with pytest.raises(SystemExit, match=r'no .* block in the "A first session" section'):
        check.program(readme(tmp_path, text))
    with pytest.raises(SystemExit, match="no section"):
        check.program(readme(tmp_path, "A first session, in prose only.\n"))


def test_the_runtime_dependencies_are_the_card_five_in_the_metadata_order(check):
    # The order pip install . meets them in, so the install of the five alone meets them alike.
    runtime = [r for r in requires(check.PACKAGE) if "extra ==" not in r]
    names = check.names()
    assert sorted(names) == sorted(check.CARD)
    assert [r.startswith(n) for r, n in zip(runtime, names, strict=True)] == [True] * 5


def test_versions_lists_the_opentelemetry_and_wrapt_distributions_but_the_package(check):
    found = check.versions()
    assert set(check.CARD) <= set(found)
    assert check.PACKAGE not in found
    assert all(n.startswith("opentelemetry-") or n == "wrapt" for n in found)
    shown = subprocess.run(
        [sys.executable, str(SCRIPT), "versions"], capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip().startswith("{") and '"wrapt"' in shown.stdout


ALONE = {
    "opentelemetry-api": "1.45.2",
    "opentelemetry-sdk": "1.45.2",
    "opentelemetry-exporter-otlp": "1.45.2",
    "opentelemetry-exporter-otlp-common": "0.66b2",
    "opentelemetry-instrumentation": "0.66b2",
    "wrapt": "2.5.2",
}


def test_the_same_resolution_passes_and_lists_every_distribution(check):
    shown = check.compare(dict(ALONE), dict(ALONE))
    assert shown.startswith("the same 6 distributions as the five alone: ")
    assert "opentelemetry-sdk 1.45.2" in shown and "wrapt 2.5.2" in shown


def test_a_resolution_held_back_by_the_package_bounds_fails_naming_each_difference(check):
    held = {**ALONE, "opentelemetry-sdk": "1.39.1", "wrapt": "1.17.3"}
    del held["opentelemetry-exporter-otlp-common"]
    with pytest.raises(SystemExit) as failed:
        check.compare(held, ALONE)
    message = str(failed.value)
    assert "opentelemetry-sdk: 1.39.1 with the package, 1.45.2 alone" in message
    assert "wrapt: 1.17.3 with the package, 2.5.2 alone" in message
    assert "opentelemetry-exporter-otlp-common: absent with the package, 0.66b2 alone" in message
    assert "opentelemetry-api" not in message


def test_an_alone_venv_without_the_five_is_an_error(check):
    with pytest.raises(SystemExit, match="did not install"):
        check.compare({}, {"wrapt": "2.5.2"})
