"""The handler entry: input validation, outputs, oversized results, non-determinism, suspension."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from eventflow import DurableContext, InvalidInputError, durable_execution
from eventflow.events.enums import ExecutionStatus, OperationType
from eventflow.handler import DurableHandler
from eventflow.local import LocalService
from eventflow.testing import RecordingBackend


def test_input_that_is_not_a_durable_invocation_gets_a_typed_error_naming_the_field() -> None:
    handler = durable_execution(lambda event, ctx: None)
    with pytest.raises(InvalidInputError, match="CheckpointToken"):
        handler({"DurableExecutionArn": "arn", "InitialExecutionState": {"Operations": []}}, None)
    with pytest.raises(InvalidInputError, match="dict"):
        handler("not a dict", None)


def test_state_without_an_execution_operation_is_rejected() -> None:
    handler = DurableHandler(lambda event, ctx: None, LocalService())
    event = {
        "DurableExecutionArn": "arn",
        "CheckpointToken": "t",
        "InitialExecutionState": {"Operations": []},
    }
    with pytest.raises(InvalidInputError, match="EXECUTION"):
        handler(event, None)


def test_oversized_result_is_checkpointed_on_the_execution(run_handler: Any) -> None:
    big = "y" * (7 * 1024 * 1024)
    service = LocalService()
    recorder = RecordingBackend(service)
    service.register("fn", DurableHandler(lambda event, ctx: big, recorder))
    execution = service.start_execution("fn")
    output = service.invoke(execution.arn)
    assert output == {"Status": "SUCCEEDED", "Result": ""}
    (update,) = recorder.updates
    assert update.type is OperationType.EXECUTION
    assert update.action.value == "SUCCEED"
    assert update.payload is not None and len(update.payload) == len(big) + 2
    assert execution.result == update.payload


def test_uncaught_handler_error_fails_the_execution_terminally(run_handler: Any) -> None:
    def handler(event: Any, ctx: DurableContext) -> None:
        raise PermissionError("denied")

    run = run_handler(handler)
    assert run.execution.status is ExecutionStatus.FAILED
    assert run.execution.error is not None
    assert (run.execution.error.error_type, run.execution.error.error_message) == (
        "PermissionError",
        "denied",
    )
    assert run.execution.invocations == 1


def test_unserializable_result_fails_with_a_serdes_error(run_handler: Any) -> None:
    run = run_handler(lambda event, ctx: object())
    assert run.execution.status is ExecutionStatus.FAILED
    assert run.execution.error is not None
    assert run.execution.error.error_type == "eventflow.errors.SerDesError"


def test_unserializable_step_result_fails_the_step_terminally(run_handler: Any) -> None:
    run = run_handler(lambda event, ctx: ctx.step(lambda _: {1, 2}, name="set"))
    assert run.execution.status is ExecutionStatus.FAILED
    assert run.execution.error is not None
    assert run.execution.error.error_type == "eventflow.errors.SerDesError"
    assert (
        "set" in (run.execution.error.error_message or "") or run.recorder.updates[-1].action.value == "FAIL"
    )
    assert [u.action.value for u in run.recorder.updates] == ["START", "FAIL"]


def test_changed_code_is_detected_at_the_first_mismatching_operation() -> None:
    def v1(event: Any, ctx: DurableContext) -> str:
        ctx.step(lambda _: 1, name="reserve")
        ctx.wait(seconds=10)
        return "v1"

    def v2(event: Any, ctx: DurableContext) -> str:
        ctx.step(lambda _: 1, name="reserve-stock")  # renamed: the recorded "reserve" no longer matches
        ctx.wait(seconds=10)
        return "v2"

    service = LocalService()
    service.register("fn", DurableHandler(v1, None))
    execution = service.start_execution("fn")
    service.invoke(execution.arn)  # suspends on the wait
    service.register("fn", DurableHandler(v2, None), replace=True)  # the new code
    service.run(execution.arn)
    assert execution.status is ExecutionStatus.FAILED
    assert execution.error is not None
    assert execution.error.error_type == "eventflow.errors.NonDeterministicExecutionError"
    message = execution.error.error_message or ""
    assert "'reserve'" in message and "'reserve-stock'" in message
    assert "1ced8f5be2db23a6513eba4d819c73806424748a7bc6fa0d792cc1c7d1775a97" in message


def test_type_change_at_an_id_is_non_determinism() -> None:
    def v1(event: Any, ctx: DurableContext) -> None:
        ctx.wait(seconds=5, name="x")

    def v2(event: Any, ctx: DurableContext) -> None:
        ctx.step(lambda _: 1, name="x")

    service = LocalService()
    service.register("fn", DurableHandler(v1, None))
    execution = service.start_execution("fn")
    service.invoke(execution.arn)
    service.register("fn", DurableHandler(v2, None), replace=True)  # the new code
    service.run(execution.arn)
    assert execution.error is not None
    assert "WAIT" in (execution.error.error_message or "")


def test_suspending_with_nothing_pending_fails_the_execution(run_handler: Any) -> None:
    from eventflow.errors import SuspendExecution

    def handler(event: Any, ctx: DurableContext) -> None:
        raise SuspendExecution("nothing to wait for")

    run = run_handler(handler)
    assert run.execution.status is ExecutionStatus.FAILED
    assert run.execution.error is not None
    assert "nothing is pending" in (run.execution.error.error_message or "")


def test_wait_rejects_durations_under_one_second() -> None:
    from eventflow.durations import to_seconds

    with pytest.raises(InvalidInputError, match="at least 1 s"):
        to_seconds(0.0, what="wait")
    assert to_seconds(seconds=1.2) == 2
    assert to_seconds(minutes=1, hours=1, days=1) == 86400 + 3600 + 60


def test_importing_eventflow_does_not_import_boto3() -> None:
    code = "import sys, eventflow, eventflow.local; print('boto3' in sys.modules, 'botocore' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"


def test_the_event_log_keeps_snapshots_and_updates_in_order_when_asked() -> None:
    from eventflow.events.log import Emitted, Recorded

    logs: list[Any] = []

    def handler(event: Any, ctx: DurableContext) -> int:
        logs.append(ctx.state.log)
        return ctx.step(lambda _: 5, name="five")  # type: ignore[no-any-return]

    service = LocalService()
    service.register("fn", durable_execution(event_log=True, backend=service)(handler))
    execution = service.start_execution("fn")
    service.run(execution.arn)
    (log,) = logs
    kinds = [(type(e).__name__, getattr(e, "update", None) and e.update.action.value) for e in log]
    assert kinds == [
        ("Recorded", None),  # the EXECUTION operation
        ("Emitted", "START"),
        ("Emitted", "SUCCEED"),  # START travels with the completion
        ("Recorded", None),  # the service's answer: the step SUCCEEDED
    ]
    assert isinstance(list(log)[-1], Recorded) and not isinstance(list(log)[-1], Emitted)
    assert [op.status.value for op in log.recorded()] == ["STARTED", "SUCCEEDED"]


def test_without_the_option_no_event_log_is_kept() -> None:
    seen: list[Any] = []
    service = LocalService()
    service.register("fn", durable_execution(backend=service)(lambda e, ctx: seen.append(ctx.state.log)))
    service.run(service.start_execution("fn").arn)
    assert seen == [None]
