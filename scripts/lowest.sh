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
# The test tools stay at the pinned versions of the main run: the lowest pytest that the extra
# allows is not what is being checked.
"$UV" pip install -q -p "$venv/bin/python" --resolution lowest-direct -e '.[test-core]' \
    -c <(grep -E '^(pytest|hypothesis|pluggy|iniconfig)==' requirements/test.txt)
"$UV" pip list -p "$venv/bin/python" 2>/dev/null |
    grep -E '^(opentelemetry-(api|sdk|exporter-otlp|instrumentation)|wrapt) ' | tr -s ' ' | paste -sd,

# The tests that need the full `test` extra (OpenAI, zero-code mode with the distro, Jupyter,
# Prometheus' exporter, the services' WSGI and MCP packages; the end-to-end tests and
# test_recognise.py import OpenAI's client) and the reliability suite are
# left to the main run, as is tests/test_benchmarks.py (its rows load the logging instrumentation).
exec "$venv/bin/python" -m pytest tests -q -p no:cacheprovider -m "not e2e and not compat" \
    --ignore=tests/reliability --ignore=tests/test_examples.py --ignore=tests/test_readme.py \
    --ignore=tests/test_fake_openai.py --ignore=tests/test_notebook.py \
    --ignore=tests/test_openai_session.py --ignore=tests/test_zero_code.py \
    --ignore=tests/test_logs_zero_code.py \
    --ignore=tests/test_fake_served.py --ignore=tests/test_llm_calls.py \
    --ignore=tests/test_services.py --ignore=tests/test_secrets.py \
    --ignore=tests/test_benchmarks.py --ignore=tests/e2e --ignore=tests/test_recognise.py \
    --deselect tests/test_sampling.py::test_opentelemetry_instrument_uses_it_from_the_environment \
    --ignore=tests/metrics/test_prometheus.py \
    --deselect tests/metrics/test_pipeline.py::test_prometheus_exporter_serves_the_sessions
