"""A handler written with the official Python SDK (aws-durable-execution-sdk-python 3.0.0) on the local
service, started and checkpointing over HTTP through boto3 as a user would.

The official SDK finds its EXECUTION operation, and so the user's event, by the last path segment of the
execution ARN (PROTOCOL.md §2): a service that gives that operation another id hands the handler ``{}``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aws_durable_execution_sdk_python import DurableContext
from aws_durable_execution_sdk_python import durable_execution as official_durable_execution

from eventflow.events.enums import OperationType
from eventflow.local import LocalService, VirtualClock
from eventflow.local.http import LocalHttpServer

from .test_http import client


@pytest.fixture
def server() -> Iterator[LocalHttpServer]:
    with LocalHttpServer(LocalService(VirtualClock())) as running:
        yield running


def test_the_execution_operation_id_is_the_last_segment_of_the_arn(server: LocalHttpServer) -> None:
    started, release = threading.Event(), threading.Event()
    tokens: list[str] = []

    def echo(event: Any, context: Any) -> dict[str, str]:
        tokens.append(event["CheckpointToken"])  # each invocation is handed a fresh one
        started.set()
        release.wait(10)  # in flight (its token valid) until the test has read the state
        return {"Status": "SUCCEEDED", "Result": "null"}

    server.service.register("echo", echo)
    try:
        execution = server.service.start_execution("echo", {"k": 1})
        (op,) = [op for op in execution.operations.values() if op.type == OperationType.EXECUTION]
        assert op.id == execution.arn.rsplit("/", 1)[-1]
        assert started.wait(10)
        state = client(server.url).get_durable_execution_state(
            DurableExecutionArn=execution.arn, CheckpointToken=tokens[0]
        )
        assert state["Operations"][0]["Id"] == op.id and state["Operations"][0]["Type"] == "EXECUTION"
    finally:
        release.set()


def test_an_official_sdk_handler_receives_its_event_and_checkpoints_over_http(
    server: LocalHttpServer,
) -> None:
    @official_durable_execution(boto3_client=client(server.url))
    def handler(event: Any, context: DurableContext) -> Any:
        doubled = context.step(lambda _: event["k"] * 2, name="double")
        return {"event": event, "doubled": doubled}

    server.service.register("official", handler)
    lam = client(server.url)
    answer = lam.invoke(FunctionName="official", Payload=json.dumps({"k": 21}).encode())
    assert "FunctionError" not in answer, answer["Payload"].read()
    assert json.loads(answer["Payload"].read()) == {"event": {"k": 21}, "doubled": 42}
    arn = answer["DurableExecutionArn"]
    events = lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
    assert [e["EventType"] for e in events][:3] == ["ExecutionStarted", "StepStarted", "StepSucceeded"]
