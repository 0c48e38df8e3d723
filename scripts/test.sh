#!/usr/bin/env bash
# The test command: installs everything the tests need, then runs all of them.
#
#   bash scripts/test.sh            lint, unit + integration + end-to-end tests (Phoenix),
#                                   compatibility tests against the real agentops packages
#
# It creates .venv (the project with its `test` extra) and .venv-phoenix (the
# backend for the end-to-end tests) beside the checkout when they are missing;
# re-running it reuses them. Set PYTHON to choose the interpreter (>= 3.10).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"

step() { printf '\n== %s (at %ds)\n' "$*" "$SECONDS"; }

step "project virtual environment (.venv)"
[[ -x .venv/bin/python ]] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

step "Phoenix, the OTLP backend of the end-to-end tests (.venv-phoenix)"
bash scripts/phoenix.sh install

step "lint"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

# pytest exits 5 when it ran no test: that is a failure here, never a pass.
run_pytest() {
    local status=0
    "$@" || status=$?
    if [[ $status -eq 5 ]]; then
        echo "pytest collected no tests: failing" >&2
        return 1
    fi
    return $status
}

step "tests"
run_pytest .venv/bin/python -m pytest tests -q -p no:cacheprovider

if [[ -f scripts/compat.sh ]]; then
    step "compatibility with the real agentops packages"
    bash scripts/compat.sh
fi
echo
echo "all checks passed in ${SECONDS}s"
