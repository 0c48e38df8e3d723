"""compat is honest about what it patches: the version gate, the table of internals, frames."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from opentelemetry_instrumentation_agentops import AgentOpsInstrumentor
from opentelemetry_instrumentation_agentops._compat import internals as private
from opentelemetry_instrumentation_agentops._compat import redirect as compat
from opentelemetry_instrumentation_agentops._compat import v03, v04

pytestmark = pytest.mark.compat
COMPAT_DIR = Path(compat.__file__).parent


@pytest.fixture
def installed(monkeypatch):
    """Pretend agentops has another version; the version warning may be given again."""

    def pretend(version: str) -> None:
        monkeypatch.setattr(compat.metadata, "version", lambda name: version)

    return pretend


def gate_warnings(caplog) -> list[str]:
    return [m for m in (r.getMessage() for r in caplog.records) if m.startswith("agentops ")]


def test_the_tested_versions_redirect_without_a_warning(installed, caplog, agentops_line):
    caplog.set_level(logging.WARNING)
    installed("0.3.26")
    assert compat.choose_line() is v03
    installed("0.4.21")
    assert compat.choose_line() is v04
    assert gate_warnings(caplog) == []


@pytest.mark.parametrize("version", ["0.2.9", "0.5.0", "1.0.0"])
def test_another_line_is_not_redirected_and_says_so_once(installed, caplog, version):
    caplog.set_level(logging.WARNING)
    installed(version)
    assert compat.choose_line() is None
    assert compat.choose_line() is None
    (warning,) = gate_warnings(caplog)
    assert f"agentops {version} is not a version this package redirects" in warning
    assert "0.3.26, 0.4.21" in warning


def test_an_untested_release_of_a_line_is_redirected_with_one_warning(
    installed, caplog, agentops_line
):
    caplog.set_level(logging.WARNING)
    version = {"0.3": "0.3.25", "0.4": "0.4.20"}[agentops_line]
    installed(version)
    assert compat.choose_line() is {"0.3": v03, "0.4": v04}[agentops_line]
    (warning,) = gate_warnings(caplog)
    assert "is redirected, but this package was tested on" in warning


def test_a_release_lacking_an_internal_is_not_redirected(
    installed, caplog, monkeypatch, agentops_line
):
    caplog.set_level(logging.WARNING)
    installed({"0.3": "0.3.27", "0.4": "0.4.22"}[agentops_line])
    monkeypatch.setattr(private, "missing", lambda line: ["agentops.sdk.core:TracingCore.gone"])
    assert compat.choose_line() is None
    (warning,) = gate_warnings(caplog)
    assert "was not redirected" in warning and "TracingCore.gone" in warning
    instrumentor = AgentOpsInstrumentor()
    instrumentor.instrument()
    try:
        assert not compat.is_redirected()
    finally:
        instrumentor.uninstrument()


def test_the_table_of_internals_matches_the_installed_agentops(agentops_line):
    assert private.missing(agentops_line) == []
    rows = [row for row in private.INTERNALS if row.line == agentops_line]
    assert rows and all(row.read in ("0.3.26", "0.4.21") for row in rows)
    assert all(row.names and row.why for row in rows)  # every internal says why it is touched


def test_frame_inspection_lives_in_one_helper():
    users = {
        path.name
        for path in COMPAT_DIR.glob("*.py")
        if any(word in path.read_text() for word in ("currentframe", "_getframe", "f_locals"))
    }
    assert users == {"frames.py"}
    uses = ("frames.caller(", "frames.caller_code(")  # caller_local only reads that frame
    callers = {
        path.name: sum(path.read_text().count(use) for use in uses)
        for path in COMPAT_DIR.glob("*.py")
        if any(use in path.read_text() for use in uses)
    }
    assert callers == {"v03.py": 1, "v04_core.py": 2}
    for name, count in callers.items():  # each use commented where it is made
        assert (COMPAT_DIR / name).read_text().count("Frame inspection (frames.py)") >= count
