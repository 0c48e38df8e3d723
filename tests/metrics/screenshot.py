"""Prometheus' own graph page with given queries, and a headless Chromium shot of it.

Debian's Prometheus serves its classic UI (``/classic/graph``), which takes the queries in
the URL: ``g0.expr``, ``g1.expr``, ... each with its range and the graph tab selected.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import urllib.parse
from pathlib import Path

# Chromium flags: no sandbox (root), no GPU, and nothing that phones home.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
# Pixels one query takes on the classic graph page, with its legend. The window is taller than
# the page: a shorter one scrolls to the last query box, which has the focus.
GRAPH_HEIGHT = 720


def graph_page_url(url: str, queries: list[str], window: str) -> str:
    params: dict[str, str] = {}
    for i, promql in enumerate(queries):
        params.update({f"g{i}.expr": promql, f"g{i}.tab": "0", f"g{i}.range_input": window})
    return f"{url}/classic/graph?{urllib.parse.urlencode(params)}"


def screenshot(page: str, output: Path, queries: int | None = None) -> None:
    """Save ``page`` as a PNG; the window is as tall as its ``queries`` graphs need."""
    chromium = shutil.which("chromium")
    assert chromium, "Chromium is missing: apt-get install chromium"
    count = queries if queries is not None else page.count(".expr=")
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="agentops-chromium-") as profile:
        done = subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size=1400,{300 + GRAPH_HEIGHT * count}",
                # Lets the page's scripts fetch the data and draw before the shot.
                "--virtual-time-budget=15000",
                f"--screenshot={output.resolve()}",
                page,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0 and output.exists(), done.stderr[-3000:]
