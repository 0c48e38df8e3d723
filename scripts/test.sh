#!/usr/bin/env bash
# The test command: installs everything the tests need, then runs all of them.
#
#   bash scripts/test.sh            lint, the docs build (sphinx -W),
#                                   the end user's install (Python 3.10, 3.11, 3.13),
#                                   unit + integration + end-to-end tests (Phoenix),
#                                   the core tests at the lowest declared versions,
#                                   compatibility tests against the real agentops packages,
#                                   agent frameworks with their instrumentations
#
# It creates .venv (the project with its `test` extra) and .venv-phoenix (the
# backend for the end-to-end tests) beside the checkout when they are missing;
# re-running it reuses them. .venv is filled by uv (from PyPI) at the versions pinned in
# requirements/test.txt, so every run resolves the same set in seconds; refresh the pins with
# the command at the top of that file. Set PYTHON to choose the interpreter (>= 3.10).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
UV_VERSION=0.13.9

step() { printf '\n== %s (at %ds)\n' "$*" "$SECONDS"; }

step "project virtual environment (.venv)"
[[ -x .venv/bin/python ]] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q "uv==$UV_VERSION"
.venv/bin/uv pip install -q -p .venv/bin/python -c requirements/test.txt -e '.[test]'

step "Phoenix, the OTLP backend of the end-to-end tests (.venv-phoenix)"
bash scripts/phoenix.sh install

step "Prometheus, the metrics backend of the metrics end-to-end tests (Debian's package)"
bash scripts/prometheus.sh install

step "lint and type check"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy

step "docs: the manual (docs/) built with warnings as errors"
docs_out="$(mktemp -d)"
docs_status=0
.venv/bin/python -m sphinx -W --keep-going -q -b html docs "$docs_out" || docs_status=$?
rm -rf "$docs_out"
((docs_status == 0))

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

step "the end user's install: fresh venvs, bundled pip, pip install ."
bash scripts/install-check.sh

step "tests"
run_pytest .venv/bin/python -m pytest tests -q -p no:cacheprovider

step "core tests at the lowest declared versions (.venv-install-lowest)"
run_pytest bash scripts/lowest.sh

if [[ -f scripts/compat.sh ]]; then
    step "compatibility with the real agentops packages"
    bash scripts/compat.sh
fi

if [[ -f scripts/frameworks.sh ]]; then
    step "agent frameworks and their instrumentations, in sessions (.venv-frameworks)"
    bash scripts/frameworks.sh
fi
echo
echo "all checks passed in ${SECONDS}s"
