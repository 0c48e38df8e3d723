#!/usr/bin/env bash
# The core tests against the lowest versions pyproject.toml declares:
#
#   bash scripts/lowest.sh            (scripts/test.sh runs it after the full suite)
#
# Makes .venv-install-lowest afresh with uv: the project with its `test-core` extra, every
# direct dependency at the oldest release its lower bound allows (`--resolution lowest-direct`),
# then runs the unit and integration tests that need nothing beyond that extra (pytest's exit
# status: scripts/test.sh fails its 5, no test run). A bound that is no longer true fails
# here. Set PYTHON for the interpreter, UV for the uv to use.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
UV="${UV:-.venv/bin/uv}"
venv=.venv-install-lowest

rm -rf "$venv"
"$UV" venv -q -p "$PYTHON" "$venv"
"$UV" pip install -q -p "$venv/bin/python" --resolution lowest-direct -e '.[test-core]'
"$UV" pip list -p "$venv/bin/python" 2>/dev/null |
    grep -E '^(opentelemetry-(api|sdk|exporter-otlp|instrumentation)|wrapt) ' | tr -s ' ' | paste -sd,

# The tests that need the full `test` extra (OpenAI, zero-code mode, Jupyter) and the
# reliability suite are left to the main run.
exec "$venv/bin/python" -m pytest tests -q -p no:cacheprovider -m "not e2e and not compat" \
    --ignore=tests/reliability --ignore=tests/test_examples.py \
    --ignore=tests/test_fake_openai.py --ignore=tests/test_notebook.py \
    --ignore=tests/test_openai_session.py --ignore=tests/test_zero_code.py
