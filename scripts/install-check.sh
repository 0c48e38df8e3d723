#!/usr/bin/env bash
# The end user's install, as README.rst gives it, on each supported interpreter:
#
#   bash scripts/install-check.sh        Python 3.10, the default python3, and 3.13
#
# For each, two fresh venvs made by `python -m venv` with the pip that interpreter bundles (not
# upgraded), installing with no extras, no constraints and no cache:
#
#   1. `pip install .` of this checkout, within INSTALL_LIMIT seconds (60);
#   2. its runtime dependencies alone (the design card's five: opentelemetry-api,
#      opentelemetry-sdk, opentelemetry-exporter-otlp, opentelemetry-instrumentation, wrapt).
#
# Both must end with the same opentelemetry-* and wrapt distributions at the same versions (all
# of them are listed): the package's own bounds must not hold back, or move, what pip resolves
# for its dependencies. Whatever the index serves is the reference, not "the newest release":
# when upstream publishes a part before the parts that accept it (API 1.45.3 before an SDK that
# takes it), pip's answer for the dependencies alone is what a user gets, and so must the
# package's be. Then the README's "A first session" program, run in venv 1 with
# OTEL_TRACES_EXPORTER=console, must print its session span.
#
# Interpreters come from pyenv (PYENV_VERSION); under CI=true a missing one fails the check,
# elsewhere it is reported. Each interpreter's line gives the time of both installs (one after
# the other) and of its whole check: about half a minute each on a 2-core machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
LIMIT="${INSTALL_LIMIT:-60}"
PIP=(-m pip install --no-cache-dir --disable-pip-version-check)
# label, PYENV_VERSION, command
PYTHONS=("3.10 3.10.13 python3.10" "default - python3" "3.13 3.13.0 python3.13")
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

check() {  # check LABEL PYENV_VERSION PYTHON: one interpreter, in a subshell (PYENV_VERSION)
    # Called as `(check ...) || failed=1`, where set -e is off: each step returns on failure.
    local label="$1" pyenv="$2" python="$3" venv="$work/$1/venv" alone="$work/$1/alone"
    [[ "$pyenv" == - ]] || export PYENV_VERSION="$pyenv"
    if ! "$python" -c 'import sys; assert sys.version_info >= (3, 10)' 2>/dev/null; then
        echo "python $label: $python not found"
        [[ "${CI:-}" != true ]]  # a missing interpreter fails CI only
        return
    fi
    "$python" -m venv "$venv" || return 1
    local py="$venv/bin/python" begin=$SECONDS start=$SECONDS
    "$py" "${PIP[@]}" . >"$work/$label.pip" 2>&1 ||
        { cat "$work/$label.pip"; echo "python $label: pip install . failed"; return 1; }
    local took=$((SECONDS - start))
    # The dependencies' names as the installed package declares them, checked to be the card's.
    local names
    names="$("$py" scripts/install_check.py names)" || return 1
    "$python" -m venv "$alone" || return 1
    start=$SECONDS
    # shellcheck disable=SC2086  # one word per name
    "$alone/bin/python" "${PIP[@]}" $names >"$work/$label.alone.pip" 2>&1 ||
        { cat "$work/$label.alone.pip"; echo "python $label: pip install $names failed"; return 1; }
    local took_alone=$((SECONDS - start))
    local deps
    deps="$("$py" scripts/install_check.py deps "$alone/bin/python" 2>&1)" ||
        { echo "python $label: the package's install differs from its dependencies' alone"
          echo "$deps"; return 1; }
    "$py" scripts/install_check.py program README.rst >"$work/$label.py" || return 1
    (cd "$work" && OTEL_TRACES_EXPORTER=console timeout 60 "$py" "$label.py") >"$work/$label.out" 2>&1 ||
        { cat "$work/$label.out"; echo "python $label: the first-session program failed"; return 1; }
    local seen
    seen="$("$py" scripts/install_check.py session "$work/$label.out")" || return 1
    echo "python $label ($("$py" -V 2>&1), $("$py" -m pip -V | cut -d' ' -f1-2)):" \
        "pip install . in ${took}s, the five dependencies alone in ${took_alone}s," \
        "$((SECONDS - begin))s in all"
    echo "    $deps"
    echo "    $seen"
    if ((took >= LIMIT)); then
        echo "python $label: pip install . took ${took}s, the limit is ${LIMIT}s"
        return 1
    fi
}

# One after the other: on two cores, parallel installs take as long in all and would each
# be timed slower than a user's.
failed=0
for entry in "${PYTHONS[@]}"; do
    read -r label pyenv python <<<"$entry"
    (check "$label" "$pyenv" "$python") || failed=1
done
if ((failed)); then
    echo "install check failed" >&2
    exit 1
fi
