#!/usr/bin/env bash
# The framework tier: real agent frameworks with their OpenTelemetry instrumentations,
# inside sessions, against the fake OpenAI server (tests/frameworks).
#
#   bash scripts/frameworks.sh            every test file, each in its own pytest process
#   bash scripts/frameworks.sh -k agents  extra arguments go to each pytest run
#
# Two virtual environments beside the checkout, each the project (editable) with the exact
# versions of its requirements file, installed by uv (the version scripts/test.sh uses):
#   .venv-frameworks          requirements/frameworks.txt: openai 3 (openai-agents, LangGraph,
#                             agno, Pydantic AI, smolagents)
#   .venv-frameworks-openai2  requirements/frameworks-openai2.txt: openai 2 (LlamaIndex's
#                             and strands-agents' OpenAI integrations require openai < 3,
#                             openai-agents 0.24 requires openai >= 3: one environment
#                             cannot hold them all)
# A file of OPENAI2 runs in the second, every other one in the first. Each environment is
# (re)installed when its requirements file changed (the file is the stamp). Each test file
# runs in its own process: some instrumentors leave their hooks behind after uninstrument(),
# so one file per tracer keeps each mix what it says. Fails when any run fails or runs no
# test (pytest 5). Set PYTHON to choose the interpreter (>= 3.11: Pydantic AI's).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
UV_VERSION=0.13.9
OPENAI2=(test_llama_index_openinference.py test_strands.py)

# ensure VENV REQUIREMENTS: the environment, installed from the requirements file.
ensure() {
    local venv=$1 requirements=$2
    [[ -x "$venv/bin/python" ]] || "$PYTHON" -m venv "$venv"
    if ! cmp -s "$requirements" "$venv/.requirements"; then
        echo "installing $requirements into $venv"
        [[ -x "$venv/bin/uv" ]] || "$venv/bin/python" -m pip install -q "uv==$UV_VERSION"
        "$venv/bin/uv" pip install -q -p "$venv/bin/python" -r "$requirements" -e .
        cp "$requirements" "$venv/.requirements"
    fi
}

ensure .venv-frameworks requirements/frameworks.txt
ensure .venv-frameworks-openai2 requirements/frameworks-openai2.txt

status=0
for file in tests/frameworks/test_*.py; do
    venv=.venv-frameworks
    for name in "${OPENAI2[@]}"; do
        [[ "$(basename "$file")" == "$name" ]] && venv=.venv-frameworks-openai2
    done
    printf '\n== %s (%s)\n' "$file" "$venv"
    rc=0
    AGENTOPS_FRAMEWORKS=1 "$venv/bin/python" -m pytest "$file" -q -p no:cacheprovider \
        -W ignore::DeprecationWarning "$@" || rc=$?
    if [[ $rc -eq 5 ]]; then
        echo "$file: pytest collected no tests: failing" >&2
        rc=1
    fi
    if [[ $rc -ne 0 ]]; then
        status=1
    fi
done
exit $status
