"""A chat server: one session run per request, one conversation across requests (stdlib only).

A chat that lasts hours is many requests, perhaps served by many processes. Each request is a
**run** of its conversation: ``start_session(session_id=conversation_id)`` starts a fresh trace
whose root and every span carry ``session.id`` = ``gen_ai.conversation.id`` = the conversation's
id, so backends that group traces by ``session.id`` (Phoenix's sessions view, Langfuse,
Traceloop) show one session with one trace per turn. Each run has its own end state and totals.

``POST /chat`` with JSON ``{"conversation_id": "...", "message": "..."}`` answers
``{"conversation_id", "reply", "trace_id"}``; without a ``conversation_id`` a new conversation
starts and its id comes back. The model is simulated offline: a canned reply recorded as an
``LLMEvent`` with word counts as tokens, and a ``ToolEvent`` when the user asks about an order.

Spans go where the standard ``OTEL_*`` variables say (``init()`` sets up OTLP/HTTP)::

    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:6006 python examples/chat_server.py --port 8080
    curl -s localhost:8080/chat -d '{"conversation_id": "c-1", "message": "Hi"}'

``python examples/chat_server.py --talk URL ID MESSAGE...`` sends one turn per message.
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import opentelemetry_instrumentation_agentops as agentops

MODEL = "gpt-4o-mini"
MAX_BODY = 64 * 1024
REPLIES = {
    "order": "Your order A-1001 shipped yesterday with DHL.",
    "refund": "I have started the refund; it reaches your card in 3 days.",
}
DEFAULT_REPLY = "Happy to help. What else can I do for you?"
# Messages are content: recorded only on the standard opt-in. Phoenix then shows each turn's
# input and output (OpenInference's input.value / output.value on the run's root).
CAPTURE = os.environ.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "").lower() in {
    "true",
    "span_only",
    "span_and_event",
}


def answer(message: str) -> str:
    """One turn of the assistant, recorded in the current run."""
    topic = next((t for t in REPLIES if t in message.lower()), None)
    if topic == "order":
        agentops.record(agentops.ToolEvent(name="lookup_order", params={"order": "A-1001"}))
    reply = REPLIES.get(topic, DEFAULT_REPLY)
    agentops.record(
        agentops.LLMEvent(
            model=MODEL,
            prompt=message,
            completion=reply,
            prompt_tokens=len(message.split()) + 12,  # + the system prompt
            completion_tokens=len(reply.split()),
        )
    )
    return reply


def serve_turn(conversation_id: str, message: str) -> dict[str, Any]:
    """One request: one run of the conversation, ended Success or Fail with the request."""
    attributes = {"input.value": message} if CAPTURE else None
    with agentops.start_session(
        session_id=conversation_id, name="chat turn", attributes=attributes
    ) as run:
        reply = answer(message)
        if CAPTURE:
            run.span.set_attribute("output.value", reply)
    return {"conversation_id": conversation_id, "reply": reply, "trace_id": f"{run.trace_id:032x}"}


class ChatHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        if self.path != "/chat":
            self._send(404, {"error": "POST /chat"})
            return
        try:
            length = min(int(self.headers.get("Content-Length", 0)), MAX_BODY)
            body = json.loads(self.rfile.read(length) or b"{}")
            message = str(body["message"])
        except (ValueError, KeyError, TypeError):
            self._send(400, {"error": 'send {"conversation_id": ..., "message": ...}'})
            return
        conversation_id = str(body.get("conversation_id") or uuid.uuid4())
        self._send(200, serve_turn(conversation_id, message))

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the session summary says it
        pass


def make_server(port: int = 0, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    return ThreadingHTTPServer((host, port), ChatHandler)


def talk(url: str, conversation_id: str, message: str) -> dict[str, Any]:
    """The client side: send one turn of ``conversation_id`` to the server at ``url``."""
    request = urllib.request.Request(
        f"{url.rstrip('/')}/chat",
        data=json.dumps({"conversation_id": conversation_id, "message": message}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--talk", nargs="+", metavar=("URL", "ID"), help="URL ID MESSAGE...")
    args = parser.parse_args()
    if args.talk:
        url, conversation_id, *messages = args.talk
        for message in messages:
            print(json.dumps(talk(url, conversation_id, message)), flush=True)
        return
    agentops.init(auto_start_session=False)
    server = make_server(args.port)
    print(f"chat server on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
