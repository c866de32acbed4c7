"""The Lambda Runtime API (API version 2018-06-01), as one sandbox sees it.

Lambda gives every sandbox its own Runtime API at ``AWS_LAMBDA_RUNTIME_API`` (``host:port``): the runtime
inside asks for the next invocation (``GET /2018-06-01/runtime/invocation/next``, which blocks until there
is one) and answers it (``POST .../invocation/{id}/response`` or ``.../error``); a runtime that cannot
start reports ``POST .../init/error``. The official runtime interface clients (``awslambdaric`` for
Python, ``aws-lambda-ric`` for Node) and eventflow's own worker (`python_worker`) speak it, so one server
serves a function written in any language.

`RuntimeApiServer` is that endpoint for one sandbox: a small threaded HTTP server on loopback, with
TCP_NODELAY (a response's headers and body are separate writes) and keep-alive, so a warm invocation
costs two local round trips. `SandboxChannel` is the hand-over between the service's invoking thread
and the runtime's requests: one invocation at a time, guarded by a condition variable (no polling).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from eventflow.events.wire import ErrorObject

log = logging.getLogger(__name__)

PREFIX = "/2018-06-01/runtime"
MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 1024  # Lambda's 6 MiB response limit, plus room for the framing

_RESPONSE = re.compile(rf"{PREFIX}/invocation/(?P<id>[^/]+)/(?P<kind>response|error)")


@dataclass
class PendingInvocation:
    """One invocation handed to the sandbox: what the runtime's ``next`` returns."""

    request_id: str
    body: bytes
    headers: dict[str, str]
    limit_seconds: float = 900.0  # how long the invocation may run once the runtime has it
    taken_at: float | None = None  # monotonic time the runtime received it (its time runs from here)

    @property
    def taken(self) -> bool:
        return self.taken_at is not None


@dataclass
class SandboxChannel:
    """What the service and the sandbox's runtime share, under one condition variable."""

    cond: threading.Condition = field(default_factory=threading.Condition)
    pending: PendingInvocation | None = None
    outcome: tuple[bool, Any] | None = None  # (True, output) or (False, ErrorObject) for ``pending``
    init_error: ErrorObject | None = None
    closed: bool = False  # the sandbox is being torn down: a blocked ``next`` gives up

    def next_invocation(self) -> PendingInvocation | None:
        """Block until an invocation is handed over (None once the sandbox is closed)."""
        with self.cond:
            while not self.closed and (self.pending is None or self.pending.taken):
                self.cond.wait()
            if self.closed or self.pending is None:
                return None
            self.pending.taken_at = time.monotonic()
            deadline_ms = int((time.time() + self.pending.limit_seconds) * 1000)
            self.pending.headers["Lambda-Runtime-Deadline-Ms"] = str(deadline_ms)
            self.cond.notify_all()
            return self.pending

    def answer(self, request_id: str, ok: bool, value: Any) -> bool:
        """Record the runtime's answer; False if ``request_id`` is not the invocation in hand."""
        with self.cond:
            pending = self.pending
            if pending is None or not pending.taken or pending.request_id != request_id or self.outcome:
                return False
            self.outcome = (ok, value)
            self.cond.notify_all()
            return True

    def fail_init(self, error: ErrorObject) -> None:
        with self.cond:
            self.init_error = error
            self.cond.notify_all()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()


def error_from_body(body: bytes, error_type_header: str | None) -> ErrorObject:
    """The function error a runtime posted: ``{"errorMessage", "errorType", "stackTrace"}``, or anything
    else it sent (kept as the message), typed by the ``Lambda-Runtime-Function-Error-Type`` header."""
    try:
        data = json.loads(body) if body.strip() else {}
    except ValueError:
        data = {"errorMessage": body.decode(errors="replace")}
    if not isinstance(data, dict):
        data = {"errorMessage": json.dumps(data)}
    trace = data.get("stackTrace")
    if isinstance(trace, list):
        trace = [str(line) for line in trace]
    elif trace is not None:
        trace = [str(trace)]
    error_type = data.get("errorType") or error_type_header or "Runtime.Unknown"
    return ErrorObject(
        error_type=str(error_type),
        error_message=str(data.get("errorMessage") or ""),
        stack_trace=trace,
    )


class _RuntimeApiHandler(BaseHTTPRequestHandler):
    server: RuntimeApiServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._body()
        if self.path != f"{PREFIX}/invocation/next":
            self._json(404, {"errorType": "InvalidRoute", "errorMessage": f"no such route: GET {self.path}"})
            return
        pending = self.server.channel.next_invocation()
        if pending is None:  # the sandbox is closing: the runtime's loop ends with it
            self.close_connection = True
            self._json(410, {"errorType": "SandboxClosed", "errorMessage": "the sandbox is shutting down"})
            return
        self._send(200, pending.body, {"Content-Type": "application/json", **pending.headers})

    def do_POST(self) -> None:
        body = self._body()
        if body is None:
            return
        channel = self.server.channel
        if self.path == f"{PREFIX}/init/error":
            channel.fail_init(error_from_body(body, self.headers.get("Lambda-Runtime-Function-Error-Type")))
            self._json(202, {"status": "OK"})
            return
        match = _RESPONSE.fullmatch(self.path)
        if match is None:
            self._json(404, {"errorType": "InvalidRoute", "errorMessage": f"no such route: POST {self.path}"})
            return
        if match["kind"] == "response":
            try:
                ok, value = True, json.loads(body) if body.strip() else None
            except ValueError:  # Lambda passes a non-JSON response on as it is; a durable one is invalid
                ok, value = True, body.decode(errors="replace")
        else:
            ok, value = False, error_from_body(body, self.headers.get("Lambda-Runtime-Function-Error-Type"))
        if not channel.answer(match["id"], ok, value):
            self._json(400, {"errorType": "InvalidRequestID", "errorMessage": "Invalid request ID"})
            return
        self._json(202, {"status": "OK"})

    def _body(self) -> bytes | None:
        """The request body; None (answered with a 4xx) when it is malformed or too large."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_RESPONSE_BYTES:
            self.close_connection = True
            self._json(413, {"errorType": "RequestEntityTooLarge", "errorMessage": "bad or too large body"})
            return None
        return self.rfile.read(length) if length else b""

    def _json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, json.dumps(body).encode(), {"Content-Type": "application/json"})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("runtime api: " + format, *args)


class RuntimeApiServer(ThreadingHTTPServer):
    """One sandbox's Runtime API on an ephemeral loopback port. Its accept loop blocks in ``accept`` (no
    periodic wake-up to look for a shutdown flag, as ``serve_forever`` has): `close` shuts the listening
    socket down, which ends the loop."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, channel: SandboxChannel) -> None:
        super().__init__(("127.0.0.1", 0), _RuntimeApiHandler)
        self.channel = channel
        self._thread = threading.Thread(target=self._accept, name="eventflow-runtime-api", daemon=True)
        self._thread.start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A runtime that dies mid-request resets its connection: that is the sandbox's end, which
        `sandbox.Sandbox` reports; not a server error to print."""
        log.debug("runtime api connection from %s ended", client_address, exc_info=True)

    def _accept(self) -> None:
        while True:
            try:
                request, address = self.get_request()
            except OSError:  # the listening socket was shut down: the sandbox is gone
                return
            self.process_request(request, address)  # a thread per connection (ThreadingMixIn)

    @property
    def address(self) -> str:
        """``host:port``, the value of ``AWS_LAMBDA_RUNTIME_API``."""
        host, port = self.server_address[:2]
        return f"{host!s}:{port}"

    def close(self) -> None:
        self.channel.close()
        with contextlib.suppress(OSError):  # already shut down
            self.socket.shutdown(socket.SHUT_RDWR)
        self.server_close()
        self._thread.join()
