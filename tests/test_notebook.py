"""The notebook story in a real Jupyter kernel, with this package's own API.

``tests/compat/test_notebook_agentops.py`` runs the same story with the real
``agentops`` redirected. Needs ``ipykernel`` and ``jupyter_client`` (the ``test``
extra); without them the test fails, it never skips.
"""

from __future__ import annotations

from compat.kernel import assert_story, notebook_story


def test_every_run_and_rerun_gives_one_session(tmp_path):
    roots, outputs = notebook_story(
        tmp_path, "import opentelemetry_instrumentation_agentops as agentops"
    )
    assert_story(roots, outputs)
