"""`LambdaBackend` against botocore's Stubber (the AWS network is the only thing mocked), and batching."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from eventflow import CheckpointError, DurableContext, StepConfig, durable_execution
from eventflow.backends.aws import LambdaBackend
from eventflow.core.batching import MAX_BATCH_UPDATES, split_batches
from eventflow.events.enums import OperationAction, OperationType
from eventflow.events.wire import OperationUpdate
from eventflow.retry import RetryDecision

ARN = "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST/durable-execution/n/1"


def client() -> Any:
    return boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")


def invocation(ops: list[dict[str, Any]] | None = None, marker: str | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Operations": [
            {
                "Id": "exec",
                "Type": "EXECUTION",
                "Status": "STARTED",
                "ExecutionDetails": {"InputPayload": '{"n": 2}'},
            },
            *(ops or []),
        ]
    }
    if marker:
        state["NextMarker"] = marker
    return {"DurableExecutionArn": ARN, "CheckpointToken": "t0", "InitialExecutionState": state}


def test_a_handler_checkpoints_through_boto3_with_the_token_chain() -> None:
    """Each step's START travels with its completion; the second call uses the token the first returned."""
    lam = client()
    first = "1ced8f5be2db23a6513eba4d819c73806424748a7bc6fa0d792cc1c7d1775a97"
    second = "c5faca15ac2f93578b39ef4b6bbb871bdedce4ddd584fd31f0bb66fade3947e6"

    def step_updates(op_id: str, name: str, payload: str) -> list[dict[str, str]]:
        start = {"Id": op_id, "Type": "STEP", "SubType": "Step", "Action": "START", "Name": name}
        return [start, {**start, "Action": "SUCCEED", "Payload": payload}]

    with Stubber(lam) as stub:
        for token, next_token, updates in (
            ("t0", "t1", step_updates(first, "double", "4")),
            ("t1", "t2", step_updates(second, "again", "8")),
        ):
            stub.add_response(
                "checkpoint_durable_execution",
                {"CheckpointToken": next_token, "NewExecutionState": {"Operations": []}},
                {
                    "DurableExecutionArn": ARN,
                    "CheckpointToken": token,
                    "ClientToken": ANY,
                    "Updates": updates,
                },
            )

        def workflow(event: Any, ctx: DurableContext) -> int:
            doubled = ctx.step(lambda _: event["n"] * 2, name="double")
            return ctx.step(lambda _: doubled * 2, name="again")

        handler = durable_execution(backend=LambdaBackend(lam))(workflow)
        assert handler(invocation(), None) == {"Status": "SUCCEEDED", "Result": "8"}
        stub.assert_no_pending_responses()


def test_the_initial_state_is_paged_with_get_durable_execution_state() -> None:
    lam = client()
    step_id = "1ced8f5be2db23a6513eba4d819c73806424748a7bc6fa0d792cc1c7d1775a97"
    with Stubber(lam) as stub:
        stub.add_response(
            "get_durable_execution_state",
            {
                "Operations": [
                    {
                        "Id": step_id,
                        "Type": "STEP",
                        "SubType": "Step",
                        "Name": "double",
                        "Status": "SUCCEEDED",
                        "StartTimestamp": 1700000000,
                        "StepDetails": {"Attempt": 1, "Result": "99"},
                    }
                ]
            },
            {"DurableExecutionArn": ARN, "CheckpointToken": "t0", "Marker": "page-2"},
        )
        handler = durable_execution(backend=LambdaBackend(lam))(
            lambda event, ctx: ctx.step(lambda _: 0, name="double")
        )
        # The recorded result is replayed; no checkpoint call is made.
        assert handler(invocation(marker="page-2"), None) == {"Status": "SUCCEEDED", "Result": "99"}
        stub.assert_no_pending_responses()


def test_a_retry_and_a_callback_answer_cross_boto3_as_the_service_speaks_them() -> None:
    """A RETRY carries Error and StepOptions; a CALLBACK START's answer (with datetime timestamps, as boto3
    parses them) gives the handler its CallbackId. botocore validates every request against its model."""
    lam = client()
    step_id = "1ced8f5be2db23a6513eba4d819c73806424748a7bc6fa0d792cc1c7d1775a97"
    callback_op = step_id  # the second workflow's first operation
    started = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    with Stubber(lam) as stub:
        stub.add_response(
            "checkpoint_durable_execution",
            {"CheckpointToken": "t1", "NewExecutionState": {"Operations": []}},
            {"DurableExecutionArn": ARN, "CheckpointToken": "t0", "ClientToken": ANY, "Updates": [
                {"Id": step_id, "Type": "STEP", "SubType": "Step", "Action": "START", "Name": "flaky"},
                {"Id": step_id, "Type": "STEP", "SubType": "Step", "Action": "RETRY", "Name": "flaky",
                 "Error": {"ErrorMessage": "try again", "ErrorType": "ValueError"},
                 "StepOptions": {"NextAttemptDelaySeconds": 7}},
            ]},
        )
        retry_in_7 = StepConfig(batch_start=True, retry_strategy=lambda exc, attempt: RetryDecision(True, 7))
        handler = durable_execution(backend=LambdaBackend(lam))(
            lambda event, ctx: ctx.step(_fails, name="flaky", config=retry_in_7)
        )
        assert handler(invocation(), None) == {"Status": "PENDING"}

        stub.add_response(
            "checkpoint_durable_execution",
            {"CheckpointToken": "t1", "NewExecutionState": {"Operations": [
                {"Id": callback_op, "Type": "CALLBACK", "SubType": "Callback", "Name": "approve",
                 "Status": "STARTED", "StartTimestamp": started,
                 "CallbackDetails": {"CallbackId": "cb-from-the-service"}},
            ]}},
            {"DurableExecutionArn": ARN, "CheckpointToken": "t0", "ClientToken": ANY, "Updates": [
                {"Id": callback_op, "Type": "CALLBACK", "SubType": "Callback", "Action": "START",
                 "Name": "approve", "CallbackOptions": ANY},
            ]},
        )
        seen: list[str] = []

        def wait_for_approval(event: Any, ctx: Any) -> Any:
            callback = ctx.create_callback("approve")
            seen.append(callback.callback_id)
            return callback.result()

        assert durable_execution(backend=LambdaBackend(lam))(wait_for_approval)(invocation(), None) == {
            "Status": "PENDING"
        }
        assert seen == ["cb-from-the-service"]
        stub.assert_no_pending_responses()


def _fails(step: Any) -> Any:
    raise ValueError("try again")


@pytest.mark.parametrize(
    ("code", "message", "terminal"),
    [
        ("InvalidParameterValueException", "Payload too large", True),
        ("InvalidParameterValueException", "Invalid checkpoint token", False),
        ("TooManyRequestsException", "Rate exceeded", False),
        ("ServiceException", "internal", False),
    ],
)
def test_service_errors_become_typed_checkpoint_errors(code: str, message: str, terminal: bool) -> None:
    lam = client()
    backend = LambdaBackend(lam)
    update = OperationUpdate(id="a", type=OperationType.STEP, action=OperationAction.START)
    with Stubber(lam) as stub:
        stub.add_client_error("checkpoint_durable_execution", code, message, 400)
        with pytest.raises(CheckpointError) as info:
            backend.checkpoint(ARN, "t0", [update])
    assert info.value.terminal is terminal
    assert info.value.code == code


def test_a_retryable_checkpoint_error_propagates_so_lambda_retries() -> None:
    lam = client()
    with Stubber(lam) as stub:
        stub.add_client_error("checkpoint_durable_execution", "ServiceException", "boom", 500)
        handler = durable_execution(backend=LambdaBackend(lam))(lambda event, ctx: ctx.step(lambda _: 1))
        with pytest.raises(CheckpointError):
            handler(invocation(), None)


def test_a_terminal_checkpoint_error_fails_the_execution() -> None:
    lam = client()
    with Stubber(lam) as stub:
        stub.add_client_error(
            "checkpoint_durable_execution", "InvalidParameterValueException", "too big", 400
        )
        handler = durable_execution(backend=LambdaBackend(lam))(lambda event, ctx: ctx.step(lambda _: 1))
        output = handler(invocation(), None)
    assert output["Status"] == "FAILED"
    assert output["Error"]["ErrorType"] == "eventflow.errors.CheckpointError"


def update(
    op_id: str, action: OperationAction, kind: OperationType = OperationType.STEP, payload: str = ""
) -> Any:
    return OperationUpdate(id=op_id, type=kind, action=action, payload=payload or None)


def test_batches_keep_order_and_pair_only_start_with_completion() -> None:
    s, ok, retry_ = OperationAction.START, OperationAction.SUCCEED, OperationAction.RETRY
    updates = [update("a", s), update("a", ok), update("b", s), update("b", retry_), update("b", s)]
    assert [[(u.id, u.action.value) for u in b] for b in split_batches(updates)] == [
        [("a", "START"), ("a", "SUCCEED"), ("b", "START"), ("b", "RETRY")],
        [("b", "START")],
    ]
    waits = [update("w", s, OperationType.WAIT), update("w", OperationAction.CANCEL, OperationType.WAIT)]
    assert len(split_batches(waits)) == 2  # a WAIT may not pair


def test_batches_respect_count_and_size_caps() -> None:
    many = [update(str(i), OperationAction.START) for i in range(MAX_BATCH_UPDATES * 2 + 1)]
    assert [len(b) for b in split_batches(many)] == [MAX_BATCH_UPDATES, MAX_BATCH_UPDATES, 1]
    big = [update(str(i), OperationAction.START, payload="x" * 200_000) for i in range(8)]
    sizes = [len(b) for b in split_batches(big)]
    assert sum(sizes) == 8 and all(n * 200_000 <= 750 * 1024 for n in sizes)


def test_a_checkpoint_answer_paging_back_to_a_seen_marker_is_refused_not_paged_forever() -> None:
    lam = client()
    backend = LambdaBackend(lam)
    with Stubber(lam) as stub:
        stub.add_response(
            "checkpoint_durable_execution",
            {"CheckpointToken": "t1", "NewExecutionState": {"Operations": [], "NextMarker": "m1"}},
        )
        stub.add_response("get_durable_execution_state", {"Operations": [], "NextMarker": "m2"})
        stub.add_response("get_durable_execution_state", {"Operations": [], "NextMarker": "m1"})
        with pytest.raises(CheckpointError, match="marker 'm1' twice"):
            backend.checkpoint(ARN, "t0", [])
        stub.assert_no_pending_responses()
