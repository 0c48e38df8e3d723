"""A tool service an agent calls over HTTP: its spans belong to the calling agent's session.

The agent (``multi_service_agent.py``) runs its sessions in its own process and runs its
``lookup_order`` tool by calling this service. OpenTelemetry's WSGI middleware
(``opentelemetry-instrumentation-wsgi``) continues the caller's trace from the request's
``traceparent``. With ``init(propagate_session=True)`` in both processes, the request's W3C
``baggage`` also names the caller's session, and every span made here (the server span, the
tool's own span and the chat span of the model call it makes) carries that session's
``session.id`` / ``gen_ai.conversation.id`` and its ``user.id``: backends that group by
session show this service's work in the agent's session. No session starts here: the
service's LLM calls are counted on its own spans, and the backend adds the services up.

``POST /tools/lookup_order`` with JSON ``{"customer_id": "..."}`` answers the customer's
order and a sentence about it, written by the model at ``--llm-base-url`` (any
OpenAI-compatible API: ``fake_openai.py`` offline). Ctrl-C (SIGINT) stops it and exports
what is left. Spans go where the standard ``OTEL_*`` variables say::

    python examples/fake_openai.py --port 8000 &
    python examples/tool_service.py --port 8081 --llm-base-url http://127.0.0.1:8000/v1
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import openai
from opentelemetry import trace
from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware

import opentelemetry_instrumentation_agentops as agentops

MODEL = "gpt-4o-mini"
MAX_BODY = 64 * 1024
ORDERS = {
    "alice": {"order": "A-1001", "status": "shipped", "carrier": "DHL"},
    "bob": {"order": "B-2002", "status": "delivered", "item": "USB-C charger"},
}
StartResponse = Callable[..., Any]


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """Requests served concurrently, each in its own thread (and OpenTelemetry context)."""

    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def lookup_order(client: openai.OpenAI, customer_id: str) -> dict[str, Any]:
    """The tool: the customer's order, and the model's sentence about it."""
    tracer = trace.get_tracer("tool-service")
    with tracer.start_as_current_span("lookup_order") as span:
        span.set_attribute("gen_ai.tool.name", "lookup_order")
        order = ORDERS.get(customer_id, {"status": "no order found"})
        reply = client.chat.completions.create(
            model=MODEL,
            messages=[
                {"role": "system", "content": "Describe an order's status in one sentence."},
                {"role": "user", "content": f"Where is my order? {json.dumps(order)}"},
            ],
        )
        return {**order, "summary": reply.choices[0].message.content}


def make_app(client: openai.OpenAI) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """The service as a WSGI application, traced by OpenTelemetry's WSGI middleware."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if (environ["REQUEST_METHOD"], environ["PATH_INFO"]) != ("POST", "/tools/lookup_order"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such tool\n"]
        length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_BODY)
        arguments = json.loads(environ["wsgi.input"].read(length) or b"{}")
        body = json.dumps(lookup_order(client, str(arguments.get("customer_id", "")))).encode()
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]

    return OpenTelemetryMiddleware(app)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--llm-base-url", required=True, help="an OpenAI-compatible API")
    args = parser.parse_args(argv)
    # No session here: the calling agent's arrives in each request's baggage. init() turns
    # on the installed OpenAI instrumentation, so the tool's model calls are traced too.
    agentops.init(auto_start_session=False, service_name="tool-service", propagate_session=True)
    client = openai.OpenAI(base_url=args.llm_base_url, api_key="fake-key", max_retries=0)
    server = make_server(
        "127.0.0.1", args.port, make_app(client), ThreadingWSGIServer, QuietHandler
    )
    print(f"tool service on http://127.0.0.1:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # Ctrl-C: a normal exit, so the pipeline exports what is left
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
