"""LangGraph in sessions with OpenLLMetry's LangChain tracer, alone, with genai-openai, and
with OpenInference's tracer on the same runs.

OpenLLMetry writes a span's kind after its start and does not leave its LLM span current
(it makes the suppression of its own client instrumentation current instead).
"""

from __future__ import annotations

import pytest
from openinference.instrumentation.langchain import LangChainInstrumentor as OpenInference
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor
from opentelemetry.instrumentation.langchain import LangchainInstrumentor
from support.langgraph import (
    GENAI_OPENAI,
    check_concurrent_sessions,
    check_input_and_output,
    check_one_session,
)

SCOPE = "opentelemetry.instrumentation.langchain"
MIXES = {
    "openllmetry": ((LangchainInstrumentor,), {SCOPE}),
    "openllmetry+genai-openai": (
        (LangchainInstrumentor, OpenAIInstrumentor),
        {SCOPE, GENAI_OPENAI},
    ),
    "openllmetry+openinference+genai-openai": (
        (LangchainInstrumentor, OpenInference, OpenAIInstrumentor),
        {SCOPE, GENAI_OPENAI, "openinference.instrumentation.langchain"},
    ),
}


@pytest.mark.parametrize("mix", MIXES)
def test_one_session_counts_what_the_server_served(server, spans, mix):
    check_one_session(server, spans, *MIXES[mix])


@pytest.mark.parametrize("mix", MIXES)
def test_two_concurrent_sessions_each_count_their_own_calls(server, mix):
    check_concurrent_sessions(server, MIXES[mix][0])


def test_the_roots_input_and_output_are_read_from_its_messages(server):
    check_input_and_output(server, MIXES["openllmetry"][0])
