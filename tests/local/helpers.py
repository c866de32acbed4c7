"""Test helpers: a handler that speaks the raw protocol, update builders, and history matching.

`RawHandler` lets a test play the SDK's part by hand (the callback/invoke SDK API is written elsewhere):
each invocation runs the next scripted step, which checkpoints through the service itself and returns the
invocation output. `match_history` checks events the way the conformance suite's validator does: only the
keys listed, `"*"` means "present, any value", `"${X}"` binds on first sight and must then repeat.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from eventflow.events.enums import OperationAction, OperationType
from eventflow.events.history import Event
from eventflow.events.wire import (
    CallbackOptions,
    ChainedInvokeOptions,
    Operation,
    OperationUpdate,
    WaitOptions,
)
from eventflow.local import LocalService

Step = Callable[["RawHandler"], dict[str, Any]]

PENDING = {"Status": "PENDING"}


def succeeded(result: str) -> Callable[[RawHandler], dict[str, Any]]:
    return lambda _: {"Status": "SUCCEEDED", "Result": result}


class RawHandler:
    """A durable handler scripted invocation by invocation; it checkpoints through ``service`` directly."""

    def __init__(self, service: LocalService, *steps: Step) -> None:
        self.service = service
        self.steps = list(steps)
        self.calls = 0
        self.arn = ""
        self.token = ""
        self.ops: dict[str, Operation] = {}
        self.inputs: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.inputs.append(event)
        self.arn = event["DurableExecutionArn"]
        self.token = event["CheckpointToken"]
        self.ops = {op["Id"]: Operation.from_wire(op) for op in event["InitialExecutionState"]["Operations"]}
        step = self.steps[self.calls]
        self.calls += 1
        return step(self)

    def checkpoint(self, *updates: OperationUpdate) -> dict[str, Operation]:
        result = self.service.checkpoint(self.arn, self.token, list(updates))
        self.token = result.token
        changed = {op.id: op for op in result.operations}
        self.ops.update(changed)
        return changed


def callback_start(
    op_id: str, name: str | None = None, *, timeout: int = 0, heartbeat: int = 0
) -> OperationUpdate:
    return OperationUpdate(
        id=op_id,
        name=name,
        type=OperationType.CALLBACK,
        sub_type="Callback",
        action=OperationAction.START,
        callback_options=CallbackOptions(timeout_seconds=timeout, heartbeat_timeout_seconds=heartbeat),
    )


def wait_start(op_id: str, seconds: int, name: str | None = None) -> OperationUpdate:
    return OperationUpdate(
        id=op_id,
        name=name,
        type=OperationType.WAIT,
        sub_type="Wait",
        action=OperationAction.START,
        wait_options=WaitOptions(wait_seconds=seconds),
    )


def wait_cancel(op_id: str) -> OperationUpdate:
    return OperationUpdate(id=op_id, type=OperationType.WAIT, sub_type="Wait", action=OperationAction.CANCEL)


def invoke_start(
    op_id: str, function_name: str, payload: str | None, *, name: str | None = None, tenant: str | None = None
) -> OperationUpdate:
    return OperationUpdate(
        id=op_id,
        name=name,
        type=OperationType.CHAINED_INVOKE,
        sub_type="ChainedInvoke",
        action=OperationAction.START,
        payload=payload,
        chained_invoke_options=ChainedInvokeOptions(function_name=function_name, tenant_id=tenant),
    )


def step_start(op_id: str, name: str | None = None) -> OperationUpdate:
    return OperationUpdate(
        id=op_id, name=name, type=OperationType.STEP, sub_type="Step", action=OperationAction.START
    )


def step_succeed(op_id: str, payload: str, name: str | None = None) -> OperationUpdate:
    return OperationUpdate(
        id=op_id,
        name=name,
        type=OperationType.STEP,
        sub_type="Step",
        action=OperationAction.SUCCEED,
        payload=payload,
    )


def types(events: list[Event]) -> list[str]:
    return [str(e.event_type) for e in events]


def match_history(events: list[Event], expected: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Assert every expected event (paired by EventId) matches; return the bound variables."""
    by_id = {e.event_id: e.to_wire() for e in events}
    bound: dict[str, Any] = {}
    for spec in expected:
        actual = by_id.get(spec["EventId"])
        assert actual is not None, f"no event {spec['EventId']}; have {sorted(by_id)}"
        _match(actual, spec, f"event {spec['EventId']}", bound)
    assert [e.event_id for e in events] == list(range(1, len(events) + 1)), "EventIds are not dense"
    return bound


def _match(actual: Any, expected: Any, where: str, bound: dict[str, Any]) -> None:
    if expected == "*" or (expected == {} and actual is not None):
        assert actual is not None, f"{where}: missing"
        return
    if isinstance(expected, str) and expected.startswith("${") and expected.endswith("}"):
        var = expected[2:-1]
        if var in bound:
            assert actual == bound[var], f"{where}: {actual!r} != ${var} = {bound[var]!r}"
        else:
            bound[var] = actual
        return
    if isinstance(expected, Mapping):
        assert isinstance(actual, Mapping), f"{where}: expected a mapping, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}: missing key {key} in {actual}"
            _match(actual[key], value, f"{where}.{key}", bound)
        return
    assert actual == expected, f"{where}: {actual!r} != {expected!r}"
