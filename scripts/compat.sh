#!/usr/bin/env bash
# Compatibility tests against the real agentops packages, one virtual environment per version.
#
#   bash scripts/compat.sh          both versions (0.3 and 0.4), then crewai 0.86 on 0.3
#   bash scripts/compat.sh 0.4      one of them (0.3, 0.4, crewai); extra arguments go to pytest
#
# Creates .venv-agentops-0.3 (agentops==0.3.26) and .venv-agentops-0.4 (agentops==0.4.21)
# beside the checkout when missing, each with the project (editable, with its [openai] extra),
# the openai client, pytest and a Jupyter kernel, then runs tests/compat in each. Fails when
# any run fails or runs no test (pytest 5). Set PYTHON to choose the interpreter (>= 3.10).
# Some tests run programs from AgentOps' own repository (PyPI ships no copy of them), read from
# ../shared/agentops-programs/<tag>/<path> beside the checkout, or from the git directory
# AGENTOPS_REPO when it is set (tests/compat/programs.py); a missing one fails its test. This
# script prints which source the run uses.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"

declare -A AGENTOPS=([0.3]="0.3.26" [0.4]="0.4.21" [crewai]="0.3.26")
declare -A VENV=([0.3]=".venv-agentops-0.3" [0.4]=".venv-agentops-0.4" [crewai]=".venv-crewai")
# crewai 0.86 (it calls agentops 0.3 itself; about 1.4 GB) and the LiteLLM instrumentation
# init() turns on for its LLM calls; that environment runs test_crewai.py only.
declare -A EXTRA=([crewai]="crewai==0.86.0 opentelemetry-instrumentation-litellm==0.62.4")
declare -A TARGET=([crewai]="tests/compat/test_crewai.py")
# The OpenTelemetry set both agentops lines co-install with (pip check clean on both).
OTEL_PINS=(
    "opentelemetry-api==1.45.1"
    "opentelemetry-sdk==1.45.1"
    "opentelemetry-exporter-otlp==1.45.1"
    "opentelemetry-instrumentation==0.66b1"
    "opentelemetry-instrumentation-threading==0.66b1"
)
# The OpenAI client and python-dotenv: AgentOps' own programs use them (against
# examples/fake_openai.py).
TOOLS=("pytest>=8" "ipykernel>=6.29" "jupyter_client>=8.6" "openai>=1.26,<4" "python-dotenv")

lines=("0.3" "0.4" "crewai")
if [[ $# -gt 0 && -n "${AGENTOPS[$1]:-}" ]]; then
    lines=("$1")
    shift
fi

setup() {  # setup LINE: the venv of that line, created or repaired
    local line="$1" version="${AGENTOPS[$1]}" venv="${VENV[$1]}"
    if [[ ! -x "$venv/bin/python" ]]; then
        "$PYTHON" -m venv "$venv"
        "$venv/bin/python" -m pip install -q --upgrade pip
    fi
    if ! "$venv/bin/python" - "$version" "${EXTRA[$line]:-}" <<'EOF' 2>/dev/null; then
import sys
from importlib.metadata import version
assert version("agentops") == sys.argv[1]
for wanted in sys.argv[2].split():
    name, _, pinned = wanted.partition("==")
    assert version(name) == pinned
import opentelemetry_instrumentation_agentops, pytest, ipykernel, jupyter_client, openai, dotenv  # noqa
import opentelemetry.instrumentation.genai.openai  # noqa: the [openai] extra
EOF
        echo "installing agentops==$version into $venv"
        # shellcheck disable=SC2086  # EXTRA holds several requirements
        "$venv/bin/python" -m pip install -q -e ".[openai]" "agentops==$version" \
            "${OTEL_PINS[@]}" "${TOOLS[@]}" ${EXTRA[$line]:-}
    fi
}

status=0
"$PYTHON" tests/compat/programs.py
for line in "${lines[@]}"; do
    printf '\n== agentops %s %s(%s)\n' "${AGENTOPS[$line]}" "${EXTRA[$line]:+${EXTRA[$line]} }" \
        "${VENV[$line]}"
    setup "$line"
    rc=0
    AGENTOPS_COMPAT=1 "${VENV[$line]}/bin/python" -m pytest "${TARGET[$line]:-tests/compat}" -q \
        -p no:cacheprovider "$@" || rc=$?
    if [[ $rc -eq 5 ]]; then
        echo "agentops $line: pytest collected no tests: failing" >&2
        rc=1
    fi
    if [[ $rc -ne 0 ]]; then
        status=1
    fi
done
exit $status
