"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests: scripted replies and injected faults.

    with OpenAITestServer(reply=lambda req: "Hello") as server:
        backend = OpenAIBackend(base_url=server.base_url, model="test")

`reply(request)` returns the text of each completion (request: the parsed JSON body plus "prompt", the
last user message or the completion prompt). `faults` injects, per request index (0-based, in order
of arrival), one of:
  ("429", seconds)    429 with a Retry-After header     ("500",)        500 with a JSON error
  ("broken_json",)    200 whose body is cut-off JSON     ("wrong_shape",) 200 JSON without `choices`
  ("text",)           200 with a text/plain body         ("drop",)        close the connection, no reply
  ("slow", seconds)   sleep, then reply normally         ("401",), ("400",), ...: that status
`faults` is a dict {index: fault} or a callable index -> fault | None. `delay` sleeps before every reply.
Handler threads are daemons; sleeps are bounded by the values given.

Like vLLM and OpenAI, the server applies the request's `stop` (the text ends before the first stop
string; finish_reason "stop") and `max_tokens` / `max_completion_tokens` (finish_reason "length"), a
token being a word with the whitespace before it (`tokens()`); `apply_params=False` turns that off.
`reject_fields` answers 422 {"detail": "Unexpected fields ..."} to a request holding any of those body
fields, as `transformers serve` does (a server without structured output); the reply function sees `response_format` / `guided_json` in the request.
"""
from __future__ import annotations

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

Fault = tuple
Reply = Callable[[dict], str]


def prompt_of(body: dict) -> str:
    if "messages" in body:
        users = [m.get("content", "") for m in body["messages"] if m.get("role") == "user"]
        return users[-1] if users else ""
    return str(body.get("prompt", ""))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True


class OpenAITestServer:
    def __init__(self, reply: Reply | None = None, faults: dict[int, Fault] | Callable[[int], Fault | None] | None = None,
                 delay: float = 0.0, port: int = 0, apply_params: bool = True, reject_fields: tuple[str, ...] = ()):
        self.reply = reply or (lambda req: "OK")
        self.apply_params, self.reject_fields = apply_params, tuple(reject_fields)
        self.faults = faults or {}
        self.delay = delay
        self.requests: list[dict] = []  # every request body, with "headers" and "path"
        self.lock = threading.Lock()
        self.count = 0
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests handled at once
        self.port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def fault_for(self, index: int) -> Fault | None:
        if callable(self.faults):
            return self.faults(index)
        return self.faults.get(index)

    def start(self) -> "OpenAITestServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json",
                      headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # /v1/models
                self._send(200, json.dumps({"object": "list", "data": [{"id": "test", "object": "model"}]}).encode())

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {}
                body["prompt_text"] = prompt_of(body)
                with server.lock:
                    index = server.count
                    server.count += 1
                    server.requests.append({**body, "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}})
                with server.lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._handle(index, body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with server.lock:
                        server.in_flight -= 1

            def _handle(self, index: int, body: dict) -> None:
                fault = server.fault_for(index)
                if server.delay:
                    time.sleep(server.delay)
                kind = fault[0] if fault else None
                if kind == "drop":
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                if kind == "429":
                    self._send(429, b'{"error": {"message": "rate limited", "type": "rate_limit"}}',
                               headers={"Retry-After": str(fault[1])})
                    return
                if kind and kind.isdigit():
                    self._send(int(kind), json.dumps({"error": {"message": f"injected {kind}"}}).encode())
                    return
                if kind == "slow":
                    time.sleep(fault[1])
                if rejected := [f for f in server.reject_fields if f in body]:  # as `transformers serve` does
                    detail = f"Unexpected fields in the request: {set(rejected)}"
                    self._send(422, json.dumps({"detail": detail}).encode())
                    return
                text = server.reply({**body, "prompt": body["prompt_text"]})
                text, finish = apply_params(text, body) if server.apply_params else (text, "stop")
                if kind == "broken_json":
                    self._send(200, b'{"id": "x", "choices": [{"index": 0, "message": {"content": "cut')
                elif kind == "wrong_shape":
                    self._send(200, json.dumps({"id": "x", "object": "chat.completion", "result": text}).encode())
                elif kind == "text":
                    self._send(200, text.encode(), ctype="text/plain")
                else:
                    self._send(200, json.dumps(completion_body(body, text, finish)).encode())

        self._server = _Server(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "OpenAITestServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def tokens(text: str) -> list[str]:
    """The test server's tokens: each word with the whitespace before it (joined, they give `text`)."""
    return re.findall(r"\s*\S+|\s+$", text)


def apply_params(text: str, request: dict) -> tuple[str, str]:
    """(text, finish_reason) as a server returns them: cut before the first stop string that generation
    reaches within the token limit ("stop"), else at the token limit ("length")."""
    stops = request.get("stop") or []
    stops = [stops] if isinstance(stops, str) else list(stops)
    limit = request.get("max_completion_tokens") or request.get("max_tokens")
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=None)
    kept = text if cut is None else text[:cut]
    pieces = tokens(text)
    if limit is not None and len(tokens(kept)) > limit:
        return "".join(pieces[:limit]), "length"
    return kept, "stop"


def completion_body(request: dict, text: str, finish: str = "stop") -> dict:
    if "messages" in request:
        return {"id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
                "model": request.get("model", "test"),
                "choices": [{"index": 0, "finish_reason": finish,
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
    return {"id": "cmpl-test", "object": "text_completion", "created": int(time.time()),
            "model": request.get("model", "test"),
            "choices": [{"index": 0, "finish_reason": finish, "text": text, "logprobs": None}]}


if __name__ == "__main__":  # a standalone server for manual tries: python -m tests.servers.openai_server
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    srv = OpenAITestServer(reply=lambda req: f"echo: {req['prompt'][:80]}", delay=args.delay, port=args.port).start()
    print(f"serving on {srv.base_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()
