"""Crash semantics across restarts: a handler that takes its process down is retried by the service's
rules and then fails its execution, and never turns the service into a crash loop.

Two ways a process dies: a handler in the service's own process (``os._exit`` takes the service with
it), and ``eventflow serve`` killed while an invocation runs in a worker. Either way, the service that
opens the same SQLite file next records the lost invocation (InvocationCompleted with
``Runtime.ExitError``) and counts it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from eventflow.local import engine
from eventflow.local.clock import RealClock
from eventflow.local.engine import LocalService
from eventflow.local.sqlite_store import SqliteStore

IN_PROCESS = '''
import os
import sys

from eventflow import durable_execution
from eventflow.local.clock import RealClock
from eventflow.local.engine import LocalService
from eventflow.local.sqlite_store import SqliteStore


@durable_execution
def exits(event, ctx):
    ctx.step(lambda _: 1, name="one")
    os._exit(7)  # takes the whole service down: the handler runs in its process


service = LocalService(RealClock(), store=SqliteStore(sys.argv[1]))
service.register("exits", exits)
if sys.argv[2] == "start":
    service.start_execution("exits", name="crashy")
service.run_all()
service.store.close()
'''

FLOWS = '''
import os

from eventflow import durable_execution


@durable_execution
def exits(event, ctx):
    os._exit(5)


@durable_execution
def steps(event, ctx):
    return ctx.step(lambda _: event["n"] + 1, name="inc")


@durable_execution
def hangs_once(event, ctx):
    if not os.path.exists("hung"):
        open("hung", "w").close()
        with open(event["fifo"], "w") as fifo:  # blocks until the test opens it: the handler is running
            fifo.write("running\\n")
        with open(event["never"]) as never:  # blocks for good: nobody writes to it
            never.read()
    return ctx.step(lambda _: "after the restart", name="after")
'''


def invocation_errors(service: LocalService, arn: str) -> list[str | None]:
    types = []
    for event in service.history(arn):
        if event.event_type == "InvocationCompleted":
            details = event.invocation_completed_details
            assert details is not None
            payload = details.error.payload if details.error else None
            types.append(payload.error_type if payload else None)
    return types


def test_an_in_process_handler_that_kills_the_service_is_counted_at_each_restart(tmp_path: Path) -> None:
    script = tmp_path / "service.py"
    script.write_text(IN_PROCESS)
    db = str(tmp_path / "service.db")
    codes = [subprocess.run([sys.executable, str(script), db, "start"], check=False).returncode]
    for _ in range(engine.MAX_LAMBDA_RETRIES + 2):  # one restart per retry, one that fails it, one idle
        codes.append(subprocess.run([sys.executable, str(script), db, "resume"], check=False).returncode)
    assert codes == [7] * (engine.MAX_LAMBDA_RETRIES + 1) + [0, 0]
    service = LocalService(RealClock(), store=SqliteStore(db))
    try:
        [execution] = [service.get(row.arn) for row in service.list_executions("exits")[0]]
        assert execution.status.value == "FAILED"
        assert execution.error is not None and execution.error.error_type == "Runtime.ExitError"
        assert invocation_errors(service, execution.arn) == ["Runtime.ExitError"] * (
            engine.MAX_LAMBDA_RETRIES + 1
        )
    finally:
        service.store.close()


@contextmanager
def serve(tmp_path: Path, db: str) -> Iterator[tuple[subprocess.Popen[str], Any]]:
    """``eventflow serve`` on a free port over ``db``, its functions in worker processes."""
    (tmp_path / "flows.py").write_text(FLOWS)
    (tmp_path / "eventflow.toml").write_text(
        '[functions]\nexits = "flows:exits"\nsteps = "flows:steps"\nhangs = "flows:hangs_once"\n'
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "eventflow", "--db", db, "serve", "--config", "eventflow.toml",
         "--port", "0"],
        cwd=tmp_path, stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().split(" on ")[1].split(" ")[0]
    lam = boto3.client(
        "lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id="t",
        aws_secret_access_key="t", config=Config(retries={"max_attempts": 1}, read_timeout=120),
    )
    try:
        yield proc, lam
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=30)


def invoke(lam: Any, name: str, payload: Any) -> tuple[Any, str]:
    answer = lam.invoke(FunctionName=name, Payload=json.dumps(payload))
    return answer, answer["ResponseMetadata"]["HTTPHeaders"]["x-amz-durable-execution-arn"]


def test_a_handler_that_exits_leaves_serve_serving_before_and_after_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "serve.db")
    with serve(tmp_path, db) as (proc, lam):
        answer, crashed = invoke(lam, "exits", {})
        assert answer["FunctionError"] == "Unhandled"
        assert json.loads(answer["Payload"].read())["errorType"] == "Runtime.ExitError"
        answer, _ = invoke(lam, "steps", {"n": 1})
        assert json.loads(answer["Payload"].read()) == 2
        assert proc.poll() is None
    with serve(tmp_path, db) as (proc, lam):
        execution = lam.get_durable_execution(DurableExecutionArn=crashed)
        assert execution["Status"] == "FAILED"
        answer, crashed_again = invoke(lam, "exits", {})
        assert json.loads(answer["Payload"].read())["errorType"] == "Runtime.ExitError"
        answer, _ = invoke(lam, "steps", {"n": 2})
        assert json.loads(answer["Payload"].read()) == 3
        events = lam.get_durable_execution_history(DurableExecutionArn=crashed_again)["Events"]
        completed = [e for e in events if e["EventType"] == "InvocationCompleted"]
        assert len(completed) == engine.MAX_LAMBDA_RETRIES + 1
        assert proc.poll() is None


def test_serve_killed_mid_invocation_counts_the_lost_invocation_when_it_restarts(tmp_path: Path) -> None:
    db = str(tmp_path / "serve.db")
    fifo, never = tmp_path / "running", tmp_path / "never"
    os.mkfifo(fifo)
    os.mkfifo(never)
    with serve(tmp_path, db) as (proc, lam):
        payload = json.dumps({"fifo": str(fifo), "never": str(never)})
        answer = lam.invoke(
            FunctionName="hangs", InvocationType="Event", DurableExecutionName="hangs-1", Payload=payload
        )
        arn = answer["ResponseMetadata"]["HTTPHeaders"]["x-amz-durable-execution-arn"]
        with open(fifo) as running:  # returns once the handler has opened it: it is running now
            assert running.readline() == "running\n"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    with serve(tmp_path, db) as (proc, lam):
        events = lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
        lost = next(e for e in events if e["EventType"] == "InvocationCompleted")
        assert lost["InvocationCompletedDetails"]["Error"]["Payload"]["ErrorType"] == "Runtime.ExitError"
        answer = lam.invoke(FunctionName="steps", Payload=json.dumps({"n": 9}))  # still serving
        assert json.loads(answer["Payload"].read()) == 10
        # The same name and input find the execution again; the answer waits for its end: the retry.
        answer = lam.invoke(FunctionName="hangs", DurableExecutionName="hangs-1", Payload=payload)
        assert json.loads(answer["Payload"].read()) == "after the restart"
        events = lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
        kind = "InvocationCompleted"
        completed = [e["InvocationCompletedDetails"] for e in events if e["EventType"] == kind]
        errors = [details.get("Error") for details in completed]
        assert len(errors) == 2 and errors[1] is None
