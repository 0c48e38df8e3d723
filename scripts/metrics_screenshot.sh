#!/usr/bin/env bash
# Regenerate docs/prometheus-metrics.png: the Grafana dashboard's queries in Prometheus' graph page.
#
#   bash scripts/metrics_screenshot.sh [OUTPUT.png]
#
# Runs the metrics end-to-end test (tests/metrics/test_prometheus.py) with METRICS_SCREENSHOT set:
# after its checks it serves more waves of the example agent, a few seconds apart, and shoots
# Prometheus' classic graph page with headless Chromium. Installs Prometheus and the Debian
# package chromium when missing (needs root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUTPUT="$(realpath -m "${1:-docs/prometheus-metrics.png}")"

bash scripts/prometheus.sh install
if ! command -v chromium >/dev/null; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi
METRICS_SCREENSHOT="$OUTPUT" .venv/bin/python -m pytest tests/metrics/test_prometheus.py -q \
    -p no:cacheprovider
echo "wrote $OUTPUT"
