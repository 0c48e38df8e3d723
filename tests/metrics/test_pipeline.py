"""The MeterProvider ``init()`` sets up beside its TracerProvider, in fresh interpreters.

The global MeterProvider can be set once per process, so each case runs in its own.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.network import free_port, otlp_collector
from support.span_file import run_script

# Says which MeterProvider init() left global, ends one session and leaves one running: the
# exit handler ends that one Indeterminate, before the SDK exports what is left at exit.
SCRIPT = """
from opentelemetry import metrics
import opentelemetry_instrumentation_agentops as agentops

agentops.init(auto_start_session=False)
print(type(metrics.get_meter_provider()).__name__, flush=True)
agentops.start_session(name="ended").end_session("Success")
agentops.start_session(name="left running")
if os.environ.get("SCRAPE"):  # what a Prometheus scraping this process would read
    import urllib.request

    with urllib.request.urlopen(os.environ["SCRAPE"], timeout=10) as response:
        print(response.read().decode())
"""
NONE = "_ProxyMeterProvider"  # the API's stand-in: no MeterProvider was set


def run(tmp_path: Path, **env: str) -> tuple[str, str, str]:
    """The MeterProvider's class name, the rest of stdout, and stderr."""
    done = run_script(tmp_path, SCRIPT, timeout=60, **env)
    assert done.returncode == 0, done.stderr
    provider, _, rest = done.stdout.partition("\n")
    return provider, rest, done.stderr


def test_console_exporter_gets_every_session_ended_at_exit_too(tmp_path):
    provider, output, _ = run(
        tmp_path, OTEL_TRACES_EXPORTER="none", OTEL_METRICS_EXPORTER="console"
    )
    assert provider == "MeterProvider"
    exported = json.loads(output[output.index("{") :])
    (scope,) = [
        s
        for r in exported["resource_metrics"]
        for s in r["scope_metrics"]
        if s["scope"]["name"] == "opentelemetry_instrumentation_agentops"
    ]
    points = {m["name"]: m["data"]["data_points"] for m in scope["metrics"]}
    duration = points["agentops.session.duration"]
    states = {p["attributes"]["agentops.session.end_state"]: p["count"] for p in duration}
    assert states == {"Success": 1, "Indeterminate": 1}
    assert [p["value"] for p in points["agentops.session.active"]] == [0]


def test_traces_over_otlp_bring_metrics_over_otlp_to_the_same_endpoint(tmp_path):
    with otlp_collector() as (url, received):
        provider, _, _ = run(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=url)
    assert provider == "MeterProvider"
    assert {path for path, _ in received} == {"/v1/traces", "/v1/metrics"}


def test_init_exporter_endpoint_serves_metrics_too(tmp_path):
    body = SCRIPT.replace(
        "init(auto_start_session=False)",
        "init(auto_start_session=False, exporter_endpoint=os.environ['ENDPOINT'])",
    )
    with otlp_collector() as (url, received):
        done = run_script(tmp_path, body, timeout=60, ENDPOINT=url)
    assert done.returncode == 0, done.stderr
    assert {path for path, _ in received} == {"/v1/traces", "/v1/metrics"}


def test_prometheus_exporter_serves_the_sessions(tmp_path):
    port = free_port()
    provider, scraped, _ = run(
        tmp_path,
        OTEL_TRACES_EXPORTER="none",
        OTEL_METRICS_EXPORTER="prometheus",
        OTEL_EXPORTER_PROMETHEUS_HOST="127.0.0.1",
        OTEL_EXPORTER_PROMETHEUS_PORT=str(port),
        SCRAPE=f"http://127.0.0.1:{port}/metrics",
    )
    assert provider == "MeterProvider"
    assert "agentops_session_active{" in scraped
    assert 'agentops_session_duration_seconds_count{agentops_session_end_state="Success"' in scraped


@pytest.mark.parametrize(
    "env",
    [
        # Traces off or on the console, no metrics exporter named: no collector is knocked on.
        {"OTEL_TRACES_EXPORTER": "none"},
        {"OTEL_TRACES_EXPORTER": "console"},
        {"OTEL_METRICS_EXPORTER": "none"},
        {"OTEL_SDK_DISABLED": "true", "OTEL_METRICS_EXPORTER": "console"},
    ],
)
def test_no_meter_provider_when_nothing_asks_for_metrics(tmp_path, env):
    with otlp_collector() as (url, received):
        provider, _, _ = run(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=url, **env)
    assert provider == NONE
    assert "/v1/metrics" not in {path for path, _ in received}


def test_an_unknown_exporter_is_left_out_with_a_warning(tmp_path):
    provider, output, stderr = run(
        tmp_path, OTEL_TRACES_EXPORTER="none", OTEL_METRICS_EXPORTER="no-such-exporter,console"
    )
    assert provider == "MeterProvider"
    assert "agentops.session.duration" in output  # the console exporter still runs
    assert "OTEL_METRICS_EXPORTER=no-such-exporter" in stderr


def test_a_meter_provider_already_set_is_kept(tmp_path):
    body = """
    from opentelemetry import metrics
    from opentelemetry.sdk.metrics import MeterProvider
    import opentelemetry_instrumentation_agentops as agentops

    mine = MeterProvider()
    metrics.set_meter_provider(mine)
    agentops.init(auto_start_session=False)
    print(metrics.get_meter_provider() is mine)
    """
    done = run_script(tmp_path, body, OTEL_TRACES_EXPORTER="none", OTEL_METRICS_EXPORTER="console")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
