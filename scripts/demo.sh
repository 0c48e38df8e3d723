#!/usr/bin/env bash
# The main job: run the example support-desk agent and show its sessions.
#
#   bash scripts/demo.sh
#
# It sets up what it needs beside the checkout: .venv (the project with its `test` extra, as
# scripts/test.sh does) and .venv-phoenix (Arize Phoenix, via scripts/phoenix.sh install). It
# starts Phoenix on free loopback ports, runs examples/support_desk.py (four customers served
# concurrently, one session each, one ending Fail) exporting OTLP to Phoenix, prints one summary
# line per session and the Phoenix link of each session's trace, then stops Phoenix.
#
#   DEMO_NO_PHOENIX=1     no Phoenix: the summary lines on the console only
#   DEMO_KEEP_PHOENIX=1   leave Phoenix running at the end, to browse the sessions
#   DEMO_NO_METRICS=1     no metrics view, even with Prometheus installed
#   DEMO_COLLECTOR=1      the spans go through rotel, a real OpenTelemetry collector (in the
#                         test extra): the agent sends OTLP/HTTP to rotel, rotel relays OTLP/gRPC
#                         to Phoenix (docs/collector.rst)
#
# Phoenix takes no metrics, so the agent runs with OTEL_METRICS_EXPORTER=none, unless Prometheus
# is installed (bash scripts/prometheus.sh install): then the demo starts one on a free loopback
# port, the agent serves its session metrics to it (OTEL_METRICS_EXPORTER=prometheus), and
# scripts/demo_metrics.py prints the PromQL results per end state.
#
# When Phoenix cannot be installed or started, the demo falls back to the console.
# Set PYTHON to choose the interpreter (>= 3.10).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
PROJECT="support-desk"  # the Phoenix project the sessions go to
STARTUP_SECONDS=180     # Phoenix needs 10-35 s on a small machine; far more on a cold disk

step() { printf '\n== %s\n' "$*"; }
warn() { printf '%s\n' "$*" >&2; }

step "project virtual environment (.venv)"
if [[ ! -x .venv/bin/python ]]; then
    "$PYTHON" -m venv .venv
    # Editable installs of a pyproject-only project need pip >= 21.3 (Python 3.10.0 bundles
    # 21.2.3): upgraded once, when the venv is made here, not on every run.
    .venv/bin/python -m pip install -q --upgrade pip
fi
.venv/bin/python -m pip install -q -e '.[test]'

WORK="$(mktemp -d -t agentops-demo-XXXXXX)"
PHOENIX_PID=""
PHOENIX_URL=""
PHOENIX_GRPC_PORT=""
PROMETHEUS_PID=""
COLLECTOR_PID=""
OTLP_ENDPOINT=""  # where the agent sends its spans: Phoenix, or the collector in front of it
# How the agent runs, and where its metrics go: nowhere, or to Prometheus (start_prometheus).
AGENT=(.venv/bin/python examples/support_desk.py)
METRICS_ENV=(OTEL_METRICS_EXPORTER=none)

cleanup() {
    if [[ -n "$COLLECTOR_PID" ]]; then
        kill -TERM "$COLLECTOR_PID" 2>/dev/null || true
        wait "$COLLECTOR_PID" 2>/dev/null || true
    fi
    if [[ -n "$PROMETHEUS_PID" ]]; then
        kill -TERM "$PROMETHEUS_PID" 2>/dev/null || true
        wait "$PROMETHEUS_PID" 2>/dev/null || true
    fi
    if [[ -n "$PHOENIX_PID" && "${DEMO_KEEP_PHOENIX:-0}" != 1 ]]; then
        kill -TERM "$PHOENIX_PID" 2>/dev/null || true
        wait "$PHOENIX_PID" 2>/dev/null || true
        PHOENIX_PID=""
    fi
    # A Phoenix left running still writes its log here.
    [[ -n "$PHOENIX_PID" ]] || rm -rf "$WORK"
}
trap cleanup EXIT

# N free loopback ports, all held while picked so they differ, on one line.
free_ports() {
    .venv/bin/python -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))' "$1"
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

healthy() {
    .venv/bin/python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
        "$PHOENIX_URL/healthz" 2>/dev/null
}

start_phoenix() {
    step "Phoenix, the local trace backend (.venv-phoenix)"
    if ! bash scripts/phoenix.sh install; then
        warn "Phoenix could not be installed; the sessions are shown on the console only."
        return 1
    fi
    local port grpc_port
    read -r port grpc_port < <(free_ports 2)
    # UI, REST API and OTLP/HTTP on 127.0.0.1:$port; OTLP/gRPC on $grpc_port (Phoenix binds gRPC
    # on all interfaces whatever PHOENIX_HOST says). In-memory database: nothing is kept.
    PHOENIX_PORT="$port" PHOENIX_GRPC_PORT="$grpc_port" \
        bash scripts/phoenix.sh serve >"$WORK/phoenix.log" 2>&1 &
    PHOENIX_PID=$!
    PHOENIX_URL="http://127.0.0.1:$port"
    PHOENIX_GRPC_PORT="$grpc_port"
    local waited=0
    until healthy; do
        if ! kill -0 "$PHOENIX_PID" 2>/dev/null || ((waited >= STARTUP_SECONDS * 2)); then
            warn "Phoenix did not start; the sessions are shown on the console only. Log tail:"
            tail -n 20 "$WORK/phoenix.log" >&2 || true
            kill -TERM "$PHOENIX_PID" 2>/dev/null || true
            wait "$PHOENIX_PID" 2>/dev/null || true
            PHOENIX_PID=""
            return 1
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
    echo "Phoenix is up at $PHOENIX_URL (PID $PHOENIX_PID)"
}

start_prometheus() {
    step "Prometheus, for the session metrics (optional)"
    local port metrics_port
    read -r port metrics_port < <(free_ports 2)
    PROMETHEUS_PORT="$port" PROMETHEUS_TARGET="127.0.0.1:$metrics_port" \
        PROMETHEUS_DIR="$WORK/prometheus" \
        bash scripts/prometheus.sh serve >"$WORK/prometheus.log" 2>&1 &
    PROMETHEUS_PID=$!
    local url="http://127.0.0.1:$port" waited=0
    until .venv/bin/python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
        "$url/-/ready" 2>/dev/null; do
        if ! kill -0 "$PROMETHEUS_PID" 2>/dev/null || ((waited >= 120)); then
            warn "Prometheus did not start; no metrics view. Log tail:"
            tail -n 20 "$WORK/prometheus.log" >&2 || true
            return 1
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
    echo "Prometheus is up at $url (PID $PROMETHEUS_PID)"
    AGENT=(.venv/bin/python scripts/demo_metrics.py --prometheus "$url" --)
    METRICS_ENV=(OTEL_METRICS_EXPORTER=prometheus OTEL_EXPORTER_PROMETHEUS_HOST=127.0.0.1
        OTEL_EXPORTER_PROMETHEUS_PORT="$metrics_port")
}

start_collector() {
    step "rotel, an OpenTelemetry collector between the agent and Phoenix (DEMO_COLLECTOR=1)"
    local binary grpc_port http_port waited=0
    # The rotel wheel (the test extra) ships the collector binary beside its Python package.
    binary="$(.venv/bin/python -c '
import pathlib, rotel
print(pathlib.Path(rotel.__file__).parent / "rotel-agent")')" || return 1
    read -r grpc_port http_port < <(free_ports 2)
    # rotel's pid and log files default to shared paths in /tmp: kept in the demo's own dir.
    "$binary" start --otlp-grpc-endpoint="127.0.0.1:$grpc_port" \
        --otlp-http-endpoint="127.0.0.1:$http_port" --exporter=otlp \
        --otlp-exporter-endpoint="http://127.0.0.1:$PHOENIX_GRPC_PORT" \
        --otlp-exporter-protocol=grpc --pid-file="$WORK/rotel.pid" \
        --log-file="$WORK/rotel.log" >"$WORK/rotel.out" 2>&1 &
    COLLECTOR_PID=$!
    until listening "$http_port" && listening "$grpc_port"; do
        if ! kill -0 "$COLLECTOR_PID" 2>/dev/null || ((waited >= 60)); then
            warn "rotel did not start; the agent exports to Phoenix directly. Log tail:"
            tail -n 20 "$WORK/rotel.out" >&2 || true
            kill -TERM "$COLLECTOR_PID" 2>/dev/null || true
            wait "$COLLECTOR_PID" 2>/dev/null || true
            COLLECTOR_PID=""
            return 1
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
    OTLP_ENDPOINT="http://127.0.0.1:$http_port"
    echo "rotel is up (PID $COLLECTOR_PID): OTLP/HTTP in at $OTLP_ENDPOINT, OTLP/gRPC out to" \
        "Phoenix at 127.0.0.1:$PHOENIX_GRPC_PORT"
}

if [[ "${DEMO_NO_METRICS:-0}" != 1 ]] && command -v "${PROMETHEUS_BIN:-prometheus}" >/dev/null; then
    start_prometheus || true
fi

if [[ "${DEMO_NO_PHOENIX:-0}" == 1 ]] || ! start_phoenix; then
    step "the example agent (examples/support_desk.py), sessions summarised on the console"
    env "${METRICS_ENV[@]}" OTEL_TRACES_EXPORTER=none "${AGENT[@]}"
    exit 0
fi

OTLP_ENDPOINT="$PHOENIX_URL"
ROUTE="Phoenix"
if [[ "${DEMO_COLLECTOR:-0}" == 1 ]] && start_collector; then
    ROUTE="rotel, then Phoenix"
fi

step "the example agent (examples/support_desk.py), sessions exported to $ROUTE"
# The conversations are made up, so the demo opts in to recording message content; by default
# prompts, completions and tool arguments are not recorded.
OTEL_TRACES_EXPORTER=otlp \
OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
OTEL_EXPORTER_OTLP_ENDPOINT="$OTLP_ENDPOINT" \
OTEL_RESOURCE_ATTRIBUTES="openinference.project.name=$PROJECT" \
OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=span_only \
    env "${METRICS_ENV[@]}" "${AGENT[@]}" --sessions-file "$WORK/sessions.json"

step "the sessions in Phoenix"
.venv/bin/python scripts/demo_links.py --url "$PHOENIX_URL" --project "$PROJECT" \
    "$WORK/sessions.json"

if [[ "${DEMO_KEEP_PHOENIX:-0}" == 1 ]]; then
    echo
    echo "Phoenix keeps running at $PHOENIX_URL (PID $PHOENIX_PID, log $WORK/phoenix.log)."
    echo "Stop it with: kill $PHOENIX_PID"
else
    echo
    echo "Stopping Phoenix (its in-memory data goes with it). Keep it: DEMO_KEEP_PHOENIX=1"
fi
