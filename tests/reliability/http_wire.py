"""A raw-socket HTTP/1.1 client for tests that must send what no well-behaved client would.

`exchange` writes bytes as given and reads back one response (status, headers, body), or reports how the
server ended the exchange instead: ``closed`` (no response at all) or ``hang`` (nothing within the timeout).
"""

from __future__ import annotations

import contextlib
import json
import socket
from dataclasses import dataclass, field
from typing import Any

from eventflow.local.client import lambda_client


@dataclass
class Answer:
    status: int | None  # None: no response (see `outcome`)
    outcome: str = "response"  # "response", "closed" or "hang"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def has_error_shape(self, head: bool = False) -> bool:
        """What botocore's rest-json parser needs of an error: the code in X-Amzn-ErrorType and a JSON body
        with a message (a HEAD answer carries the header only)."""
        if not self.headers.get("x-amzn-errortype"):
            return False
        if head:
            return True
        try:
            data: Any = json.loads(self.body)
        except ValueError:
            return False
        return isinstance(data, dict) and bool(data.get("message"))


def read_answer(sock: socket.socket, head: bool = False) -> Answer:
    data = b""
    try:
        while True:  # interim 1xx answers (100 Continue) come before the response
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    return Answer(None, "closed")
                data += chunk
            head_part, _, rest = data.partition(b"\r\n\r\n")
            lines = head_part.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ")[1])
            if status >= 200:
                break
            data = rest
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = 0 if head else int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                return Answer(status, "closed", headers, rest)
            rest += chunk
        return Answer(status, "response", headers, rest[:length])
    except TimeoutError:
        return Answer(None, "hang")
    except ConnectionResetError:
        return Answer(None, "closed")


def exchange(address: tuple[str, int], raw: bytes, timeout: float = 10.0, head: bool = False) -> Answer:
    with socket.create_connection(address, timeout=timeout) as sock:
        with contextlib.suppress(OSError):  # the server answered and closed before taking everything
            sock.sendall(raw)
        return read_answer(sock, head)


def request(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


boto3_client = lambda_client  # a lambda client as a user makes one, at the local service, without retries
