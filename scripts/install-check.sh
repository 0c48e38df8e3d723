#!/usr/bin/env bash
# The end user's install, as README.rst gives it, on each supported interpreter:
#
#   bash scripts/install-check.sh        Python 3.10, the default python3, and 3.13
#
# For each: a fresh venv made by `python -m venv` with the pip that interpreter bundles (not
# upgraded), then `pip install .` of this checkout with no extras, no constraints and no cache,
# within INSTALL_LIMIT seconds (60). The runtime dependencies must be the design card's five,
# each at the newest release the index serves, and the README's "A first session" program,
# run with OTEL_TRACES_EXPORTER=console, must print its session span. Interpreters come from
# pyenv (PYENV_VERSION); under CI=true a missing one fails the check, elsewhere it is reported.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
LIMIT="${INSTALL_LIMIT:-60}"
# label, PYENV_VERSION, command
PYTHONS=("3.10 3.10.13 python3.10" "default - python3" "3.13 3.13.0 python3.13")
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

check() {  # check LABEL PYENV_VERSION PYTHON: one interpreter, in a subshell (PYENV_VERSION)
    # Called as `(check ...) || failed=1`, where set -e is off: each step returns on failure.
    local label="$1" pyenv="$2" python="$3" venv="$work/$1/venv"
    [[ "$pyenv" == - ]] || export PYENV_VERSION="$pyenv"
    if ! "$python" -c 'import sys; assert sys.version_info >= (3, 10)' 2>/dev/null; then
        echo "python $label: $python not found"
        [[ "${CI:-}" != true ]]  # a missing interpreter fails CI only
        return
    fi
    "$python" -m venv "$venv" || return 1
    local py="$venv/bin/python" start=$SECONDS
    "$py" -m pip install --no-cache-dir --disable-pip-version-check . >"$work/$label.pip" 2>&1 ||
        { cat "$work/$label.pip"; echo "python $label: pip install . failed"; return 1; }
    local took=$((SECONDS - start))
    local deps
    deps="$("$py" scripts/install_check.py deps)" || return 1
    "$py" scripts/install_check.py program README.rst >"$work/$label.py" || return 1
    (cd "$work" && OTEL_TRACES_EXPORTER=console timeout 60 "$py" "$label.py") >"$work/$label.out" 2>&1 ||
        { cat "$work/$label.out"; echo "python $label: the first-session program failed"; return 1; }
    local seen
    seen="$("$py" scripts/install_check.py session "$work/$label.out")" || return 1
    echo "python $label ($("$py" -V 2>&1), $("$py" -m pip -V | cut -d' ' -f1-2)): installed in ${took}s"
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
