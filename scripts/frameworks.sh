#!/usr/bin/env bash
# The framework tier: real agent frameworks with their OpenTelemetry instrumentations,
# inside sessions, against the fake OpenAI server (tests/frameworks).
#
#   bash scripts/frameworks.sh            every test file, each in its own pytest process
#   bash scripts/frameworks.sh -k agents  extra arguments go to each pytest run
#
# Creates .venv-frameworks beside the checkout when missing (the project, editable, with the
# pinned versions below), then runs each file of tests/frameworks in its own process: some
# instrumentors leave their hooks behind after uninstrument(), so one file per tracer keeps
# each mix what it says. Fails when any run fails or runs no test (pytest 5).
# Set PYTHON to choose the interpreter (>= 3.10).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
VENV=.venv-frameworks

PINS=(
    "openai-agents==0.24.0"
    "openinference-instrumentation-openai-agents==2.6.0"
    "opentelemetry-instrumentation-genai-openai-agents==1.3b0"
    "opentelemetry-instrumentation-genai-openai==1.3b0"
    "langgraph==1.2.22"
    "langchain-openai==1.7.4"
    "openinference-instrumentation-langchain==0.1.80"
    "opentelemetry-instrumentation-langchain==0.62.4"
    "opentelemetry-api==1.45.1"
    "opentelemetry-sdk==1.45.1"
    "opentelemetry-instrumentation==0.66b1"
    "pytest>=8"
    "hypothesis>=6.100"
)

if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
fi
# Reinstall when a pin changed (or the venv is half-made): the pins are the stamp.
stamp="$VENV/.pins"
if [[ "$(cat "$stamp" 2>/dev/null)" != "${PINS[*]}" ]]; then
    echo "installing the frameworks into $VENV"
    "$VENV/bin/python" -m pip install -q -e . "${PINS[@]}"
    echo "${PINS[*]}" > "$stamp"
fi

status=0
for file in tests/frameworks/test_*.py; do
    printf '\n== %s\n' "$file"
    rc=0
    AGENTOPS_FRAMEWORKS=1 "$VENV/bin/python" -m pytest "$file" -q -p no:cacheprovider "$@" || rc=$?
    if [[ $rc -eq 5 ]]; then
        echo "$file: pytest collected no tests: failing" >&2
        rc=1
    fi
    if [[ $rc -ne 0 ]]; then
        status=1
    fi
done
exit $status
