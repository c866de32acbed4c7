"""Chained invokes (durable and plain targets), StopDurableExecution, execution timeout and WAIT CANCEL;
history shapes as the conformance suite's invoke/*.yaml and wait/*.yaml expect them."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from eventflow import durable_execution
from eventflow.errors import CheckpointError
from eventflow.events.enums import ExecutionStatus, OperationStatus
from eventflow.events.wire import ErrorObject
from eventflow.local import LocalService, VirtualClock

from .helpers import (
    PENDING,
    RawHandler,
    invoke_start,
    match_history,
    succeeded,
    types,
    wait_cancel,
    wait_start,
)

INV = "inv-1"


@durable_execution
def echo(event: Any, ctx: Any) -> Any:
    """A durable target: one step, then returns its input."""
    return ctx.step(lambda _: event, name="echo")


@durable_execution
def sleepy(event: Any, ctx: Any) -> Any:
    ctx.wait(seconds=100)
    return "woke"


def invoking(function_name: str, payload: str | None = '"hello"', **kwargs: Any):  # type: ignore[no-untyped-def]
    def step(h: RawHandler) -> dict[str, str]:
        h.checkpoint(invoke_start(INV, function_name, payload, **kwargs))
        return PENDING

    return step


def relay(h: RawHandler) -> dict[str, Any]:
    """The parent's second invocation: return the invoke's result, or fail with its error."""
    details = h.ops[INV].chained_invoke_details
    if h.ops[INV].status == OperationStatus.SUCCEEDED:
        return {"Status": "SUCCEEDED", "Result": details.result}
    return {"Status": "FAILED", "Error": details.error.to_wire() if details.error else {}}


def parent(service: LocalService, *steps: Any) -> str:
    service.register("parent", RawHandler(service, *steps))
    return service.start_execution("parent", input_payload='"in"').arn


def test_durable_target_runs_as_its_own_execution_conformance_5_1() -> None:
    service = LocalService()
    service.register("echo", echo)
    arn = parent(service, invoking("echo", '"hello"', name="call-echo", tenant="t-1"), relay)
    execution = service.run(arn)
    assert execution.status is ExecutionStatus.SUCCEEDED and execution.result == '"hello"'
    op = execution.operations[INV]
    assert op.status == OperationStatus.SUCCEEDED and op.chained_invoke_details.result == '"hello"'
    events = service.history(arn)
    bound = match_history(
        events,
        [
            {"EventType": "ExecutionStarted", "EventId": 1},
            {
                "EventType": "ChainedInvokeStarted",
                "EventId": 2,
                "Id": INV,
                "Name": "call-echo",
                "ChainedInvokeStartedDetails": {
                    "FunctionName": "echo",
                    "TenantId": "t-1",
                    "Input": {"Payload": '"hello"'},
                    "ExecutedVersion": "$LATEST",
                    "DurableExecutionArn": "${CHILD}",
                },
            },
            {"EventType": "InvocationCompleted", "EventId": 3, "InvocationCompletedDetails": "*"},
            {
                "EventType": "ChainedInvokeSucceeded",
                "EventId": 4,
                "Id": INV,
                "Name": "call-echo",
                "ChainedInvokeSucceededDetails": {"Result": {"Payload": '"hello"'}},
            },
            {"EventType": "InvocationCompleted", "EventId": 5},
            {"EventType": "ExecutionSucceeded", "EventId": 6},
        ],
    )
    assert len(events) == 6
    child = service.get(bound["CHILD"])
    assert child.arn != arn and child.function_name == "echo" and child.input_payload == '"hello"'
    assert child.status is ExecutionStatus.SUCCEEDED
    assert types(service.history(child.arn)) == [
        "ExecutionStarted",
        "StepStarted",
        "StepSucceeded",
        "InvocationCompleted",
        "ExecutionSucceeded",
    ]
    assert [s.function_name for s in service.list_executions("echo")[0]] == ["echo"]


def test_failing_durable_target_conformance_5_5() -> None:
    @durable_execution
    def broken(event: Any, ctx: Any) -> Any:
        raise ValueError("target broke")

    service = LocalService()
    service.register("broken", broken)
    arn = parent(service, invoking("broken"), relay)
    execution = service.run(arn)
    assert execution.status is ExecutionStatus.FAILED
    assert execution.operations[INV].chained_invoke_details.error.error_message == "target broke"
    match_history(
        service.history(arn),
        [
            {
                "EventType": "ChainedInvokeStarted",
                "EventId": 2,
                "ChainedInvokeStartedDetails": {
                    "FunctionName": "*",
                    "Input": "*",
                    "ExecutedVersion": "*",
                    "DurableExecutionArn": "*",
                },
            },
            {"EventType": "InvocationCompleted", "EventId": 3},
            {
                "EventType": "ChainedInvokeFailed",
                "EventId": 4,
                "ChainedInvokeFailedDetails": {
                    "Error": {"Payload": {"ErrorType": "ValueError", "ErrorMessage": "target broke"}}
                },
            },
            {"EventType": "InvocationCompleted", "EventId": 5},
            {"EventType": "ExecutionFailed", "EventId": 6},
        ],
    )


def test_plain_target_is_called_with_the_decoded_payload() -> None:
    calls: list[Any] = []

    def plain(event: Any, context: Any) -> Any:
        calls.append(event)
        return {"doubled": event["n"] * 2}

    service = LocalService()
    service.register("plain", plain, durable=False)
    arn = parent(service, invoking("plain", json.dumps({"n": 21})), relay)
    execution = service.run(arn)
    assert calls == [{"n": 21}]
    assert execution.status is ExecutionStatus.SUCCEEDED and json.loads(execution.result) == {"doubled": 42}
    assert types(service.history(arn)) == [
        "ExecutionStarted",
        "ChainedInvokeStarted",
        "InvocationCompleted",
        "ChainedInvokeSucceeded",
        "InvocationCompleted",
        "ExecutionSucceeded",
    ]


def test_plain_target_that_raises_fails_the_invoke() -> None:
    def plain(event: Any, context: Any) -> Any:
        raise KeyError("nope")

    service = LocalService()
    service.register("plain", plain, durable=False)
    arn = parent(service, invoking("plain"), relay)
    execution = service.run(arn)
    assert execution.operations[INV].status == OperationStatus.FAILED
    assert execution.operations[INV].chained_invoke_details.error.error_type == "KeyError"


def test_unknown_target_fails_in_the_checkpoint_answer() -> None:
    service = LocalService()
    answers: dict[str, Any] = {}

    def first(h: RawHandler) -> dict[str, Any]:
        answers.update(h.checkpoint(invoke_start(INV, "missing", '"x"')))
        return relay(h)

    arn = parent(service, first)
    execution = service.run(arn)
    op = answers[INV]
    assert op.status == OperationStatus.FAILED
    assert op.chained_invoke_details.error.error_type == "ResourceNotFoundException"
    assert "missing" in op.chained_invoke_details.error.error_message
    assert execution.status is ExecutionStatus.FAILED and execution.invocations == 1
    events = service.history(arn)
    assert types(events) == [
        "ExecutionStarted",
        "ChainedInvokeStarted",
        "ChainedInvokeFailed",
        "InvocationCompleted",
        "ExecutionFailed",
    ]
    assert events[1].to_wire()["ChainedInvokeStartedDetails"] == {"FunctionName": "missing"}


def test_child_timeout_times_the_invoke_out() -> None:
    service = LocalService()
    service.register("sleepy", sleepy, timeout_seconds=30)
    arn = parent(service, invoking("sleepy"), relay)
    execution = service.run(arn)
    op = execution.operations[INV]
    assert op.status == OperationStatus.TIMED_OUT
    assert op.chained_invoke_details.error.error_type == "ChainedInvoke.Timeout"
    child_arn = service.history(arn)[1].chained_invoke_started_details.durable_execution_arn
    assert types(service.history(child_arn)) == [
        "ExecutionStarted",
        "WaitStarted",
        "InvocationCompleted",
        "ExecutionTimedOut",
    ]
    assert types(service.history(arn))[3] == "ChainedInvokeTimedOut"


def test_stopping_the_child_stops_the_invoke() -> None:
    service = LocalService()
    service.register("sleepy", sleepy)
    arn = parent(service, invoking("sleepy"), relay)
    child_arn = ""

    def stop_child() -> None:
        nonlocal child_arn
        child_arn = service.history(arn)[1].chained_invoke_started_details.durable_execution_arn
        service.stop(child_arn, ErrorObject(error_type="Operator", error_message="enough"))

    service.at(10, stop_child)
    execution = service.run(arn)
    op = execution.operations[INV]
    assert op.status == OperationStatus.STOPPED
    assert op.chained_invoke_details.error.error_message == "enough"
    assert types(service.history(arn))[3] == "ChainedInvokeStopped"
    assert service.get(child_arn).status is ExecutionStatus.STOPPED


def test_stop_ends_the_execution_and_drops_its_timers() -> None:
    clock = VirtualClock()
    t0 = clock.now()
    service = LocalService(clock)
    service.register("sleepy", sleepy)
    arn = service.start_execution("sleepy").arn
    service.at(3, lambda: service.stop(arn))
    execution = service.run(arn)
    assert execution.status is ExecutionStatus.STOPPED and execution.ended_at == t0 + timedelta(seconds=3)
    assert execution.execution_op.status == OperationStatus.STOPPED
    events = service.history(arn)
    assert types(events) == ["ExecutionStarted", "WaitStarted", "InvocationCompleted", "ExecutionStopped"]
    assert events[-1].execution_stopped_details.error is not None
    assert service.next_timer() is None  # the 100 s wait's timer is gone
    service.run_all()
    assert clock.now() == t0 + timedelta(seconds=3) and len(service.history(arn)) == 4
    assert service.stop(arn) == execution.ended_at  # idempotent
    with pytest.raises(CheckpointError):
        service.checkpoint(arn, execution.token, [])


def test_execution_timeout() -> None:
    clock = VirtualClock()
    t0 = clock.now()
    service = LocalService(clock)
    service.register("sleepy", sleepy)
    arn = service.start_execution("sleepy", timeout_seconds=40).arn
    execution = service.run(arn)
    assert execution.status is ExecutionStatus.TIMED_OUT and execution.ended_at == t0 + timedelta(seconds=40)
    assert execution.execution_op.status == OperationStatus.TIMED_OUT
    match_history(
        service.history(arn),
        [
            {
                "EventId": 1,
                "EventType": "ExecutionStarted",
                "ExecutionStartedDetails": {"ExecutionTimeout": 40},
            },
            {
                "EventId": 4,
                "EventType": "ExecutionTimedOut",
                "ExecutionTimedOutDetails": {"Error": {"Payload": "*"}},
            },
        ],
    )


def test_wait_cancel_drops_the_timer() -> None:
    clock = VirtualClock()
    t0 = clock.now()
    service = LocalService(clock)

    def first(h: RawHandler) -> dict[str, str]:
        h.checkpoint(wait_start("w-1", 60, name="long"), wait_start("w-2", 2, name="short"))
        return PENDING

    def second(h: RawHandler) -> dict[str, str]:
        assert h.ops["w-2"].status == OperationStatus.SUCCEEDED
        changed = h.checkpoint(wait_cancel("w-1"))
        assert changed["w-1"].status == OperationStatus.CANCELLED
        return {"Status": "SUCCEEDED", "Result": "1"}

    arn = parent(service, first, second)
    assert service.run(arn).status is ExecutionStatus.SUCCEEDED
    assert clock.now() == t0 + timedelta(seconds=2)
    events = service.history(arn)
    assert types(events) == [
        "ExecutionStarted",
        "WaitStarted",
        "WaitStarted",
        "InvocationCompleted",
        "WaitSucceeded",
        "WaitCancelled",
        "InvocationCompleted",
        "ExecutionSucceeded",
    ]
    assert service.next_timer() is None


def test_wait_conformance_2_5() -> None:
    service = LocalService()
    arn = parent(service, lambda h: (h.checkpoint(wait_start("w", 3600)), PENDING)[1], succeeded("null"))
    service.run(arn)
    match_history(
        service.history(arn),
        [
            {
                "EventType": "WaitStarted",
                "SubType": "Wait",
                "EventId": 2,
                "Id": "w",
                "EventTimestamp": "*",
                "WaitStartedDetails": {"Duration": 3600},
            },
            {
                "EventType": "InvocationCompleted",
                "EventId": 3,
                "EventTimestamp": "*",
                "InvocationCompletedDetails": {},
            },
            {"EventType": "WaitSucceeded", "EventId": 4, "WaitSucceededDetails": {"Duration": 3600}},
        ],
    )


@pytest.mark.parametrize(
    ("update", "message"),
    [
        (wait_start("w", 0), "WaitSeconds"),
        (invoke_start(INV, "", None), "FunctionName"),
        (invoke_start(INV, "echo", "x" * (1024 * 1024 + 1)), "over"),
    ],
)
def test_invalid_starts_are_refused(update: Any, message: str) -> None:
    service = LocalService()

    def step(h: RawHandler) -> dict[str, str]:
        with pytest.raises(CheckpointError, match=message) as info:
            h.checkpoint(update)
        assert info.value.terminal and info.value.code == "InvalidParameterValueException"
        return {"Status": "SUCCEEDED", "Result": "1"}

    arn = parent(service, step)
    assert service.run(arn).status is ExecutionStatus.SUCCEEDED


def test_service_only_actions_are_refused_from_a_handler() -> None:
    from eventflow.events.enums import OperationAction, OperationType
    from eventflow.events.wire import OperationUpdate

    service = LocalService()
    service.register("echo", echo)

    def step(h: RawHandler) -> dict[str, str]:
        h.checkpoint(invoke_start(INV, "echo", '"x"'))
        with pytest.raises(CheckpointError, match="not an action"):
            h.checkpoint(
                OperationUpdate(id=INV, type=OperationType.CHAINED_INVOKE, action=OperationAction.SUCCEED)
            )
        return PENDING

    arn = parent(service, step, relay)
    assert service.run(arn).status is ExecutionStatus.SUCCEEDED


def test_stale_and_reused_tokens_are_refused() -> None:
    service = LocalService()

    def step(h: RawHandler) -> dict[str, str]:
        first = h.token
        h.checkpoint(wait_start("w", 1))
        with pytest.raises(CheckpointError, match="Invalid checkpoint token") as info:
            service.checkpoint(h.arn, first, [])
        assert not info.value.terminal
        return PENDING

    arn = parent(service, step, succeeded("1"))
    assert service.run(arn).status is ExecutionStatus.SUCCEEDED


def test_a_re_invocation_names_the_operations_the_service_changed() -> None:
    from eventflow import durable_execution
    from eventflow.ids import child_id

    inputs: list[dict[str, Any]] = []

    @durable_execution
    def handler(event: Any, ctx: Any) -> str:
        ctx.step(lambda _: 1, name="before")
        ctx.wait(seconds=10, name="pause")
        return "done"

    def recording(event: dict[str, Any], context: Any) -> Any:
        inputs.append(event)
        return handler(event, context)

    service = LocalService()
    service.register("fn", recording)
    execution = service.run(service.start_execution("fn").arn)
    assert execution.result == '"done"'
    assert "UpdatedOperationIds" not in inputs[0]  # nothing changed before the first invocation
    assert inputs[1]["UpdatedOperationIds"] == [child_id(None, 2)]  # the wait the timer ended


class _NotAnException(BaseException):
    """Something a handler may raise that is neither an `Exception` nor a `KeyboardInterrupt`."""


@pytest.mark.parametrize("raised", [KeyboardInterrupt, SystemExit, _NotAnException])
def test_an_interrupted_invocation_does_not_leave_the_execution_mid_invocation(
    raised: type[BaseException],
) -> None:
    """A KeyboardInterrupt propagates (the emulator's own process was interrupted), other BaseExceptions are
    a dead sandbox (a retried invocation); either way the execution is not left in flight, and a later run
    of the loop invokes it again."""
    service = LocalService()

    def interrupted(h: RawHandler) -> dict[str, str]:
        raise raised()

    handler = RawHandler(service, interrupted, succeeded('"again"'))
    service.register("fn", handler)
    arn = service.start_execution("fn").arn
    if raised is KeyboardInterrupt:
        with pytest.raises(KeyboardInterrupt):
            service.run(arn)
    else:
        service.run(arn)
    execution = service.get(arn)
    assert arn not in service._state.inflight and not execution.invoking
    execution = service.run(arn)
    assert execution.status is ExecutionStatus.SUCCEEDED and execution.result == '"again"'
    assert handler.calls == 2
