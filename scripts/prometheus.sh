#!/usr/bin/env bash
# Install or run Prometheus, the metrics backend of the metrics end-to-end test and of the demo.
#
#   scripts/prometheus.sh install   Debian's prometheus package (apt-get, as root) when missing
#   scripts/prometheus.sh serve     run it in the foreground on 127.0.0.1 (Ctrl-C stops it)
#
# serve settings: the UI and HTTP API on 127.0.0.1:PROMETHEUS_PORT (default 9090), scraping the
# agent's /metrics at PROMETHEUS_TARGET (default 127.0.0.1:9464, where
# OTEL_METRICS_EXPORTER=prometheus serves them) every PROMETHEUS_SCRAPE_INTERVAL (default 1s),
# its database in PROMETHEUS_DIR (default: a temporary folder, removed when it stops).
# PROMETHEUS_BIN chooses the binary (default: prometheus on PATH).
set -euo pipefail

usage() {
    sed -n '2,5p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

install() {
    if command -v "${PROMETHEUS_BIN:-prometheus}" >/dev/null; then
        "${PROMETHEUS_BIN:-prometheus}" --version 2>&1 | head -n 1
        return
    fi
    if ! command -v apt-get >/dev/null || [[ "$(id -u)" != 0 ]]; then
        echo "Prometheus is missing: install it (Debian: apt-get install prometheus) or set" \
            "PROMETHEUS_BIN" >&2
        exit 1
    fi
    apt-get update -qq
    # --no-install-recommends: the server only, without the node exporter it recommends.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus
    # The package's init script may have started a system-wide server on :9090; ours run on
    # their own ports, so leave it be.
    prometheus --version 2>&1 | head -n 1
}

serve() {
    local bin="${PROMETHEUS_BIN:-prometheus}"
    if ! command -v "$bin" >/dev/null; then
        echo "Prometheus not found ($bin); run: scripts/prometheus.sh install" >&2
        exit 1
    fi
    local port="${PROMETHEUS_PORT:-9090}" target="${PROMETHEUS_TARGET:-127.0.0.1:9464}"
    local interval="${PROMETHEUS_SCRAPE_INTERVAL:-1s}" dir="${PROMETHEUS_DIR:-}"
    if [[ -z "$dir" ]]; then
        dir="$(mktemp -d -t prometheus-XXXXXX)"
        TEMP_DIR="$dir"  # global: the EXIT trap runs after this function returned
        trap 'rm -rf "$TEMP_DIR"' EXIT
    fi
    mkdir -p "$dir/data"
    cat >"$dir/prometheus.yml" <<EOF
global:
  scrape_interval: $interval
  evaluation_interval: $interval
scrape_configs:
  - job_name: agent
    static_configs:
      - targets: ["$target"]
EOF
    # Not exec: the EXIT trap must still remove the temporary folder when it stops.
    "$bin" --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
        --web.listen-address="127.0.0.1:$port" &
    local pid=$! status=0
    trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM
    wait "$pid" || status=$?
    if kill -0 "$pid" 2>/dev/null; then  # the trap interrupted the wait: let it finish stopping
        status=0
        wait "$pid" || status=$?
    fi
    return "$status"
}

case "${1:-}" in
    install) install ;;
    serve) serve ;;
    *)
        usage >&2
        exit 2
        ;;
esac
