"""The notebook story in a real Jupyter kernel, with the real ``agentops`` redirected."""

from __future__ import annotations

import pytest

from .kernel import assert_story, notebook_story

pytestmark = pytest.mark.compat


@pytest.mark.parametrize("order", ["import then instrument", "instrument then import"])
def test_every_run_and_rerun_gives_one_session(tmp_path, order):
    instrument = "AgentOpsInstrumentor().instrument()"
    setup = ["import agentops", instrument]
    if order == "instrument then import":
        setup.reverse()
    roots, outputs = notebook_story(
        tmp_path,
        "from opentelemetry_instrumentation_agentops import AgentOpsInstrumentor\n"
        + "\n".join(setup),
    )
    assert_story(roots, outputs)
