"""Programs from AgentOps 0.4.21's repository (agentops 0.4 only): see test_agentops_repo.py."""

from __future__ import annotations

import pytest

from .programs import agentops_program
from .scripts import openai_env, run_program
from .test_agentops_repo import END, LLM_CALLS, llm_spans

pytestmark = pytest.mark.compat

# program -> its LLM calls, and whether one reports tokens: the async one runs only its
# streamed call ("# await main()"), and a stream without include_usage reports none.
OPENAI_04 = {
    "examples/openai/openai_example_sync.py": (2, True),
    "examples/openai/openai_example_async.py": (1, False),
}


@pytest.mark.parametrize("path", OPENAI_04)
def test_openai_examples_validate_their_spans_locally(tmp_path, fake_openai, path):
    """0.4.21's OpenAI examples: start_trace, chat (plain and streamed), validate_trace_spans."""
    run = run_program(tmp_path, agentops_program("0.4.21", path), env=openai_env(fake_openai))
    run.assert_clean()  # validate_trace_spans asked no server
    # Each prints its own success line once validate_trace_spans() returned, "❌" when it raised.
    assert "\u2705" in run.output and "\u274c" not in run.output, run.output
    traced = [r for r in run.roots() if r["name"].startswith("session OpenAI")]
    assert len(traced) == 1, [r["name"] for r in run.roots()]
    root = traced[0]
    assert root["attributes"][END] == "Success"
    calls, tokens = OPENAI_04[path]
    assert root["attributes"][LLM_CALLS] == len(llm_spans(run, root)) == calls
    assert fake_openai.requests == calls
    assert (root["attributes"]["gen_ai.usage.output_tokens"] > 0) is tokens
    assert "recorded no LLM call" not in run.output
