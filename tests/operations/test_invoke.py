"""invoke: the exact CHAINED_INVOKE checkpoint, every terminal state, replay, sync == async."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fakeservice import FakeService, root

from eventflow import (
    AsyncDurableContext,
    DurableContext,
    InvokeError,
    InvokeStoppedError,
    InvokeTimeoutError,
    JsonSerDes,
    SerDesContext,
)
from eventflow.events.enums import ExecutionStatus, OperationStatus
from eventflow.events.wire import ErrorObject
from eventflow.handler import DurableHandler
from eventflow.local import LocalService
from eventflow.testing import IdLabeler, RecordingBackend, render_checkpoints

PENDING = {"Status": "PENDING"}
CRASHED = ErrorObject(error_type="ValueError", error_message="bad order", error_data='{"id":7}')
START = (
    '#1 START   root/1 invoke "charge" payload={"amount":5} FunctionName=payments:live TenantId=tenant-1\n'
)
calls: list[str] = []


def result_of(output: dict[str, Any]) -> Any:
    assert output["Status"] == "SUCCEEDED", output
    return json.loads(output["Result"])


def charge_sync(event: Any, ctx: DurableContext) -> Any:
    calls.append("before")
    try:
        return {"result": ctx.invoke("payments:live", {"amount": 5}, "charge", tenant_id="tenant-1")}
    except InvokeError as exc:
        return {"error": type(exc).__name__, "type": exc.error_type, "message": exc.message,
                "data": exc.error_data, "op": exc.operation_id, "name": exc.name}


async def charge_async(event: Any, ctx: AsyncDurableContext) -> Any:
    calls.append("before")
    try:
        return {"result": await ctx.invoke("payments:live", {"amount": 5}, "charge", tenant_id="tenant-1")}
    except InvokeError as exc:
        return {"error": type(exc).__name__, "type": exc.error_type, "message": exc.message,
                "data": exc.error_data, "op": exc.operation_id, "name": exc.name}


CHARGE = pytest.mark.parametrize("handler", [charge_sync, charge_async], ids=["sync", "async"])


@pytest.fixture(autouse=True)
def _clear_calls() -> None:
    calls.clear()


@CHARGE
def test_invoke_checkpoints_a_flushed_start_and_suspends(
    service: FakeService, handler: Callable[..., Any]
) -> None:
    assert service.invoke(handler) == PENDING
    assert service.rendered() == START
    assert service.invoke(handler) == PENDING  # still running: no second START
    assert len(service.batches) == 1


@CHARGE
def test_a_succeeded_invoke_returns_the_decoded_result_and_replays_without_checkpoints(
    service: FakeService, handler: Callable[..., Any]
) -> None:
    service.invoke(handler)
    service.invoke_ends(root(1), OperationStatus.SUCCEEDED, result='{"charged": 5, "ok": true}')
    for _ in range(2):
        assert result_of(service.invoke(handler)) == {"result": {"charged": 5, "ok": True}}
    assert len(service.batches) == 1


@CHARGE
def test_a_target_returning_nothing_gives_none(service: FakeService, handler: Callable[..., Any]) -> None:
    service.invoke(handler)
    service.invoke_ends(root(1), OperationStatus.SUCCEEDED, result=None)
    assert result_of(service.invoke(handler)) == {"result": None}


@CHARGE
@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (OperationStatus.FAILED, InvokeError),
        (OperationStatus.TIMED_OUT, InvokeTimeoutError),
        (OperationStatus.STOPPED, InvokeStoppedError),
    ],
)
def test_each_failed_terminal_state_raises_its_typed_error_on_every_replay(
    service: FakeService, handler: Callable[..., Any], status: OperationStatus, expected: type[InvokeError]
) -> None:
    service.invoke(handler)
    service.invoke_ends(root(1), status, error=CRASHED)
    first = result_of(service.invoke(handler))
    assert first == {
        "error": expected.__name__, "type": "ValueError", "message": "bad order", "data": '{"id":7}',
        "op": root(1), "name": "charge",
    }
    assert result_of(service.invoke(handler)) == first
    assert len(service.batches) == 1
    assert calls == ["before"] * 3


@CHARGE
def test_a_cancelled_invoke_without_an_error_raises_invoke_error_in_its_own_words(
    service: FakeService, handler: Callable[..., Any]
) -> None:
    service.invoke(handler)
    service.force_status(root(1), OperationStatus.CANCELLED)
    assert result_of(service.invoke(handler)) == {
        "error": "InvokeError", "type": "eventflow.errors.InvokeError",
        "message": "the invoked execution of payments:live ended CANCELLED", "data": None, "op": root(1),
        "name": "charge",
    }


@CHARGE
def test_a_target_the_service_rejects_at_start_fails_in_the_same_invocation(
    service: FakeService, handler: Callable[..., Any]
) -> None:
    service.reject_invokes = ErrorObject(
        error_type="ResourceNotFoundException", error_message="no such function"
    )
    out = result_of(service.invoke(handler))
    assert (out["error"], out["type"]) == ("InvokeError", "ResourceNotFoundException")
    assert service.rendered() == START


def test_an_uncaught_invoke_error_fails_the_execution_with_the_targets_error(service: FakeService) -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.invoke("payments", None)

    service.invoke(handler)
    assert service.rendered() == (
        "#1 START   root/1 invoke payload=null FunctionName=payments\n"
    )
    service.invoke_ends(root(1), OperationStatus.FAILED, error=CRASHED)
    output = service.invoke(handler)
    assert output["Status"] == "FAILED"
    assert output["Error"]["ErrorType"] == "ValueError"
    assert output["Error"]["ErrorMessage"] == "bad order"


def test_sync_and_async_invoke_write_the_same_checkpoints() -> None:
    outputs, rendered = [], []
    for handler in (charge_sync, charge_async):
        service = FakeService()
        service.invoke(handler)
        service.invoke_ends(root(1), OperationStatus.SUCCEEDED, result="1")
        outputs.append(service.invoke(handler))
        rendered.append(service.rendered())
    assert outputs[0] == outputs[1] == {"Status": "SUCCEEDED", "Result": '{"result": 1}'}
    assert rendered[0] == rendered[1] == START


class Upper:
    """A serdes with a visible encoding, to show both the payload and the result go through it."""

    def serialize(self, value: Any, context: SerDesContext) -> str:
        return json.dumps(str(value).upper())

    def deserialize(self, data: str, context: SerDesContext) -> Any:
        return json.loads(data).lower()


def test_a_serdes_writes_the_payload_and_reads_the_result(service: FakeService) -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.invoke("echo", "hello", serdes=Upper())

    service.invoke(handler)
    assert service.rendered() == (
        '#1 START   root/1 invoke payload="HELLO" FunctionName=echo\n'
    )
    service.invoke_ends(root(1), OperationStatus.SUCCEEDED, result='"WORLD"')
    assert result_of(service.invoke(handler)) == "world"


def test_payload_and_result_serdes_are_set_apart(service: FakeService) -> None:
    """As the official SDK's InvokeConfig(serdes_payload=..., serdes_result=...): each side on its own."""

    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.invoke("echo", "hello", payload_serdes=Upper(), serdes=JsonSerDes())

    service.invoke(handler)
    assert service.rendered() == '#1 START   root/1 invoke payload="HELLO" FunctionName=echo\n'
    service.invoke_ends(root(1), OperationStatus.SUCCEEDED, result='"WORLD"')
    assert result_of(service.invoke(handler)) == "WORLD"  # read with the JSON serdes, not Upper


def test_a_result_serdes_alone_reads_the_result(service: FakeService) -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.invoke("echo", "hello", result_serdes=Upper())

    service.invoke(handler)
    assert service.rendered() == '#1 START   root/1 invoke payload="hello" FunctionName=echo\n'
    service.invoke_ends(root(1), OperationStatus.SUCCEEDED, result='"WORLD"')
    assert result_of(service.invoke(handler)) == "world"


def test_a_payload_over_256_kib_is_refused_before_anything_is_checkpointed(service: FakeService) -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.invoke("echo", "x" * (256 * 1024))

    output = service.invoke(handler)
    assert output["Status"] == "FAILED"
    assert output["Error"]["ErrorType"] == "eventflow.errors.PayloadTooLargeError"
    assert service.batches == []


def test_an_unserializable_payload_is_a_terminal_serdes_error(service: FakeService) -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.invoke("echo", object())

    output = service.invoke(handler)
    assert output["Status"] == "FAILED"
    assert output["Error"]["ErrorType"] == "eventflow.errors.SerDesError"
    assert service.batches == []


@pytest.mark.parametrize(
    ("function_name", "tenant_id", "message"),
    [(7, None, "function name"), (None, None, "function name"), ("echo", 3, "tenant_id must be a string")],
)
def test_a_function_name_or_tenant_that_is_not_a_string_is_invalid_input(
    service: FakeService, function_name: Any, tenant_id: Any, message: str
) -> None:
    output = service.invoke(lambda event, ctx: ctx.invoke(function_name, 1, tenant_id=tenant_id))
    assert output["Error"]["ErrorType"] == "eventflow.errors.InvalidInputError"
    assert message in output["Error"]["ErrorMessage"]
    assert service.batches == []


def test_an_empty_function_name_is_invalid_input(service: FakeService) -> None:
    output = service.invoke(lambda event, ctx: ctx.invoke("", 1))
    assert output["Error"]["ErrorType"] == "eventflow.errors.InvalidInputError"
    assert service.batches == []


# -- end to end on the local service ----------------------------------------------------------------


def history_of(service: LocalService, arn: str) -> list[tuple[str, str | None]]:
    return [(str(e.event_type), e.name) for e in service.history(arn)]


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_invoke_end_to_end_on_the_local_service(flavour: str) -> None:
    """A durable caller invokes a durable target; the target's failure comes back as InvokeError."""
    service = LocalService()

    def target(event: Any, ctx: DurableContext) -> Any:
        if event["amount"] < 0:
            raise ValueError("negative amount")
        return {"charged": event["amount"]}

    def sync(event: Any, ctx: DurableContext) -> Any:
        ok = ctx.invoke("payments", {"amount": 5}, "charge")
        try:
            ctx.invoke("payments", {"amount": -1}, "refund")
        except InvokeError as exc:
            return [ok, exc.error_type, exc.message]
        return [ok]

    async def async_(event: Any, ctx: AsyncDurableContext) -> Any:
        ok = await ctx.invoke("payments", {"amount": 5}, "charge")
        try:
            await ctx.invoke("payments", {"amount": -1}, "refund")
        except InvokeError as exc:
            return [ok, exc.error_type, exc.message]
        return [ok]

    recorder = RecordingBackend(service)
    service.register("payments", DurableHandler(target, service))
    service.register("caller", DurableHandler(sync if flavour == "sync" else async_, recorder))
    execution = service.run(service.start_execution("caller").arn)
    assert execution.status is ExecutionStatus.SUCCEEDED
    assert json.loads(execution.result or "") == [{"charged": 5}, "ValueError", "negative amount"]
    assert history_of(service, execution.arn) == [
        ("ExecutionStarted", None),
        ("ChainedInvokeStarted", "charge"),
        ("InvocationCompleted", None),
        ("ChainedInvokeSucceeded", "charge"),
        ("ChainedInvokeStarted", "refund"),
        ("InvocationCompleted", None),
        ("ChainedInvokeFailed", "refund"),
        ("InvocationCompleted", None),
        ("ExecutionSucceeded", None),
    ]
    assert render_checkpoints(recorder.batches, IdLabeler(), verbatim=True) == (
        '#1 START   root/1 invoke "charge" payload={"amount":5} FunctionName=payments\n'
        '#2 START   root/2 invoke "refund" payload={"amount":-1} FunctionName=payments\n'
    )
