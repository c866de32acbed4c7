"""eventflow's Python runtime: ``python -m eventflow.local.python_worker MODULE:HANDLER``.

A minimal Lambda Runtime API client, the process behind each sandbox of a ``MODULE:HANDLER`` function
that ``eventflow serve`` runs out of process (`sandbox_pool.SandboxRuntime.python`). It does what
``awslambdaric`` does, without a compiled extension or its start-up cost: import the handler (an import
failure is reported with ``POST /init/error``), then fetch, run and answer invocations over one kept-alive
connection until the Runtime API goes away. The handler's checkpoints do not pass through here: the
durable SDK in the handler reaches the service at ``AWS_ENDPOINT_URL_LAMBDA`` with boto3, as on AWS.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib
import json
import os
import sys
import time
import traceback
from typing import Any

NEXT = "/2018-06-01/runtime/invocation/next"


class WorkerContext:
    """The Lambda context object a handler receives (the attributes awslambdaric's has)."""

    def __init__(self, request_id: str, function_arn: str, deadline_ms: int) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity: Any = None
        self.client_context: Any = None
        self.tenant_id: str | None = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _error(exc: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_exception(exc)[1:],
    }


def load_handler(spec: str) -> Any:
    """``MODULE:ATTRIBUTE`` (dots allowed in both) -> the callable; the working directory is importable."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"expected MODULE:HANDLER, got {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise TypeError(f"{spec} is not callable")
    return target


class RuntimeApi:
    """One kept-alive connection to the sandbox's Runtime API."""

    def __init__(self, address: str) -> None:
        self._connection = http.client.HTTPConnection(address)

    def post(self, path: str, body: Any, error_type: str | None = None) -> None:
        headers = {"Content-Type": "application/json"}
        if error_type:
            headers["Lambda-Runtime-Function-Error-Type"] = error_type
        self._connection.request("POST", path, json.dumps(body).encode(), headers)
        self._connection.getresponse().read()

    def next(self) -> tuple[http.client.HTTPResponse, bytes] | None:
        self._connection.request("GET", NEXT)
        response = self._connection.getresponse()
        body = response.read()
        return (response, body) if response.status == 200 else None


def _die_with_service() -> None:
    """End this process when the service that started it goes away, even in the middle of a handler (a
    sandbox never outlives its service). The service holds the write end of this process's stdin and
    never writes to it: a thread blocked reading it wakes at end of file, when the service is gone."""
    import threading

    def watch() -> None:
        with contextlib.suppress(OSError, ValueError):
            sys.stdin.buffer.read()
        os._exit(1)

    if sys.stdin is not None and not sys.stdin.isatty():
        threading.Thread(target=watch, name="eventflow-worker-parent-watch", daemon=True).start()


def main(argv: list[str]) -> int:
    _die_with_service()
    api = RuntimeApi(os.environ["AWS_LAMBDA_RUNTIME_API"])
    try:
        if len(argv) != 1:
            raise ValueError("usage: python -m eventflow.local.python_worker MODULE:HANDLER")
        handler = load_handler(argv[0])
    except Exception as exc:
        error = _error(exc)
        error["errorType"] = "Runtime.ImportModuleError"
        api.post("/2018-06-01/runtime/init/error", error, "Runtime.ImportModuleError")
        return 1
    while True:
        try:
            fetched = api.next()
        except (OSError, http.client.HTTPException):  # the sandbox's Runtime API is gone
            return 0
        if fetched is None:
            return 0
        response, body = fetched
        request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
        context = WorkerContext(
            request_id,
            response.headers.get("Lambda-Runtime-Invoked-Function-Arn", ""),
            int(response.headers.get("Lambda-Runtime-Deadline-Ms") or 0),
        )
        base = f"/2018-06-01/runtime/invocation/{request_id}"
        try:
            output = handler(json.loads(body), context)
        except Exception as exc:  # the function error; anything harder ends the process, as in Lambda
            api.post(f"{base}/error", _error(exc), f"Unhandled.{type(exc).__name__}")
            continue
        try:
            api.post(f"{base}/response", output)
        except TypeError as exc:  # not JSON-serialisable
            api.post(f"{base}/error", _error(exc), "Runtime.MarshalError")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
