#!/usr/bin/env bash
# Regenerate docs/phoenix-session.png: one session of the example agent in the Phoenix UI.
#
#   bash scripts/screenshot.sh [OUTPUT.png]
#
# Runs scripts/demo.sh with Phoenix kept running, takes a headless Chromium screenshot of the
# trace page of one session (SCREENSHOT_SESSION, default "support bob": LLM calls, a tool call
# and actions), then stops that Phoenix by its PID. scripts/chromium-screenshot.sh takes the
# shot (it installs the Debian package `chromium` when none is on PATH; needs root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUTPUT="$(realpath -m "${1:-docs/phoenix-session.png}")"
SESSION="${SCREENSHOT_SESSION:-support bob}"

step() { printf '\n== %s\n' "$*"; }

TMP="$(mktemp -d -t agentops-screenshot-XXXXXX)"
PHOENIX_PID=""
PHOENIX_DIR=""

cleanup() {
    if [[ -n "$PHOENIX_PID" ]]; then
        # Not our child (demo.sh started it), so wait by polling instead of `wait`.
        kill -TERM "$PHOENIX_PID" 2>/dev/null || true
        for _ in $(seq 1 60); do
            kill -0 "$PHOENIX_PID" 2>/dev/null || break
            sleep 0.5
        done
    fi
    [[ -z "$PHOENIX_DIR" ]] || rm -rf "$PHOENIX_DIR"
    rm -rf "$TMP"
}
trap cleanup EXIT

DEMO_KEEP_PHOENIX=1 bash scripts/demo.sh | tee "$TMP/demo.log"
# demo.sh says: "Phoenix keeps running at URL (PID N, log DIR/phoenix.log)."
PHOENIX_PID="$(sed -n 's/^Phoenix keeps running at .* (PID \([0-9]*\), log .*$/\1/p' "$TMP/demo.log")"
PHOENIX_DIR="$(sed -n 's/^Phoenix keeps running at .*, log \(.*\)\/phoenix\.log)\.$/\1/p' \
    "$TMP/demo.log")"
URL="$(grep -F "  $SESSION " "$TMP/demo.log" | grep -o 'http://[^ ]*/traces/[0-9a-f]*' || true)"
if [[ -z "$PHOENIX_PID" || -z "$URL" ]]; then
    echo "The demo did not leave Phoenix running with a trace of '$SESSION'; see above." >&2
    exit 1
fi

step "screenshot of $URL"
bash scripts/chromium-screenshot.sh "$URL" "$OUTPUT"
