"""The function both services run in `benchmarks.serve`: an official-SDK handler with three steps.

Its boto3 client (pointed at ``AWS_ENDPOINT_URL_LAMBDA``, the service under test) times every
CheckpointDurableExecution call with botocore's before/after-call hooks and appends the timings, in seconds,
to the file ``BENCH_TIMINGS`` names after each invocation. ``python -m benchmarks.serve_functions PORT``
hosts it behind a Lambda Invoke endpoint, which is how ``dex-local-runner`` reaches functions.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import uuid
from typing import Any

import boto3
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from botocore.config import Config

_local = threading.local()
_lock = threading.Lock()
_timings: list[float] = []


def _before(**_: Any) -> None:
    _local.started = time.perf_counter()


def _after(**_: Any) -> None:
    with _lock:
        _timings.append(time.perf_counter() - _local.started)


def _client() -> Any:
    lam = boto3.client(
        "lambda",
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 1}, max_pool_connections=64),
    )
    lam.meta.events.register("before-call.lambda.CheckpointDurableExecution", _before)
    lam.meta.events.register("after-call.lambda.CheckpointDurableExecution", _after)
    return lam


@durable_execution(boto3_client=_client())
def _steps(event: Any, context: DurableContext) -> Any:
    total = 0
    for i in range(3):
        total += context.step(lambda _, i=i: i + int(event.get("n", 0)), name=f"s{i}")
    return total


def handler(event: Any, context: Any) -> Any:
    try:
        return _steps(event, context)
    finally:
        with _lock:
            taken = list(_timings)
            _timings.clear()
        path = os.environ.get("BENCH_TIMINGS")
        if path and taken:
            with open(path, "a") as file:
                file.write("".join(f"{t}\n" for t in taken))


class _Context:
    """The Lambda context attributes the official SDK reads."""

    def __init__(self, name: str) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = name
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
        self.memory_limit_in_mb = 128
        self.log_group_name = self.log_stream_name = name
        self._deadline = time.monotonic() + 900

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def host(port: int) -> None:
    """A Lambda Invoke endpoint (POST /2015-03-31/functions/NAME/invocations) on eventflow's HTTP server."""
    from eventflow.local.http_server import HttpRequest, HttpResponse, HttpServer, Limits

    class Invoke:
        def __call__(self, request: HttpRequest) -> HttpResponse:
            name = request.path.split("/")[3]
            output = handler(json.loads(request.body or b"{}"), _Context(name))
            return HttpResponse(200, json.dumps(output).encode(), {"Content-Type": "application/json"})

        def error(self, status: int, code: str, message: str) -> HttpResponse:
            return HttpResponse(status, json.dumps({"message": message}).encode(), {"X-Amzn-ErrorType": code})

    server = HttpServer(("127.0.0.1", port), Invoke(), Limits(max_connections=256))
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    host(int(sys.argv[1]))
