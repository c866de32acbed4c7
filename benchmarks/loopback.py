"""A loopback stand-in for the Lambda durable-execution API, over real HTTP, for the cold-start case.

It answers CheckpointDurableExecution and GetDurableExecutionState in botocore's REST-JSON shape for the
``lambda`` service (the request URIs of its service model), so an unmodified boto3 client pointed at it
with ``AWS_ENDPOINT_URL_LAMBDA`` does everything it does against AWS except cross a network: it resolves
credentials, signs, serialises, opens a connection, parses the answer. Like the in-process stubs it echoes
each updated operation in its new status with a fresh token and checks nothing.

The server is an asyncio one on its own event loop in a daemon thread of the benchmark process: it
blocks on its sockets and wakes only for requests (no polling loop), and it stops when the loop does.
HTTP/1.1 keep-alive, as botocore's connection pool expects; any other route gets a 404 in the service's
error shape.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

_PREFIX = "/2025-12-01/durable-executions/"
_STATUS_AFTER = {
    "START": "STARTED",
    "SUCCEED": "SUCCEEDED",
    "FAIL": "FAILED",
    "RETRY": "PENDING",
    "CANCEL": "CANCELLED",
}


@dataclass
class Counts:
    """What the server has answered so far (read between runs, when no request is in flight)."""

    checkpoints: int = 0
    updates: int = 0
    state_calls: int = 0
    other: int = 0
    paths: list[str] = field(default_factory=list)  # the first few unexpected routes, for the report

    @property
    def calls(self) -> int:
        return self.checkpoints + self.state_calls


def echo(update: dict[str, Any], now_s: float) -> dict[str, Any]:
    """The operation, in the wire's PascalCase, as the service reports it after ``update``."""
    operation: dict[str, Any] = {
        "Id": update["Id"],
        "Type": update["Type"],
        "Status": _STATUS_AFTER[update["Action"]],
        "StartTimestamp": now_s,
    }
    for key in ("ParentId", "Name", "SubType"):
        if key in update:
            operation[key] = update[key]
    outcome = {key: update[key] for key in ("Payload", "Error") if key in update}
    details = {"Result" if k == "Payload" else k: v for k, v in outcome.items()}
    if update["Type"] == "STEP":
        operation["StepDetails"] = {"Attempt": 1, **details}
    elif update["Type"] == "CONTEXT":
        operation["ContextDetails"] = details
    return operation


class LoopbackLambda:
    """``with LoopbackLambda() as server: ... server.url ...``: the service on 127.0.0.1, a free port."""

    def __init__(self) -> None:
        self.counts = Counts()
        self._serial = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="loopback-lambda", daemon=True)
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LoopbackLambda:
        self._server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        server = self._server
        if server is not None:
            asyncio.run_coroutine_threadsafe(self._close(server), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    @staticmethod
    async def _close(server: asyncio.Server) -> None:
        server.close()
        await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readline()
                if not request:
                    return
                method, target, _ = request.decode("latin-1").split(" ", 2)
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                body = await reader.readexactly(length) if length else b""
                status, answer = self._route(method, target, body)
                payload = json.dumps(answer).encode()
                head = (
                    f"HTTP/1.1 {status} {'OK' if status == 200 else 'Not Found'}\r\n"
                    "Content-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\n"
                    + ("" if status == 200 else "x-amzn-ErrorType: ResourceNotFoundException\r\n")
                    + "\r\n"
                )
                writer.write(head.encode("latin-1") + payload)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            return
        finally:
            writer.close()

    def _route(self, method: str, target: str, body: bytes) -> tuple[int, dict[str, Any]]:
        path = target.split("?", 1)[0]
        if path.startswith(_PREFIX) and method == "POST" and path.endswith("/checkpoint"):
            return 200, self._checkpoint(json.loads(body or b"{}"))
        if path.startswith(_PREFIX) and method == "GET" and path.endswith("/state"):
            self.counts.state_calls += 1
            return 200, {"Operations": []}
        self.counts.other += 1
        if len(self.counts.paths) < 5:
            self.counts.paths.append(f"{method} {path}")
        return 404, {"Type": "User", "message": f"no route {method} {path}"}

    def _checkpoint(self, request: dict[str, Any]) -> dict[str, Any]:
        updates: list[dict[str, Any]] = request.get("Updates") or []
        self.counts.checkpoints += 1
        self.counts.updates += len(updates)
        latest = {update["Id"]: update for update in updates}  # START + SUCCEED of one step: echo once
        now_s = time.time()
        return {
            "CheckpointToken": f"token-{next(self._serial)}",
            "NewExecutionState": {"Operations": [echo(u, now_s) for u in latest.values()]},
        }
