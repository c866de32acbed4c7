"""The HTTP server at the protocol level, over real sockets to 127.0.0.1: every request it refuses is
answered with a 4xx in the service's error shape, nothing holds a connection thread forever, and the number
of connection threads is bounded."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from eventflow.local import LocalService, VirtualClock
from eventflow.local.http import LocalHttpServer
from eventflow.local.http_server import Limits

from .http_wire import Answer, boto3_client, exchange, read_answer, request

LIMITS = Limits(
    max_connections=8,
    idle_timeout=1.0,
    read_timeout=0.5,
    max_request_line=4096,
    max_header_bytes=8192,
    max_headers=20,
)


@pytest.fixture
def server() -> Iterator[LocalHttpServer]:
    with LocalHttpServer(LocalService(VirtualClock()), limits=LIMITS) as running:
        yield running


def refused(answer: Answer, status: int) -> None:
    assert answer.outcome == "response" and answer.status == status, answer
    assert answer.has_error_shape(), answer
    assert answer.headers.get("connection") == "close"


def test_deep_json_and_huge_integers_are_400s(server: LocalHttpServer) -> None:
    deep = b"[" * 5000 + b"]" * 5000
    path = "/2025-12-01/durable-executions/arn/checkpoint"
    answer = exchange(server.server_address, request("POST", path, deep))
    assert answer.status == 400 and answer.has_error_shape(), answer
    nested = json.dumps({"CheckpointToken": "t", "Updates": []})[:-1].encode() + b', "X": ' + deep + b"}"
    assert exchange(server.server_address, request("POST", path, nested)).status in (400, 404)
    big = "/2025-12-01/functions/fn/durable-executions?StartedAfter=100000000000000000000"
    server.service.register("fn", lambda event, context: None)
    answer = exchange(server.server_address, request("GET", big))
    assert answer.status == 400 and answer.has_error_shape(), answer


@pytest.mark.parametrize("method", ["OPTIONS", "PATCH", "PUT", "DELETE", "BREW"])
def test_other_methods_on_a_known_path_are_405_with_allow(server: LocalHttpServer, method: str) -> None:
    answer = exchange(server.server_address, request(method, "/2025-12-01/durable-executions/x/checkpoint"))
    assert answer.status == 405 and answer.has_error_shape(), answer
    assert answer.headers["allow"] == "POST"


def test_head_is_get_without_a_body_and_the_connection_stays_usable(server: LocalHttpServer) -> None:
    with socket.create_connection(server.server_address, timeout=5) as sock:
        sock.sendall(request("HEAD", "/2025-12-01/durable-executions/nope"))
        answer = read_answer(sock, head=True)
        assert answer.status == 404 and answer.has_error_shape(head=True) and answer.body == b""
        sock.sendall(request("GET", "/2025-12-01/durable-executions/nope"))  # same connection
        second = read_answer(sock)
        assert second.status == 404 and second.has_error_shape(), second


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET /\r\n\r\n", 400),  # HTTP/0.9
        (b"GET / HTTP/2.0\r\n\r\n", 400),  # never 505
        (b"GET / HTTP/1.1 extra\r\n\r\n", 400),
        (b"G@T / HTTP/1.1\r\n\r\n", 400),
        (b"GET nopath HTTP/1.1\r\n\r\n", 400),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),  # TLS to a plain-HTTP port
        (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\n" + b"".join(b"X%d: y\r\n" % i for i in range(30)) + b"\r\n", 431),
        (b"GET / HTTP/1.1\r\n folded\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nno colon\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411),
        (b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", 413),
    ],
)
def test_malformed_requests_get_the_error_shape(server: LocalHttpServer, raw: bytes, status: int) -> None:
    refused(exchange(server.server_address, raw), status)


@pytest.mark.parametrize(
    "raw",
    [
        b"POST /2025-12-01/durable-execution-callbacks/x/succeed HTTP/1.1\r\n"
        b"Content-Length: 100\r\n\r\nshort",
        b"GET / HTTP/1.1\r\nHost: x\r\n",  # headers never end
        b"GET / HTTP/1.1",  # request line never ends
    ],
)
def test_a_request_that_stalls_gets_a_408_after_the_read_timeout(server: LocalHttpServer, raw: bytes) -> None:
    started = time.monotonic()
    answer = exchange(server.server_address, raw, timeout=10)
    if raw.endswith(b"HTTP/1.1"):  # nothing but a partial line: the connection was idle, closed quietly
        assert answer.outcome == "closed", answer
    else:
        refused(answer, 408)
    assert time.monotonic() - started < 5


def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout(server: LocalHttpServer) -> None:
    with socket.create_connection(server.server_address, timeout=10) as sock:
        sock.sendall(request("GET", "/2025-12-01/durable-executions/nope"))
        assert read_answer(sock).status == 404
        started = time.monotonic()
        assert sock.recv(1) == b""  # the server closed it
        assert LIMITS.idle_timeout * 0.9 <= time.monotonic() - started < 5


@pytest.fixture
def patient_server() -> Iterator[LocalHttpServer]:
    """The same limits with a read timeout that outlasts opening every connection on a loaded machine:
    a stalled request must still be stalled when the connections over the bound arrive."""
    limits = dataclasses.replace(LIMITS, read_timeout=3.0)
    with LocalHttpServer(LocalService(VirtualClock()), limits=limits) as running:
        yield running


def test_stalled_connections_never_hold_more_threads_than_the_bound(patient_server: LocalHttpServer) -> None:
    """Many connections stalled inside a request: the bound holds, and the ones over it get a 429."""
    server = patient_server
    before = threading.active_count()
    stalled = [
        socket.create_connection(server.server_address, timeout=10) for _ in range(LIMITS.max_connections)
    ]
    for sock in stalled:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # inside a request: not idle, cannot be shed
    extra = [exchange(server.server_address, b"", timeout=10) for _ in range(3)]
    for answer in extra:
        assert answer.status == 429 and answer.has_error_shape(), answer
    assert threading.active_count() <= before + LIMITS.max_connections
    for sock in stalled:  # each is answered 408 after the read timeout and closed: slots come back
        assert read_answer(sock).status == 408
        sock.close()
    lam = boto3_client(server.url)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_durable_execution(DurableExecutionArn="arn:nope")


def test_idle_connections_are_shed_to_make_room(server: LocalHttpServer) -> None:
    idle = [
        socket.create_connection(server.server_address, timeout=10) for _ in range(LIMITS.max_connections)
    ]
    for sock in idle:  # one request each, then idle on keep-alive
        sock.sendall(request("GET", "/2025-12-01/durable-executions/nope"))
        assert read_answer(sock).status == 404
    answer = exchange(server.server_address, request("GET", "/2025-12-01/durable-executions/nope"))
    assert answer.status == 404 and answer.has_error_shape()
    closed = 0
    for sock in idle:
        sock.settimeout(0.2)
        with contextlib.suppress(TimeoutError):
            closed += sock.recv(1) == b""
        sock.close()
    assert closed >= 1


def test_keep_alive_requests_share_one_connection(server: LocalHttpServer) -> None:
    with socket.create_connection(server.server_address, timeout=5) as sock:
        for _ in range(3):
            sock.sendall(request("GET", "/2025-12-01/durable-executions/nope"))
            assert read_answer(sock).status == 404
        sock.sendall(request("GET", "/2025-12-01/durable-executions/nope", headers={"Connection": "close"}))
        answer = read_answer(sock)
        assert answer.status == 404 and answer.headers.get("connection") == "close"
        assert sock.recv(1) == b""
