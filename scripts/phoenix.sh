#!/usr/bin/env bash
# Install or run the pinned Arize Phoenix used as the local OTLP trace backend.
#
#   scripts/phoenix.sh install   create .venv-phoenix (if missing) and install the pinned Phoenix
#   scripts/phoenix.sh serve     run it in the foreground on 127.0.0.1 (Ctrl-C stops it)
#
# Phoenix gets its own venv because it pins far more than this project may depend on.
# serve settings: UI, REST and OTLP/HTTP on PHOENIX_PORT (default 6006, OTLP path /v1/traces),
# OTLP/gRPC on PHOENIX_GRPC_PORT (default 4317), a throwaway in-memory database, no telemetry and
# no external assets. Point an app at it with OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:6006
# or OTEL_EXPORTER_OTLP_PROTOCOL=grpc.
set -euo pipefail

PHOENIX_VERSION="20.26.1"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PHOENIX_VENV:-$REPO_ROOT/.venv-phoenix}"
PYTHON="${PYTHON:-python3}"

usage() {
    sed -n '2,5p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

install() {
    if [[ ! -x "$VENV/bin/python" ]]; then
        "$PYTHON" -m venv "$VENV"
    fi
    # pip is a no-op when the pinned version is already there.
    "$VENV/bin/pip" install -q "arize-phoenix==$PHOENIX_VERSION"
    echo "Phoenix $PHOENIX_VERSION installed: $VENV/bin/phoenix"
}

serve() {
    local bin="${PHOENIX_BIN:-$VENV/bin/phoenix}"
    if [[ ! -x "$bin" ]]; then
        echo "Phoenix not found at $bin; run: scripts/phoenix.sh install" >&2
        exit 1
    fi
    local port="${PHOENIX_PORT:-6006}" grpc_port="${PHOENIX_GRPC_PORT:-4317}"
    local work_dir
    work_dir="$(mktemp -d -t phoenix-XXXXXX)"
    # Clean the working dir however the server ends (expanded now: locals are gone at EXIT).
    # shellcheck disable=SC2064
    trap "rm -rf '$work_dir'" EXIT
    echo "Phoenix UI and OTLP/HTTP: http://127.0.0.1:$port  OTLP/gRPC: 127.0.0.1:$grpc_port" >&2
    # Not exec, so the EXIT trap can clean up; run it as a child and forward INT/TERM to it, so
    # stopping this script by its PID also stops Phoenix instead of orphaning it.
    PHOENIX_HOST=127.0.0.1 \
    PHOENIX_PORT="$port" \
    PHOENIX_GRPC_PORT="$grpc_port" \
    PHOENIX_WORKING_DIR="$work_dir" \
    PHOENIX_SQL_DATABASE_URL='sqlite:///:memory:' \
    PHOENIX_TELEMETRY_ENABLED=false \
    PHOENIX_ALLOW_EXTERNAL_RESOURCES=false \
    PHOENIX_DISABLE_AGENT_ASSISTANT=true \
    PHOENIX_AGENTS_DISABLE_BASH=true \
        "$bin" serve &
    local pid=$! status=0
    trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM
    # wait returns early when a trapped signal arrives; keep waiting until Phoenix has exited.
    while kill -0 "$pid" 2>/dev/null; do
        status=0
        wait "$pid" || status=$?
    done
    return "$status"
}

case "${1:-}" in
    install) install ;;
    serve) serve ;;
    -h | --help | help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
esac
