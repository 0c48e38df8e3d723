"""A minimal agent for ``opentelemetry-instrument``: no OpenTelemetry code at all.

Run it with sessions exported to the console::

    OTEL_INSTRUMENTATION_AGENTOPS_AUTO_START_SESSION=true \\
    opentelemetry-instrument --traces_exporter console --metrics_exporter none \\
        --logs_exporter none python examples/zero_code_agent.py

The instrumentor starts one session for the whole process, named after this
script, and ends it at exit: Success, or Fail when the script raises
(``python examples/zero_code_agent.py raise``) or exits non-zero (``exit2``).
"""

import sys
import threading

import opentelemetry_instrumentation_agentops as agentops


@agentops.record_tool("lookup_order")
def lookup_order(order_id: str) -> dict:
    return {"order": order_id, "status": "shipped"}


@agentops.record_action("answer")
def answer(question: str) -> str:
    found = lookup_order("A-17")
    return f"{question}: order {found['order']} is {found['status']}"


def main(mode: str) -> None:
    answer("where is my order")
    # Work in a thread stays in the session (context propagation by the instrumentor).
    worker = threading.Thread(target=lookup_order, args=("B-42",))
    worker.start()
    worker.join()
    if mode == "raise":
        raise RuntimeError("the agent crashed")
    if mode == "exit2":
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "ok")
