"""A chat server: one session run per request, one conversation across requests (stdlib only).

A chat that lasts hours is many requests, perhaps served by many processes. Each request is a
**run** of its conversation: ``start_session(session_id=conversation_id)`` starts a fresh trace
whose root and every span carry ``session.id`` = ``gen_ai.conversation.id`` = the conversation's
id, so backends that group traces by ``session.id`` (Phoenix's sessions view, Langfuse,
Traceloop) show one session with one trace per turn. Each run has its own end state and totals.

``POST /chat`` with JSON ``{"conversation_id": "...", "user_id": "...", "message": "..."}``
answers ``{"conversation_id", "reply", "trace_id", "usage"}``; without a ``conversation_id`` a
new conversation starts and its id comes back. ``user_id`` (optional) is the end user the run
serves (``user.id`` on its root). The model is simulated offline: a canned reply recorded as an
``LLMEvent`` with word counts as tokens (``usage`` says how many it served), and a
``ToolEvent`` when the user asks about an order.

With content capture on (``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=span_only``), each
run's root carries the user's message and the reply (``session.set_input()`` /
``set_output()``): Phoenix's sessions view shows the conversation with its user, its first
message, its last reply, one trace per turn and the tokens of all turns.

Spans go where the standard ``OTEL_*`` variables say (``init()`` sets up OTLP/HTTP)::

    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:6006 python examples/chat_server.py --port 8080
    curl -s localhost:8080/chat -d '{"conversation_id": "c-1", "message": "Hi"}'

``python examples/chat_server.py --talk URL ID MESSAGE...`` sends one turn per message.
"""

from __future__ import annotations

import argparse
import json
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
SYSTEM_PROMPT_TOKENS = 12


def answer(message: str) -> tuple[str, dict[str, int]]:
    """One turn of the assistant, recorded in the current run: the reply and its usage."""
    topic = next((t for t in REPLIES if t in message.lower()), None)
    if topic == "order":
        agentops.record(agentops.ToolEvent(name="lookup_order", params={"order": "A-1001"}))
    reply = REPLIES.get(topic, DEFAULT_REPLY)
    usage = {
        "input_tokens": len(message.split()) + SYSTEM_PROMPT_TOKENS,
        "output_tokens": len(reply.split()),
    }
    agentops.record(
        agentops.LLMEvent(
            model=MODEL,
            prompt=message,
            completion=reply,
            prompt_tokens=usage["input_tokens"],
            completion_tokens=usage["output_tokens"],
        )
    )
    return reply, usage


def serve_turn(conversation_id: str, message: str, user_id: str | None = None) -> dict[str, Any]:
    """One request: one run of the conversation, ended Success or Fail with the request."""
    with agentops.start_session(
        session_id=conversation_id, name="chat turn", user_id=user_id
    ) as run:
        # Content: kept and exported only when capture is on (the standard opt-in).
        run.set_input(message)
        reply, usage = answer(message)
        run.set_output(reply)
    return {
        "conversation_id": conversation_id,
        "reply": reply,
        "trace_id": f"{run.trace_id:032x}",
        "usage": usage,
    }


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
        user_id = body.get("user_id")
        self._send(
            200, serve_turn(conversation_id, message, None if user_id is None else str(user_id))
        )

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


def talk(
    url: str, conversation_id: str, message: str, user_id: str | None = None
) -> dict[str, Any]:
    """The client side: send one turn of ``conversation_id`` to the server at ``url``."""
    body = {"conversation_id": conversation_id, "message": message}
    if user_id is not None:
        body["user_id"] = user_id
    request = urllib.request.Request(
        f"{url.rstrip('/')}/chat",
        data=json.dumps(body).encode(),
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
