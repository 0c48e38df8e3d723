#!/usr/bin/env bash
# Regenerate docs/phoenix-sessions.png: the example agent's sessions in Phoenix's Sessions tab.
#
#   bash scripts/screenshot.sh [OUTPUT.png]
#
# Runs scripts/demo.sh with Phoenix kept running, takes a headless Chromium screenshot of the
# project's sessions view (each ticket with its customer, first input, last output and tokens;
# the demo records message content), then stops that Phoenix by its PID. With
# SCREENSHOT_SESSION="support bob" it takes that session's trace page instead (LLM calls, a
# tool call and actions). scripts/chromium-screenshot.sh takes the shot (it installs the Debian
# package `chromium` when none is on PATH; needs root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUTPUT="$(realpath -m "${1:-docs/phoenix-sessions.png}")"
SESSION="${SCREENSHOT_SESSION:-}"

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
if [[ -n "$SESSION" ]]; then
    URL="$(grep -F "  $SESSION " "$TMP/demo.log" | grep -o 'http://[^ ]*/traces/[0-9a-f]*' || true)"
else  # demo_links.py: "Sessions in Phoenix (project 'support-desk'): URL/projects/ID/sessions"
    URL="$(grep -o 'http://[^ ]*/projects/[^ ]*/sessions$' "$TMP/demo.log" || true)"
fi
if [[ -z "$PHOENIX_PID" || -z "$URL" ]]; then
    echo "The demo did not leave Phoenix running with ${SESSION:-its sessions}; see above." >&2
    exit 1
fi

step "screenshot of $URL"
bash scripts/chromium-screenshot.sh "$URL" "$OUTPUT"
