#!/usr/bin/env bash
# Screenshot one page with headless Chromium (the Phoenix UI pictures of the README).
#
#   bash scripts/chromium-screenshot.sh URL OUTPUT.png
#
# Installs the Debian package `chromium` when no chromium is on PATH (needs root). Each shot
# gets a fresh profile and no background networking; --virtual-time-budget lets a single-page
# app fetch its data before the shot.
set -euo pipefail
URL="$1"
OUTPUT="$(realpath -m "$2")"

if ! command -v chromium >/dev/null; then
    printf '\n== %s\n' "Chromium (Debian package chromium)"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi

PROFILE="$(mktemp -d -t agentops-chromium-XXXXXX)"
trap 'rm -rf "$PROFILE"' EXIT
mkdir -p "$(dirname "$OUTPUT")"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$PROFILE/profile" --window-size=1600,1000 --virtual-time-budget=15000 \
    --hide-scrollbars --screenshot="$OUTPUT" "$URL" >"$PROFILE/chromium.log" 2>&1 || {
    cat "$PROFILE/chromium.log" >&2
    exit 1
}
echo "wrote $OUTPUT"
