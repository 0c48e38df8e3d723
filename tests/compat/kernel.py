"""The notebook story in a real Jupyter kernel (``ipykernel`` driven by ``jupyter_client``).

A notebook user runs ``init(auto_start_session=True)`` in a cell, works in
other cells, calls ``end_session("Success")``, then runs the same cells again,
without restarting the kernel. Each run must give exactly one new session with
the right end state, and ``end_session`` must always find its session.

The kernel runs with the interpreter running the tests, so it sees the same
packages (the real ``agentops`` in a compat environment), behind the socket
guard of ``scripts.py``. Spans go to a file through ``support.span_file`` as
soon as they end.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from support.span_file import read_spans, script_env

from .scripts import SOCKET_GUARD

SETUP_PIPELINE = """
import os
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from support.span_file import FileSpanExporter

provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(os.environ["SPAN_FILE"])))
trace.set_tracer_provider(provider)
"""

# The cells of the story; the setup cell imports ``agentops`` (ours or the real one).
INIT = "session = agentops.init(auto_start_session=True)"
WORK = 'agentops.record(agentops.ActionEvent(action_type="step"))'
END = 'print("ENDED", agentops.end_session("{state}") is not None)'


class Kernel:
    """One running kernel and a blocking client for it."""

    def __init__(self, manager: Any, client: Any) -> None:
        self.manager, self.client = manager, client

    def run(self, code: str, timeout: float = 60) -> str:
        """Execute a cell; returns its output, raises with the traceback on error."""
        output: list[str] = []

        def hook(message: dict[str, Any]) -> None:
            kind, content = message["header"]["msg_type"], message["content"]
            if kind == "stream":
                output.append(content["text"])
            elif kind == "error":
                output.append("\n".join(content["traceback"]))

        reply = self.client.execute_interactive(
            textwrap.dedent(code), timeout=timeout, output_hook=hook
        )
        text = "".join(output)
        assert reply["content"]["status"] == "ok", f"cell failed:\n{code}\n{text}"
        return text


@contextmanager
def kernel(directory: Path, span_file: Path) -> Iterator[Kernel]:
    from jupyter_client.manager import KernelManager

    manager = KernelManager(kernel_name="python3")
    env = script_env(span_file)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env.setdefault("HOME", os.environ.get("HOME", str(directory)))
    manager.start_kernel(cwd=str(directory), env=env)
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        yield Kernel(manager, client)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def notebook_story(directory: Path, setup: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Run the story; returns the root spans in start order and the outputs of the cells."""
    span_file = directory / "spans.jsonl"
    outputs = []
    with kernel(directory, span_file) as notebook:
        notebook.run(SOCKET_GUARD + SETUP_PIPELINE)
        notebook.run(setup)
        for _ in range(2):  # run the notebook, then run its cells again
            outputs += [notebook.run(INIT), notebook.run(WORK)]
            outputs.append(notebook.run(END.format(state="Success")))
        # a third run that re-runs the init cell before ending: the first one is superseded
        outputs += [notebook.run(INIT), notebook.run(WORK), notebook.run(INIT)]
        outputs += [notebook.run(WORK), notebook.run(END.format(state="Fail"))]
        outputs.append(notebook.run('print("NETWORK", _NET)'))
    spans = read_spans(span_file)
    roots = sorted((s for s in spans if s["parent_span_id"] is None), key=lambda s: s["start"])
    for root in roots:
        root["children"] = [s["name"] for s in spans if s["parent_span_id"] == root["span_id"]]
    return roots, outputs


def assert_story(roots: list[dict[str, Any]], outputs: list[str]) -> None:
    states = [r["attributes"]["agentops.session.end_state"] for r in roots]
    assert states == ["Success", "Success", "Indeterminate", "Fail"], states
    assert [r["children"] for r in roots] == [["action step"]] * 4
    assert "superseded" in roots[2]["attributes"]["agentops.session.end_state_reason"]
    ended = [o for o in outputs if "ENDED" in o]
    assert ended == ["ENDED True\n"] * 3, ended  # end_session always found its session
    assert outputs[-1] == "NETWORK []\n", outputs[-1]
    text = "".join(outputs)
    for complaint in ("no running session", "Could not", "Failed to detach"):
        assert complaint not in text, text
