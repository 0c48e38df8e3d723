"""A local, deterministic fake of the OpenAI chat completions API (standard library only).

Examples and tests use it so that a real ``openai`` client (and any OpenAI instrumentation
wrapped around it) can run without network access or an API key::

    from fake_openai import FakeOpenAIServer
    import openai

    with FakeOpenAIServer() as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="test")
        client.chat.completions.create(model="gpt-4o-mini", messages=[...])
        assert srv.requests == 1

Behaviour of ``POST /v1/chat/completions``:

* The reply is a canned support-desk answer chosen from keywords of the last user message,
  so the same request always gets the same answer. ``model`` is echoed back.
* ``usage`` counts words: prompt tokens are the words of all messages, completion tokens the
  words of the reply. ``max_tokens`` / ``max_completion_tokens`` truncate the reply
  (``finish_reason="length"``).
* ``stream: true`` answers with Server-Sent Events, one chunk per word, a final chunk with the
  finish reason, a usage chunk (empty ``choices``) when ``stream_options.include_usage`` is
  true, then ``data: [DONE]``.
* If the request has ``tools`` (and ``tool_choice`` is not ``"none"``) and the last message is
  not a ``tool`` message, the reply is one call of the first tool (or of the tool named by
  ``tool_choice``) with JSON arguments filled in for its required parameters, and
  ``finish_reason="tool_calls"``. Once the tool result is sent back, it answers normally.
* The model ``fail-model`` gets HTTP 500 with an OpenAI-style error body.

``served`` lists, per completion answered, its model, token usage, whether it called a tool
and its answer's text (``content``, None for a tool call), so a test can compare what it
counted and showed with what the server did.

Run it standalone with ``python examples/fake_openai.py --port 8000``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FAIL_MODEL", "FakeOpenAIServer", "main", "word_count"]

#: Requests for this model are answered with HTTP 500.
FAIL_MODEL = "fail-model"

# Keyword -> canned answer. First match wins, so order from specific to generic.
_CANNED_ANSWERS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("password", "login", "log in", "sign in", "locked"),
        "I'm sorry you can't get in. Open the sign-in page, choose 'Forgot password' and "
        "follow the link we email you; it is valid for 30 minutes. If the account is locked, "
        "wait 15 minutes and try again.",
    ),
    (
        ("refund", "return", "money back", "charge"),
        "I can help with that refund. Returns are accepted within 30 days of delivery; once "
        "the item reaches our warehouse the refund goes back to your original payment method "
        "within 5 business days.",
    ),
    (
        ("ship", "deliver", "track", "package", "order"),
        "Thanks for checking on your order. Standard shipping takes 3 to 5 business days and "
        "you will get a tracking link by email as soon as the parcel leaves our warehouse.",
    ),
    (
        ("cancel", "subscription", "plan", "billing"),
        "You can change or cancel your plan at any time under Settings, Billing. The change "
        "takes effect at the end of the current billing period and you keep access until then.",
    ),
)


def word_count(text: str) -> int:
    """Return the number of whitespace-separated words: the fake's notion of a token."""
    return len(text.split())


def _content_text(content: Any) -> str:
    """Flatten a message ``content`` (string, list of parts or None) into plain text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, dict)]
        return " ".join(p for p in parts if isinstance(p, str))
    return str(content)


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return _content_text(message.get("content"))
    return ""


def _support_answer(messages: list[dict[str, Any]]) -> str:
    """Pick the canned answer for the last user message; mention a tool result if one came back."""
    question = _last_user_text(messages)
    lowered = question.lower()
    answer = next(
        (text for keys, text in _CANNED_ANSWERS if any(k in lowered for k in keys)),
        None,
    )
    if answer is None:
        topic = " ".join(question.split()[:8]) or "your question"
        answer = (
            f'Thanks for contacting support about "{topic}". A member of our team has been '
            "assigned and will follow up by email within one business day."
        )
    if messages and messages[-1].get("role") == "tool":
        result = " ".join(_content_text(messages[-1].get("content")).split()[:12])
        answer = f"I looked that up for you ({result}). {answer}"
    return answer


def _placeholder(schema: Any) -> Any:
    """Return a deterministic value of the JSON-schema type, so tool arguments parse as expected."""
    kind = schema.get("type") if isinstance(schema, dict) else None
    if isinstance(schema, dict) and schema.get("enum"):
        return schema["enum"][0]
    return {
        "string": "example",
        "integer": 1,
        "number": 1.0,
        "boolean": True,
        "array": [],
        "object": {},
    }.get(kind)


def _tool_arguments(tool: dict[str, Any]) -> str:
    params = tool.get("function", {}).get("parameters") or {}
    props = params.get("properties") or {}
    required = params.get("required") or []
    return json.dumps({name: _placeholder(props.get(name)) for name in required})


def _chosen_tool(body: dict[str, Any]) -> dict[str, Any] | None:
    """Return the tool to call, or None when the fake should answer with text."""
    tools = body.get("tools") or []
    messages = body.get("messages") or []
    choice = body.get("tool_choice")
    if not tools or choice == "none" or (messages and messages[-1].get("role") == "tool"):
        return None
    if isinstance(choice, dict):
        wanted = choice.get("function", {}).get("name")
        for tool in tools:
            if tool.get("function", {}).get("name") == wanted:
                return tool
    return tools[0]


class _Reply:
    """Everything the handler needs to render one completion, streamed or not."""

    def __init__(self, body: dict[str, Any]) -> None:
        messages = body.get("messages") or []
        self.model = str(body.get("model", ""))
        # Deterministic ids: the same request always yields the same id.
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        self.id = f"chatcmpl-{digest[:24]}"
        self.created = int(time.time())
        prompt_words = sum(word_count(_content_text(m.get("content"))) for m in messages)
        self.prompt_tokens = max(1, prompt_words)
        self.content: str | None = None
        self.tool_call: dict[str, Any] | None = None
        tool = _chosen_tool(body)
        if tool is not None:
            name = tool.get("function", {}).get("name", "tool")
            arguments = _tool_arguments(tool)
            self.tool_call = {
                "id": f"call_{digest[24:48]}",
                "type": "function",
                "function": {"name": name, "arguments": arguments},
            }
            self.finish_reason = "tool_calls"
            self.completion_tokens = max(1, word_count(f"{name} {arguments}"))
            return
        words = _support_answer(messages).split()
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        self.finish_reason = "stop"
        if isinstance(limit, int) and 0 < limit < len(words):
            words, self.finish_reason = words[:limit], "length"
        self.content = " ".join(words)
        self.completion_tokens = len(words)

    def usage(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }

    def _envelope(self, obj: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": obj,
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_fake",
        }

    def completion(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.content, "refusal": None}
        if self.tool_call is not None:
            message["tool_calls"] = [self.tool_call]
        choice = {
            "index": 0,
            "message": message,
            "logprobs": None,
            "finish_reason": self.finish_reason,
        }
        return {**self._envelope("chat.completion"), "choices": [choice], "usage": self.usage()}

    def chunks(self, include_usage: bool) -> list[dict[str, Any]]:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return {**self._envelope("chat.completion.chunk"), "choices": [choice]}

        out = [chunk({"role": "assistant", "content": ""})]
        if self.tool_call is not None:
            call = {**self.tool_call, "index": 0}
            out.append(chunk({"tool_calls": [call]}))
        else:
            # One chunk per word, spaces kept so the joined deltas equal the full content.
            words = (self.content or "").split(" ")
            out += [chunk({"content": w if i == 0 else " " + w}) for i, w in enumerate(words)]
        out.append(chunk({}, self.finish_reason))
        if include_usage:
            # As the real API does: usage is null on every chunk but a last, choice-less one.
            for item in out:
                item["usage"] = None
            last = {**self._envelope("chat.completion.chunk"), "choices": [], "usage": self.usage()}
            out.append(last)
        return out


def _error_body(message: str, err_type: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": err_type, "param": None, "code": code}}


class _Handler(BaseHTTPRequestHandler):
    """Serves the fake API. One instance per request, run on a server thread."""

    # HTTP/1.1 keeps the openai client's connection pool alive; streams use chunked encoding.
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"req_fake_{self.server.owner.requests}")
        self.end_headers()
        self.wfile.write(data)

    def _send_sse(self, events: list[dict[str, Any]]) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        payloads = [f"data: {json.dumps(e)}\n\n" for e in events] + ["data: [DONE]\n\n"]
        for payload in payloads:
            raw = payload.encode()
            self.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
            self.wfile.flush()  # flush per event so clients really see a stream
        self.wfile.write(b"0\r\n\r\n")

    def do_GET(self) -> None:
        self.server.owner._count()
        if self.path.rstrip("/") == "/v1/models":
            models = [
                {"id": m, "object": "model", "created": 0, "owned_by": "fake"}
                for m in ("gpt-4o-mini", "gpt-4o", FAIL_MODEL)
            ]
            self._send_json(HTTPStatus.OK, {"object": "list", "data": models})
            return
        self._not_found()

    def do_POST(self) -> None:
        self.server.owner._count()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.split("?")[0].rstrip("/") != "/v1/chat/completions":
            self._not_found()
            return
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
                raise ValueError("'messages' must be a list")
        except ValueError as exc:
            error = _error_body(f"Invalid request body: {exc}", "invalid_request_error", None)
            self._send_json(HTTPStatus.BAD_REQUEST, error)
            return
        self.server.owner._record(body)
        if body.get("model") == FAIL_MODEL:
            message = "The server had an error while processing your request. (fake failure)"
            error = _error_body(message, "server_error", "internal_error")
            self._send_json(HTTPStatus.INTERNAL_SERVER_ERROR, error)
            return
        reply = _Reply(body)
        self.server.owner._served(reply)
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._send_sse(reply.chunks(include_usage))
        else:
            self._send_json(HTTPStatus.OK, reply.completion())

    def _not_found(self) -> None:
        error = _error_body(f"Unknown path {self.path}", "invalid_request_error", "not_found")
        self._send_json(HTTPStatus.NOT_FOUND, error)


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that remembers open connections so ``stop()`` can cut keep-alives."""

    daemon_threads = True

    def __init__(self, owner: FakeOpenAIServer, address: tuple[str, int], verbose: bool) -> None:
        self.owner = owner
        self.verbose = verbose
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        with self.sockets_lock:
            self.open_sockets.add(sock)
        return sock, addr

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        # Idle keep-alive handler threads block in readline(); shutting the socket wakes them.
        with self.sockets_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class FakeOpenAIServer:
    """A fake OpenAI-compatible server on ``127.0.0.1``; a free port unless ``port`` is given.

    ``requests`` counts every HTTP request served; ``received`` holds the parsed JSON bodies of
    chat completion requests, oldest first.
    """

    def __init__(self, port: int = 0, host: str = "127.0.0.1", *, verbose: bool = False) -> None:
        self._address = (host, port)
        self._verbose = verbose
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._requests = 0
        self.received: list[dict[str, Any]] = []
        self.served: list[dict[str, Any]] = []

    # Internal hooks used by the handler threads.
    def _count(self) -> None:
        with self._lock:
            self._requests += 1

    def _record(self, body: dict[str, Any]) -> None:
        with self._lock:
            self.received.append(body)

    def _served(self, reply: _Reply) -> None:
        with self._lock:
            self.served.append(
                {
                    "model": reply.model,
                    "prompt_tokens": reply.prompt_tokens,
                    "completion_tokens": reply.completion_tokens,
                    "tool_call": reply.tool_call is not None,
                    "content": reply.content,
                }
            )

    @property
    def requests(self) -> int:
        """Number of HTTP requests served so far (all paths, errors included)."""
        with self._lock:
            return self._requests

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeOpenAIServer is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self._address[0]}:{self.port}"

    @property
    def base_url(self) -> str:
        """What to pass as ``openai.OpenAI(base_url=...)``: ``http://127.0.0.1:PORT/v1``."""
        return f"{self.url}/v1"

    def start(self) -> FakeOpenAIServer:
        """Bind and serve on a daemon thread; returns self for chaining."""
        if self._server is not None:
            return self
        self._server = _Server(self, self._address, self._verbose)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"fake-openai-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and free the port. Safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Run the fake server in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000, help="port (0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)
    server = FakeOpenAIServer(args.port, args.host, verbose=not args.quiet).start()
    print(f"fake OpenAI API on {server.base_url} (model {FAIL_MODEL!r} fails)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
