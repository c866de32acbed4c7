"""A small, hardened HTTP/1.1 server on stdlib sockets: what the local service's HTTP front runs on.

Why not `http.server`: its `BaseHTTPRequestHandler` writes headers and body in separate ``send`` calls (with
Nagle's algorithm on, every keep-alive request then waits ~40 ms for a delayed ACK), answers protocol errors
with HTML pages and 5xx codes (501 for HEAD/OPTIONS/PATCH, 505 for an unknown version), reads an HTTP/0.9
request's headers and a short body without a timeout (a thread held forever per stalled connection), and
starts one thread per connection without a bound. Why not a server library: ``serve`` is core, so its
front cannot live in an optional extra, and the service needs only HTTP/1.1 with Content-Length bodies over
loopback; the few rules below are easier to check than a dependency is to pin.

What this server guarantees, each in one place:

* **every answer comes from the application** (`Application`), also for requests that never reach it
  (`Application.error` renders malformed request lines, over-long lines and headers, unsupported versions,
  read timeouts, connection overload), so every response carries the service's error shape; protocol errors
  are 4xx, never 5xx;
* **one write per response** (status line, headers and body in one ``sendall``) and ``TCP_NODELAY``;
* **timeouts**: a connection idle between requests is closed after ``idle_timeout``; inside a request every
  read must make progress within ``read_timeout`` (a Content-Length longer than the body, a stalled header)
  or the request gets a 408 and the connection closes;
* **a bound on connection threads** (``max_connections``): at the bound an idle keep-alive connection is
  closed to make room; if none is idle the new connection gets a 429 and is closed.
"""

from __future__ import annotations

import contextlib
import logging
import re
import selectors
import socket
import threading
from dataclasses import dataclass
from http import HTTPStatus
from typing import BinaryIO, Protocol
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """What one connection and one request may take. The defaults suit a development service on loopback."""

    max_connections: int = 128
    idle_timeout: float = 60.0  # seconds a keep-alive connection may wait for its next request
    read_timeout: float = 10.0  # seconds any read inside a request may wait for data
    max_request_line: int = 16 * 1024
    max_header_bytes: int = 64 * 1024
    max_headers: int = 100
    max_body: int = 16 * 1024 * 1024


@dataclass
class HttpRequest:
    method: str
    path: str  # percent-encoded, as sent
    query: str
    version: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class HttpResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] | None = None


class Application(Protocol):
    """What the server serves: an answer for every request, and the error shape for those it refuses."""

    def __call__(self, request: HttpRequest) -> HttpResponse: ...

    def error(self, status: int, code: str, message: str) -> HttpResponse: ...


class ProtocolError(Exception):
    """A request the server refuses before the application sees it; the connection is closed after it."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


_METHOD = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_VERSION = re.compile(rb"HTTP/1\.[01]")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_TARGET = re.compile(rb"/[\x21-\x7e]*")  # origin-form; no spaces or control characters
_MAX_BLANK_LINES = 4  # blank lines tolerated before a request line (RFC 9112 2.2)


def _bad(message: str) -> ProtocolError:
    return ProtocolError(400, "BadRequestException", message)


def _read_line(reader: BinaryIO, limit: int, too_long: ProtocolError) -> bytes:
    line = reader.readline(limit + 1)
    if len(line) > limit:
        raise too_long
    return line


def parse_request_line(line: bytes) -> tuple[str, str, str, str]:
    """(method, path, query, version) of an HTTP/1.x request line; anything else is a 400."""
    if not line.endswith(b"\n"):
        raise _bad("the request line ended before its end of line")
    parts = line.rstrip(b"\r\n").split(b" ")
    if len(parts) == 2:
        raise _bad("HTTP/0.9 requests are not supported; send HTTP/1.1")
    if len(parts) != 3:
        raise _bad("the request line must be METHOD TARGET HTTP/1.1")
    method, target, version = parts
    if not _METHOD.fullmatch(method):
        raise _bad("the request method is not a token")
    if not _VERSION.fullmatch(version):
        raise _bad(f"unsupported protocol version {version.decode('latin-1')!r}; send HTTP/1.1")
    if not _TARGET.fullmatch(target):
        raise _bad("the request target must be a path starting with '/'")
    split = urlsplit(target.decode("ascii"))
    return method.decode("ascii"), split.path, split.query, version.decode("ascii")


def read_headers(reader: BinaryIO, limits: Limits) -> dict[str, str]:
    """The header fields up to the blank line, names lower-cased; repeated fields joined with ', '."""
    too_large = ProtocolError(
        431, "RequestHeaderFieldsTooLargeException", "the request headers are too large"
    )
    headers: dict[str, str] = {}
    total = 0
    while True:
        line = _read_line(reader, limits.max_header_bytes, too_large)
        total += len(line)
        if total > limits.max_header_bytes:
            raise too_large
        if not line.endswith(b"\n"):
            raise _bad("the connection closed inside the request headers")
        if line in (b"\r\n", b"\n"):
            return headers
        if len(headers) >= limits.max_headers:
            raise ProtocolError(431, "RequestHeaderFieldsTooLargeException", "too many request headers")
        if line[:1] in (b" ", b"\t"):
            raise _bad("folded header lines are not supported")
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep or not _HEADER_NAME.fullmatch(name):
            raise _bad(f"malformed header line {line[:60].decode('latin-1')!r}")
        key, value = name.lower(), value.strip(" \t\r\n")
        headers[key] = f"{headers[key]}, {value}" if key in headers else value


def body_length(headers: dict[str, str], limits: Limits) -> int:
    """The request body's length from Content-Length (none: 0); chunked bodies are refused."""
    if "transfer-encoding" in headers:
        raise ProtocolError(
            411, "LengthRequiredException", "send the request body with Content-Length, not Transfer-Encoding"
        )
    raw = headers.get("content-length")
    if raw is None:
        return 0
    values = {value.strip() for value in raw.split(",")}
    if len(values) != 1 or not (value := values.pop()).isascii() or not value.isdigit():
        raise _bad(f"invalid Content-Length {raw[:40]!r}")
    length = int(value)
    if length > limits.max_body:
        message = f"the request body is over {limits.max_body} bytes"
        raise ProtocolError(413, "RequestTooLargeException", message)
    return length


def read_body(reader: BinaryIO, length: int) -> bytes:
    body = reader.read(length) if length else b""
    if len(body) < length:
        raise _bad("the connection closed before the whole request body arrived")
    return body


def render(response: HttpResponse, keep_alive: bool, head: bool) -> bytes:
    """Status line, headers and body as the one buffer `Connection.send` writes."""
    status = response.status
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    lines = [f"HTTP/1.1 {status} {reason}"]
    headers = response.headers or {}
    lines.extend(f"{key}: {value}" for key, value in headers.items())
    if status >= 200 and status not in (204, 304):
        lines.append(f"Content-Length: {len(response.body)}")
    if not keep_alive:
        lines.append("Connection: close")
    head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head_bytes if head or not response.body else head_bytes + response.body


class HttpServer:
    """Accepts connections on one listening socket and serves each on its own (bounded) thread."""

    def __init__(self, address: tuple[str, int], app: Application, limits: Limits | None = None) -> None:
        self.app = app
        self.limits = limits or Limits()
        self._listener = socket.create_server(address, backlog=128)
        self.server_address: tuple[str, int] = self._listener.getsockname()[:2]
        self._wake_r, self._wake_w = socket.socketpair()
        self._lock = threading.Lock()
        self._open: dict[socket.socket, bool] = {}  # connection -> idle (waiting for its next request)
        self._stopping = False
        self._stopped = threading.Event()
        self._stopped.set()

    # -- the accept loop ---------------------------------------------------------------------------

    def serve_forever(self) -> None:
        """Accept connections until `shutdown`. Blocks in ``select`` on the listener and a wake-up socket:
        no polling interval."""
        self._stopped.clear()
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self._listener, selectors.EVENT_READ)
                selector.register(self._wake_r, selectors.EVENT_READ)
                while not self._stopping:
                    for key, _ in selector.select():
                        if key.fileobj is self._wake_r:
                            return
                        self._accept()
        finally:
            self._stopped.set()

    def _accept(self) -> None:
        try:
            sock, _ = self._listener.accept()
        except OSError:  # the client gave up between select and accept
            return
        with self._lock:
            if len(self._open) >= self.limits.max_connections and not self._shed_idle():
                self._refuse(sock)
                return
            self._open[sock] = False
        threading.Thread(target=self._serve, args=(sock,), name="eventflow-http-conn", daemon=True).start()

    def _shed_idle(self) -> bool:
        """Close one idle keep-alive connection (its thread then sees EOF and ends). Lock held."""
        for sock, idle in self._open.items():
            if idle:
                self._open[sock] = False  # not shed twice
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                return True
        return False

    def _refuse(self, sock: socket.socket) -> None:
        """At the connection bound with none idle: a 429 in the error shape, written without blocking."""
        response = self.app.error(429, "TooManyRequestsException", "too many open connections; retry later")
        with contextlib.suppress(OSError):
            sock.setblocking(False)
            sock.send(render(response, keep_alive=False, head=False))
        sock.close()

    def shutdown(self) -> None:
        """Stop the accept loop and wait for it to return."""
        self._stopping = True
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        self._stopped.wait()

    def server_close(self) -> None:
        """Close the listener and every open connection."""
        self._listener.close()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self._wake_r.close()
        self._wake_w.close()

    # -- one connection ---------------------------------------------------------------------------

    def _serve(self, sock: socket.socket) -> None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with sock.makefile("rb") as reader:
                first = True
                while self._serve_one(sock, reader, keep_alive=not first):
                    first = False
        except OSError:  # reset by the peer, shut down by `_shed_idle` or `server_close`
            pass
        except Exception:
            log.exception("the HTTP connection handler failed")
        finally:
            with self._lock:
                self._open.pop(sock, None)
            sock.close()

    def _set_idle(self, sock: socket.socket, idle: bool) -> None:
        with self._lock:
            if sock in self._open:
                self._open[sock] = idle

    def _serve_one(self, sock: socket.socket, reader: BinaryIO, *, keep_alive: bool) -> bool:
        """Read one request and answer it; False when the connection is to be closed. Only a keep-alive
        connection waiting for its next request is idle (and may be shed at the bound): a new one whose
        first request has not arrived yet is as busy as one inside a request."""
        limits = self.limits
        too_long = ProtocolError(414, "RequestUriTooLongException", "the request line is too long")
        sock.settimeout(limits.idle_timeout)
        if keep_alive:
            self._set_idle(sock, True)
        try:
            line = b""
            for _ in range(_MAX_BLANK_LINES + 1):
                line = _read_line(reader, limits.max_request_line, too_long)
                if line not in (b"\r\n", b"\n"):
                    break
        except TimeoutError:
            return False  # idle keep-alive connection: close it quietly
        except ProtocolError as exc:
            self._set_idle(sock, False)
            return self._refuse_request(sock, exc)
        self._set_idle(sock, False)
        if not line:
            return False  # the client closed the connection
        sock.settimeout(limits.read_timeout)
        try:
            method, path, query, version = parse_request_line(line)
            headers = read_headers(reader, limits)
            length = body_length(headers, limits)
            if length and headers.get("expect", "").lower() == "100-continue":
                sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            request = HttpRequest(method, path, query, version, headers, read_body(reader, length))
        except ProtocolError as exc:
            return self._refuse_request(sock, exc)
        except TimeoutError:
            error = ProtocolError(408, "RequestTimeoutException", "the request did not arrive in time")
            return self._refuse_request(sock, error)
        try:
            response = self.app(request)
        except Exception as exc:  # the application must answer; if it raises, that is our fault: a 500
            log.exception("internal error serving %s %s", method, unquote(path))
            response = self.app.error(500, "ServiceException", f"internal error: {type(exc).__name__}")
        connection = headers.get("connection", "").lower()
        keep_alive = "close" not in connection and (version == "HTTP/1.1" or "keep-alive" in connection)
        sock.sendall(render(response, keep_alive, head=method == "HEAD"))
        return keep_alive

    def _refuse_request(self, sock: socket.socket, error: ProtocolError) -> bool:
        response = self.app.error(error.status, error.code, str(error))
        with contextlib.suppress(OSError):
            sock.sendall(render(response, keep_alive=False, head=False))
        return False
