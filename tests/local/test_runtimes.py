"""Function runtimes: handlers in worker processes, through the Runtime API, behind an Invoke endpoint.

Each test runs a real local service over HTTP; the handlers run in processes of their own and checkpoint
back to it over its endpoint, as they would on AWS. What is asserted is what Lambda records: a sandbox that
dies ends its invocation with ``Runtime.ExitError``, one that runs too long with ``Sandbox.Timedout``, both
are retried, and the service goes on serving.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from eventflow.events.enums import ExecutionStatus
from eventflow.local import engine
from eventflow.local.clock import RealClock
from eventflow.local.engine import LocalService
from eventflow.local.function_specs import RuntimeOptions, runtime_for
from eventflow.local.functions import LambdaContext
from eventflow.local.http import LocalHttpServer
from eventflow.local.remote_invoke import RemoteInvokeRuntime
from eventflow.local.runtime import FunctionError
from eventflow.local.sandbox_pool import SandboxRuntime

FLOWS = '''
import ctypes
import os

from eventflow import durable_execution


@durable_execution
def steps(event, ctx):
    value = ctx.step(lambda _: event["n"] + 1, name="inc")
    return {"value": value, "pid": os.getpid(), "endpoint": os.environ["AWS_ENDPOINT_URL_LAMBDA"]}


@durable_execution
def exits(event, ctx):
    ctx.step(lambda _: "done before the crash", name="before")
    os._exit(3)


@durable_execution
def segfaults(event, ctx):
    ctypes.string_at(0)


@durable_execution
def stalls_once(event, ctx):
    if not os.path.exists(event["marker"]):  # a file: the killed sandbox's successor is a fresh process
        open(event["marker"], "w").close()
        with open(event["fifo"]) as never:  # blocks: nobody opens the FIFO for writing
            never.read()
    return ctx.step(lambda _: "second try", name="after")


@durable_execution
def meet(event, ctx):
    def rendezvous(_):
        # Opening a FIFO blocks until the other side opens it: this step only finishes if the other
        # execution's invocation runs at the same time.
        if event["role"] == "reader":
            with open(event["fifo"]) as fifo:
                return fifo.read()
        with open(event["fifo"], "w") as fifo:
            fifo.write("hello")
        return "sent"

    return ctx.step(rendezvous, name="rendezvous")


def plain(event, context):
    return {"plain": event["n"], "request": context.aws_request_id}
'''


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LocalService, str]]:
    """A real-clock service over HTTP, with ``flows`` importable from the current directory."""
    (tmp_path / "flows.py").write_text(FLOWS)
    monkeypatch.chdir(tmp_path)
    service = LocalService(RealClock(), concurrency=4)
    server = LocalHttpServer(service).start()
    try:
        yield service, server.url
    finally:
        server.stop()
        service.close_runtimes()


def register(service: LocalService, url: str, name: str, spec: str, **options: Any) -> None:
    def load(_: str) -> Any:
        raise AssertionError("not in process")

    service.register(name, runtime_for(name, spec, RuntimeOptions(url), load), **options)


def completed_errors(service: LocalService, arn: str) -> list[dict[str, Any] | None]:
    """The error of each InvocationCompleted event, in order (None for one without)."""
    errors = []
    for event in service.history(arn):
        if event.event_type == "InvocationCompleted":
            details = event.invocation_completed_details
            assert details is not None
            payload = details.error.payload if details.error else None
            errors.append(payload.to_wire() if payload else None)
    return errors


def test_a_python_handler_runs_in_a_worker_process_and_checkpoints_over_http(
    app: tuple[LocalService, str],
) -> None:
    service, url = app
    register(service, url, "steps", "flows:steps")
    execution = service.start_execution("steps", {"n": 41})
    execution = service.wait_for(execution.arn, timeout=60)
    assert execution.status is ExecutionStatus.SUCCEEDED, execution.error
    result = json.loads(execution.result or "null")
    assert result["value"] == 42
    assert result["pid"] != os.getpid()
    assert result["endpoint"] == url
    assert completed_errors(service, execution.arn) == [None]


def test_a_handler_that_exits_fails_its_execution_after_the_retries_and_the_service_goes_on(
    app: tuple[LocalService, str],
) -> None:
    service, url = app
    register(service, url, "exits", "flows:exits")
    register(service, url, "steps", "flows:steps")
    crashed = service.wait_for(service.start_execution("exits").arn, timeout=60)
    assert crashed.status is ExecutionStatus.FAILED
    assert crashed.error is not None and crashed.error.error_type == "Runtime.ExitError"
    errors = completed_errors(service, crashed.arn)
    assert len(errors) == engine.MAX_LAMBDA_RETRIES + 1
    for error in errors:
        assert error is not None and error["ErrorType"] == "Runtime.ExitError"
        assert "Runtime exited with error: exit status 3" in error["ErrorMessage"]
    # The step before the crash was acknowledged, so each retry replays it instead of running it again.
    assert [e.event_type for e in service.history(crashed.arn)].count("StepSucceeded") == 1
    after = service.wait_for(service.start_execution("steps", {"n": 1}).arn, timeout=60)
    assert after.status is ExecutionStatus.SUCCEEDED


def test_a_segfault_is_recorded_as_the_sandbox_dying_of_a_signal(app: tuple[LocalService, str]) -> None:
    service, url = app
    register(service, url, "segfaults", "flows:segfaults")
    crashed = service.wait_for(service.start_execution("segfaults").arn, timeout=60)
    assert crashed.status is ExecutionStatus.FAILED
    error = completed_errors(service, crashed.arn)[0]
    assert error is not None and error["ErrorType"] == "Runtime.ExitError"
    assert "signal: segmentation fault" in error["ErrorMessage"]


def test_a_run_past_the_invocation_timeout_kills_the_sandbox_and_is_retried(
    app: tuple[LocalService, str], tmp_path: Path
) -> None:
    service, url = app
    register(service, url, "stalls", "flows:stalls_once", invocation_timeout_seconds=1)
    fifo = tmp_path / "never"
    os.mkfifo(fifo)
    event = {"marker": str(tmp_path / "marker"), "fifo": str(fifo)}
    execution = service.wait_for(service.start_execution("stalls", event).arn, timeout=60)
    assert execution.status is ExecutionStatus.SUCCEEDED, execution.error
    assert execution.result == '"second try"'
    first, second = completed_errors(service, execution.arn)
    assert first is not None and first["ErrorType"] == "Sandbox.Timedout"
    assert second is None


def test_invocations_of_different_executions_run_at_the_same_time(
    app: tuple[LocalService, str], tmp_path: Path
) -> None:
    service, url = app
    register(service, url, "meet", "flows:meet", invocation_timeout_seconds=30)
    fifo = tmp_path / "meeting"
    os.mkfifo(fifo)
    reader = service.start_execution("meet", {"role": "reader", "fifo": str(fifo)})
    writer = service.start_execution("meet", {"role": "writer", "fifo": str(fifo)})
    assert service.wait_for(reader.arn, timeout=60).result == '"hello"'
    assert service.wait_for(writer.arn, timeout=60).result == '"sent"'


def test_the_pool_reuses_warm_sandboxes_and_stays_within_its_bound(tmp_path: Path) -> None:
    (tmp_path / "flows.py").write_text(FLOWS)
    runtime = SandboxRuntime.python(
        "plain", "flows:plain", "http://127.0.0.1:9", max_sandboxes=1, cwd=str(tmp_path)
    )
    clock = RealClock()
    try:
        answers = [
            runtime.invoke({"n": n}, LambdaContext.starting_at(clock.now(), "plain", "arn", clock), 30)
            for n in range(3)
        ]
        assert [answer["plain"] for answer in answers] == [0, 1, 2]
        assert len({answer["request"] for answer in answers}) == 3
        assert runtime.sandboxes == 1
    finally:
        runtime.close()
    assert runtime.sandboxes == 0


def test_a_module_that_fails_to_import_is_a_function_error(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("raise ImportError('no such thing')\n")
    runtime = SandboxRuntime.python("broken", "broken:handler", "http://127.0.0.1:9", cwd=str(tmp_path))
    clock = RealClock()
    try:
        with pytest.raises(FunctionError) as caught:
            runtime.invoke({}, LambdaContext.starting_at(clock.now(), "broken", "arn", clock), 30)
        assert caught.value.error.error_type == "Runtime.ImportModuleError"
        assert "no such thing" in (caught.value.error.error_message or "")
    finally:
        runtime.close()


def test_awslambdaric_runs_unmodified_through_the_runtime_api(app: tuple[LocalService, str]) -> None:
    service, url = app
    register(service, url, "steps", f"cmd:{sys.executable} -m awslambdaric flows.steps")
    execution = service.wait_for(service.start_execution("steps", {"n": 1}).arn, timeout=60)
    assert execution.status is ExecutionStatus.SUCCEEDED, execution.error
    assert json.loads(execution.result or "null")["value"] == 2


class _InvokeEndpoint(BaseHTTPRequestHandler):
    """A stand-in for SAM's ``start-lambda``: Lambda's Invoke API, running ``flows.steps`` in this process
    with its checkpoints sent to the service over boto3 (the endpoint the test server was given)."""

    server: Any
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        assert self.path == "/2015-03-31/functions/remote/invocations"
        event = json.loads(body)
        headers: dict[str, str] = {}
        execution_op = event["InitialExecutionState"]["Operations"][0]
        if execution_op["ExecutionDetails"].get("InputPayload") == '"drop"':
            self.close_connection = True  # the container died mid-invocation
            self.connection.close()
            return
        try:
            output = self.server.handler(event, None)
        except Exception as exc:
            headers["X-Amz-Function-Error"] = "Unhandled"
            output = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
        data = json.dumps(output).encode()
        self.send_response(200)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return None


def test_a_remote_invoke_endpoint_runs_the_function(
    app: tuple[LocalService, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    service, url = app
    from eventflow import durable_execution
    from eventflow.backends.aws import LambdaBackend

    backend = LambdaBackend(endpoint_url=url, region_name="us-east-1", aws_access_key_id="x",
                            aws_secret_access_key="x")

    @durable_execution(backend=backend)
    def remote(event: Any, ctx: Any) -> Any:
        return ctx.step(lambda _: event["n"] * 3, name="triple")

    endpoint = ThreadingHTTPServer(("127.0.0.1", 0), _InvokeEndpoint)
    endpoint.handler = remote  # type: ignore[attr-defined]
    thread = threading.Thread(target=endpoint.serve_forever, daemon=True)
    thread.start()
    try:
        register(service, url, "remote", f"http://127.0.0.1:{endpoint.server_address[1]}")
        done = service.wait_for(service.start_execution("remote", {"n": 5}).arn, timeout=60)
        assert done.status is ExecutionStatus.SUCCEEDED, done.error
        assert done.result == "15"
        dropped = service.wait_for(service.start_execution("remote", "drop").arn, timeout=60)
        assert dropped.status is ExecutionStatus.FAILED
        assert dropped.error is not None and dropped.error.error_type == "Runtime.ExitError"
    finally:
        endpoint.shutdown()
        endpoint.server_close()


def test_a_bad_remote_url_is_refused() -> None:
    with pytest.raises(Exception, match="expected http://HOST:PORT"):
        RemoteInvokeRuntime("f", "ftp://somewhere")
