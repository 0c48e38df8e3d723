"""LangGraph in sessions with OpenInference's LangChain tracer, alone and with genai-openai.

OpenInference never makes its spans current and writes their kind at their end, so the
client's chat span is a sibling of the LLM span it belongs to: one call all the same.
"""

from __future__ import annotations

import pytest
from openinference.instrumentation.langchain import LangChainInstrumentor
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor
from support.langgraph import (
    GENAI_OPENAI,
    check_concurrent_sessions,
    check_input_and_output,
    check_one_session,
)

SCOPE = "openinference.instrumentation.langchain"
MIXES = {
    "openinference": ((LangChainInstrumentor,), {SCOPE}),
    "openinference+genai-openai": (
        (LangChainInstrumentor, OpenAIInstrumentor),
        {SCOPE, GENAI_OPENAI},
    ),
}


@pytest.mark.parametrize("mix", MIXES)
def test_one_session_counts_what_the_server_served(server, spans, mix):
    check_one_session(server, spans, *MIXES[mix])


@pytest.mark.parametrize("mix", MIXES)
def test_two_concurrent_sessions_each_count_their_own_calls(server, mix):
    check_concurrent_sessions(server, MIXES[mix][0])


def test_the_roots_input_and_output_are_read_from_its_messages(server):
    check_input_and_output(server, MIXES["openinference"][0])
