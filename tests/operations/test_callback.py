"""create_callback and wait_for_callback: exact checkpoints, every terminal state, replay, sync == async.

Each test drives the handler as Lambda would, against `FakeService` at the network boundary, and plays
the external system between invocations by changing the callback operation the service returns.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fakeservice import FakeService, inner, root

from eventflow import (
    AsyncDurableContext,
    CallbackError,
    CallbackSubmitterError,
    CallbackTimeoutError,
    CheckpointError,
    DurableContext,
    InvalidInputError,
    JsonSerDes,
    StepContext,
    durable_wait_for_callback,
    retry,
)
from eventflow.events.enums import ExecutionStatus, OperationStatus
from eventflow.events.wire import ErrorObject
from eventflow.handler import DurableHandler
from eventflow.local import LocalService
from eventflow.testing import IdLabeler, RecordingBackend, render_checkpoints

REJECTED = ErrorObject(error_type="RejectedError", error_message="not approved", error_data='{"by":"ops"}')
EXPIRED = ErrorObject(error_type="Callback.Timeout", error_message="callback timed out")
PENDING = {"Status": "PENDING"}


def result_of(output: dict[str, Any]) -> Any:
    assert output["Status"] == "SUCCEEDED", output
    return json.loads(output["Result"])


# -- create_callback --------------------------------------------------------------------------------

seen: list[Any] = []  # what user code between create_callback and result() observed, per invocation


def approval_sync(event: Any, ctx: DurableContext) -> Any:
    cb = ctx.create_callback("approval", timeout=timedelta(hours=1), heartbeat_timeout=30)
    seen.append(cb.callback_id)
    try:
        return {"id": cb.callback_id, "answer": cb.result()}
    except CallbackError as exc:
        return {"error": type(exc).__name__, "type": exc.error_type, "message": exc.message,
                "data": exc.error_data, "op": exc.operation_id, "name": exc.name}


async def approval_async(event: Any, ctx: AsyncDurableContext) -> Any:
    cb = await ctx.create_callback("approval", timeout=timedelta(hours=1), heartbeat_timeout=30)
    seen.append(cb.callback_id)
    try:
        return {"id": cb.callback_id, "answer": await cb.result()}
    except CallbackError as exc:
        return {"error": type(exc).__name__, "type": exc.error_type, "message": exc.message,
                "data": exc.error_data, "op": exc.operation_id, "name": exc.name}


APPROVAL = pytest.mark.parametrize("handler", [approval_sync, approval_async], ids=["sync", "async"])
CALLBACK_START = (
    '#1 START   root/1 callback "approval" TimeoutSeconds=3600 HeartbeatTimeoutSeconds=30\n'
)


@pytest.fixture(autouse=True)
def _clear_seen() -> None:
    seen.clear()


@APPROVAL
def test_create_callback_checkpoints_a_flushed_start_and_suspends(
    service: FakeService, handler: Callable[..., Any]
) -> None:
    assert service.invoke(handler) == PENDING
    assert service.rendered() == CALLBACK_START
    assert [len(b) for b in service.batches] == [1]
    assert seen == ["callback-1"]  # the id came from the service's answer to the START


@APPROVAL
def test_a_succeeded_callback_returns_the_raw_string_and_replays_without_checkpoints(
    service: FakeService, handler: Callable[..., Any]
) -> None:
    service.invoke(handler)
    service.callback_succeeds(root(1), '{"approved": true}')
    for _ in range(2):  # the answer, then a pure replay of it
        assert result_of(service.invoke(handler)) == {"id": "callback-1", "answer": '{"approved": true}'}
    assert len(service.batches) == 1
    assert seen == ["callback-1"] * 3


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_serdes_decodes_the_callback_result(service: FakeService, flavour: str) -> None:
    def sync(event: Any, ctx: DurableContext) -> Any:
        return ctx.create_callback(serdes=JsonSerDes()).result()

    async def async_(event: Any, ctx: AsyncDurableContext) -> Any:
        cb = await ctx.create_callback(serdes=JsonSerDes())
        return await cb.result()

    handler = sync if flavour == "sync" else async_
    service.invoke(handler)
    assert service.rendered() == (
        "#1 START   root/1 callback TimeoutSeconds=0 HeartbeatTimeoutSeconds=0\n"
    )
    service.callback_succeeds(root(1), '{"approved": true}')
    assert result_of(service.invoke(handler)) == {"approved": True}


@APPROVAL
def test_a_callback_answered_with_no_result_returns_none(
    service: FakeService, handler: Callable[..., Any]
) -> None:
    service.invoke(handler)
    service.callback_succeeds(root(1), None)
    assert result_of(service.invoke(handler)) == {"id": "callback-1", "answer": None}


@APPROVAL
@pytest.mark.parametrize(
    ("complete", "expected"),
    [
        (lambda s: s.callback_fails(root(1), REJECTED), "CallbackError"),
        (lambda s: s.callback_times_out(root(1), EXPIRED), "CallbackTimeoutError"),
    ],
    ids=["FAILED", "TIMED_OUT"],
)
def test_a_callback_failure_raises_its_typed_error_the_same_on_every_replay(
    service: FakeService, handler: Callable[..., Any], complete: Callable[[FakeService], None], expected: str
) -> None:
    service.invoke(handler)
    complete(service)
    error = REJECTED if expected == "CallbackError" else EXPIRED
    first = result_of(service.invoke(handler))
    assert first == {
        "error": expected, "type": error.error_type, "message": error.error_message, "data": error.error_data,
        "op": root(1), "name": "approval",
    }
    assert result_of(service.invoke(handler)) == first
    assert len(service.batches) == 1
    assert seen == ["callback-1"] * 3  # create_callback never raises: the code after it always runs


@APPROVAL
@pytest.mark.parametrize("status", [OperationStatus.CANCELLED, OperationStatus.STOPPED])
def test_a_cancelled_or_stopped_callback_raises_callback_error(
    service: FakeService, handler: Callable[..., Any], status: OperationStatus
) -> None:
    service.invoke(handler)
    service.force_status(root(1), status)
    assert result_of(service.invoke(handler))["error"] == "CallbackError"
    assert len(service.batches) == 1


def test_an_uncaught_callback_failure_fails_the_execution_with_the_senders_error(
    service: FakeService,
) -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.create_callback("approval").result()

    service.invoke(handler)
    service.callback_fails(root(1), REJECTED)
    output = service.invoke(handler)
    assert output["Status"] == "FAILED"
    assert output["Error"]["ErrorType"] == "RejectedError"
    assert output["Error"]["ErrorMessage"] == "not approved"


def test_an_unanswered_callback_keeps_suspending_without_checkpoints(service: FakeService) -> None:
    for _ in range(3):
        assert service.invoke(approval_sync) == PENDING
    assert len(service.batches) == 1


def test_sync_and_async_create_callback_write_the_same_checkpoints() -> None:
    outputs = []
    rendered = []
    for handler in (approval_sync, approval_async):
        service = FakeService()
        service.invoke(handler)
        service.callback_succeeds(root(1), '"yes"')
        outputs.append(service.invoke(handler))
        rendered.append(service.rendered())
    assert outputs[0] == outputs[1]
    assert rendered[0] == rendered[1] == CALLBACK_START


def test_two_callbacks_get_their_own_ids_and_can_be_awaited_out_of_order(service: FakeService) -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        a = ctx.create_callback("a")
        b = ctx.create_callback("b")
        return [b.result(), a.result()]

    assert service.invoke(handler) == PENDING
    service.callback_succeeds(root(1), "A")
    assert service.invoke(handler) == PENDING  # b is still unanswered
    service.callback_succeeds(root(2), "B")
    assert result_of(service.invoke(handler)) == ["B", "A"]
    assert service.rendered() == (
        '#1 START   root/1 callback "a" TimeoutSeconds=0 HeartbeatTimeoutSeconds=0\n'
        '#2 START   root/2 callback "b" TimeoutSeconds=0 HeartbeatTimeoutSeconds=0\n'
    )


@pytest.mark.parametrize("timeout", [-1, float("nan")])
def test_an_invalid_timeout_is_refused_before_anything_is_checkpointed(
    service: FakeService, timeout: float
) -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.create_callback(timeout=timeout)

    output = service.invoke(handler)
    assert output["Status"] == "FAILED"
    assert output["Error"]["ErrorType"] == f"{InvalidInputError.__module__}.{InvalidInputError.__qualname__}"
    assert service.batches == []


def test_a_start_answer_without_a_callback_id_is_retryable(service: FakeService) -> None:
    service.omit_callback_ids = True
    with pytest.raises(CheckpointError, match="no CallbackId for callback approval") as info:
        service.invoke(approval_sync)
    assert info.value.terminal is False  # raised, so Lambda retries the invocation


# -- wait_for_callback ------------------------------------------------------------------------------

submitted: list[tuple[str, int]] = []


def notify(callback_id: str, step: StepContext) -> None:
    submitted.append((callback_id, step.attempt))


async def anotify(callback_id: str, step: StepContext) -> None:
    submitted.append((callback_id, step.attempt))


def wfc_sync(event: Any, ctx: DurableContext) -> Any:
    try:
        return ctx.wait_for_callback(notify, "approval", timeout=300, retry=retry.no_retry)
    except CallbackError as exc:
        return {"error": type(exc).__name__, "type": exc.error_type, "message": exc.message, "name": exc.name}


async def wfc_async(event: Any, ctx: AsyncDurableContext) -> Any:
    try:
        return await ctx.wait_for_callback(anotify, "approval", timeout=300, retry=retry.no_retry)
    except CallbackError as exc:
        return {"error": type(exc).__name__, "type": exc.error_type, "message": exc.message, "name": exc.name}


WFC = pytest.mark.parametrize("handler", [wfc_sync, wfc_async], ids=["sync", "async"])
WFC_FRESH = (
    '#1 START   root/1 wait_for_callback "approval"\n'
    '#1 START   root/1/1 callback "approval create callback id" TimeoutSeconds=300 '
    'HeartbeatTimeoutSeconds=0\n'
    '#2 START   root/1/2 step "approval submitter"\n'
    '#2 SUCCEED root/1/2 step "approval submitter" payload=null\n'
)
CALLBACK_IN_CONTEXT = inner(root(1), 1)


@pytest.fixture(autouse=True)
def _clear_submitted() -> None:
    submitted.clear()


@WFC
def test_wait_for_callback_writes_context_callback_and_submitter_step(
    service: FakeService, handler: Callable[..., Any]
) -> None:
    assert service.invoke(handler) == PENDING
    assert service.rendered() == WFC_FRESH
    assert submitted == [("callback-1", 1)]


@WFC
def test_wait_for_callback_returns_the_answer_and_replays_without_running_the_submitter(
    service: FakeService, handler: Callable[..., Any]
) -> None:
    service.invoke(handler)
    service.callback_succeeds(CALLBACK_IN_CONTEXT, "approved")
    assert result_of(service.invoke(handler)) == "approved"
    assert service.rendered(2) == '#1 SUCCEED root/1 wait_for_callback "approval" payload="approved"\n'
    assert result_of(service.invoke(handler)) == "approved"
    assert len(service.batches) == 3
    assert submitted == [("callback-1", 1)]


@WFC
@pytest.mark.parametrize(
    ("complete", "expected", "error"),
    [
        (lambda s: s.callback_fails(CALLBACK_IN_CONTEXT, REJECTED), "CallbackError", REJECTED),
        (lambda s: s.callback_times_out(CALLBACK_IN_CONTEXT, EXPIRED), "CallbackTimeoutError", EXPIRED),
    ],
    ids=["FAILED", "TIMED_OUT"],
)
def test_wait_for_callback_failures_are_callback_errors_on_every_replay(
    service: FakeService,
    handler: Callable[..., Any],
    complete: Callable[[FakeService], None],
    expected: str,
    error: ErrorObject,
) -> None:
    service.invoke(handler)
    complete(service)
    first = result_of(service.invoke(handler))
    assert first == {
        "error": expected, "type": error.error_type, "message": error.error_message, "name": "approval"
    }
    assert service.rendered(2) == (
        '#1 FAIL    root/1 wait_for_callback "approval" '
        f"error={error.error_type}: {error.error_message}\n"
    )
    assert result_of(service.invoke(handler)) == first
    assert len(service.batches) == 3
    assert submitted == [("callback-1", 1)]


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_failing_submitter_is_a_callback_submitter_error(service: FakeService, flavour: str) -> None:
    @durable_wait_for_callback  # the submitter carries its Name, as with the official SDK's decorator
    def refuse(callback_id: str, step: StepContext) -> None:
        submitted.append((callback_id, step.attempt))
        raise ConnectionError("queue unavailable")

    def sync(event: Any, ctx: DurableContext) -> Any:
        try:
            return ctx.wait_for_callback(refuse(), retry=retry.no_retry)
        except CallbackSubmitterError as exc:
            return [exc.error_type, exc.message, exc.name]

    async def async_(event: Any, ctx: AsyncDurableContext) -> Any:
        try:
            return await ctx.wait_for_callback(refuse(), retry=retry.no_retry)
        except CallbackSubmitterError as exc:
            return [exc.error_type, exc.message, exc.name]

    handler = sync if flavour == "sync" else async_
    expected = ["ConnectionError", "queue unavailable", "refuse"]
    assert result_of(service.invoke(handler)) == expected
    assert service.rendered() == (
        '#1 START   root/1 wait_for_callback "refuse"\n'
        '#1 START   root/1/1 callback "refuse create callback id" TimeoutSeconds=0 '
        'HeartbeatTimeoutSeconds=0\n'
        '#2 START   root/1/2 step "refuse submitter"\n'
        '#2 FAIL    root/1/2 step "refuse submitter" error=ConnectionError: queue unavailable\n'
        '#3 FAIL    root/1 wait_for_callback "refuse" error=ConnectionError: queue unavailable\n'
    )
    assert result_of(service.invoke(handler)) == expected  # replayed: same class, same fields
    assert len(service.batches) == 3
    assert submitted == [("callback-1", 1)]


def test_the_submitter_is_retried_with_the_same_callback_id(service: FakeService) -> None:
    def flaky(callback_id: str, step: StepContext) -> None:
        submitted.append((callback_id, step.attempt))
        if step.attempt == 1:
            raise ConnectionError("try again")

    once = retry.exponential(max_attempts=2, initial_delay=3, jitter=retry.Jitter.NONE)

    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.wait_for_callback(flaky, "approval", retry=once)

    assert service.invoke(handler) == PENDING
    service.retry_delay_elapses(inner(root(1), 2))
    assert service.invoke(handler) == PENDING  # submitted; now waiting for the answer
    service.callback_succeeds(CALLBACK_IN_CONTEXT, "ok")
    assert result_of(service.invoke(handler)) == "ok"
    assert submitted == [("callback-1", 1), ("callback-1", 2)]
    assert service.rendered(1) == (
        '#1 START   root/1/2 step "approval submitter"\n'
        '#1 RETRY   root/1/2 step "approval submitter" error=ConnectionError: try again '
        'NextAttemptDelaySeconds=3\n'
        '#2 START   root/1/2 step "approval submitter"\n'
        '#2 SUCCEED root/1/2 step "approval submitter" payload=null\n'
        '#3 SUCCEED root/1 wait_for_callback "approval" payload="ok"\n'
    )


def test_an_anonymous_submitter_gives_unprefixed_names(service: FakeService) -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.wait_for_callback(lambda callback_id, step: None)

    service.invoke(handler)
    assert service.rendered() == (
        '#1 START   root/1 wait_for_callback\n'
        '#1 START   root/1/1 callback "create callback id" TimeoutSeconds=0 HeartbeatTimeoutSeconds=0\n'
        '#2 START   root/1/2 step "submitter"\n'
        '#2 SUCCEED root/1/2 step "submitter" payload=null\n'
    )


def test_a_history_that_named_an_undecorated_submitter_replays(service: FakeService) -> None:
    """Earlier eventflow versions recorded an undecorated submitter's ``__name__``; such a history still
    replays (the recorded Name is kept), though a new run of ``wait_for_callback(notify)`` records none."""

    def old(event: Any, ctx: DurableContext) -> Any:
        return ctx.wait_for_callback(notify, name="notify")  # what an earlier eventflow recorded

    service.invoke(old)
    service.callback_succeeds(CALLBACK_IN_CONTEXT, "ok")

    def now(event: Any, ctx: DurableContext) -> Any:
        return ctx.wait_for_callback(notify)

    assert result_of(service.invoke(now)) == "ok"
    assert len(submitted) == 1  # run once, by the first invocation; the replay ran nothing


def test_the_submitter_return_value_is_not_checkpointed(service: FakeService) -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.wait_for_callback(lambda callback_id, step: object(), "x")  # not even serializable

    assert service.invoke(handler) == PENDING
    assert "payload=null" in service.rendered()


def test_a_serdes_decodes_the_wait_for_callback_result(service: FakeService) -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.wait_for_callback(notify, "approval", serdes=JsonSerDes())["status"]

    service.invoke(handler)
    service.callback_succeeds(CALLBACK_IN_CONTEXT, '{"status": "approved"}')
    assert result_of(service.invoke(handler)) == "approved"
    assert result_of(service.invoke(handler)) == "approved"  # replayed from the CONTEXT's payload
    assert service.rendered(2) == (
        '#1 SUCCEED root/1 wait_for_callback "approval" payload={"status":"approved"}\n'
    )


def test_sync_and_async_wait_for_callback_write_the_same_checkpoints() -> None:
    rendered = []
    for handler in (wfc_sync, wfc_async):
        service = FakeService()
        service.invoke(handler)
        service.callback_times_out(CALLBACK_IN_CONTEXT, EXPIRED)
        service.invoke(handler)
        rendered.append(service.rendered())
    assert rendered[0] == rendered[1]
    assert rendered[0].startswith(WFC_FRESH)


# -- end to end on the local service ----------------------------------------------------------------


def history_of(service: LocalService, arn: str) -> list[tuple[str, str | None, str | None]]:
    return [(str(e.event_type), e.name, e.sub_type) for e in service.history(arn)]


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_wait_for_callback_end_to_end_on_the_local_service(flavour: str) -> None:
    """The submitter hands the id to an "external system" that answers one second later (service time)."""
    service = LocalService()

    def submit(callback_id: str, step: StepContext) -> None:
        service.at(1, lambda: service.send_callback_success(callback_id, '{"status": "approved"}'))

    def sync(event: Any, ctx: DurableContext) -> Any:
        return ctx.wait_for_callback(submit, "approval", timeout=60, serdes=JsonSerDes())["status"]

    async def async_(event: Any, ctx: AsyncDurableContext) -> Any:
        return (await ctx.wait_for_callback(submit, "approval", timeout=60, serdes=JsonSerDes()))["status"]

    recorder = RecordingBackend(service)
    service.register("fn", DurableHandler(sync if flavour == "sync" else async_, recorder))
    execution = service.run(service.start_execution("fn").arn)
    assert (execution.status, execution.result) == (ExecutionStatus.SUCCEEDED, '"approved"')
    assert history_of(service, execution.arn) == [  # conformance 7.1's shape
        ("ExecutionStarted", None, None),
        ("ContextStarted", "approval", "WaitForCallback"),
        ("CallbackStarted", "approval create callback id", "Callback"),
        ("StepStarted", "approval submitter", "Step"),
        ("StepSucceeded", "approval submitter", "Step"),
        ("InvocationCompleted", None, None),
        ("CallbackSucceeded", "approval create callback id", "Callback"),
        ("ContextSucceeded", "approval", "WaitForCallback"),
        ("InvocationCompleted", None, None),
        ("ExecutionSucceeded", None, None),
    ]
    assert render_checkpoints(recorder.batches, IdLabeler(), verbatim=True) == (
        WFC_FRESH.replace("TimeoutSeconds=300", "TimeoutSeconds=60")
        + '#3 SUCCEED root/1 wait_for_callback "approval" payload={"status":"approved"}\n'
    )


def test_create_callback_times_out_end_to_end_on_the_local_service() -> None:
    service = LocalService()

    def handler(event: Any, ctx: DurableContext) -> Any:
        cb = ctx.create_callback("approval", timeout=5)
        try:
            return cb.result()
        except CallbackTimeoutError as exc:
            return f"gave up: {exc.error_type}"

    service.register("fn", DurableHandler(handler, service))
    execution = service.run(service.start_execution("fn").arn)
    assert (execution.status, execution.result) == (ExecutionStatus.SUCCEEDED, '"gave up: Callback.Timeout"')
    assert history_of(service, execution.arn) == [
        ("ExecutionStarted", None, None),
        ("CallbackStarted", "approval", "Callback"),
        ("InvocationCompleted", None, None),
        ("CallbackTimedOut", "approval", "Callback"),
        ("InvocationCompleted", None, None),
        ("ExecutionSucceeded", None, None),
    ]


@WFC
@pytest.mark.parametrize("status", [OperationStatus.CANCELLED, OperationStatus.STOPPED])
def test_a_cancelled_or_stopped_inner_callback_is_a_callback_error(
    service: FakeService, handler: Callable[..., Any], status: OperationStatus
) -> None:
    service.invoke(handler)
    service.force_status(CALLBACK_IN_CONTEXT, status)
    first = result_of(service.invoke(handler))
    assert first["error"] == "CallbackError"
    assert result_of(service.invoke(handler)) == first
    assert len(service.batches) == 3  # the CONTEXT's FAIL, then nothing


@WFC
@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (OperationStatus.TIMED_OUT, "CallbackTimeoutError"),
        (OperationStatus.CANCELLED, "CallbackError"),
        (OperationStatus.STOPPED, "CallbackError"),
    ],
)
def test_a_context_the_service_ended_itself_replays_without_re_entering(
    service: FakeService, handler: Callable[..., Any], status: OperationStatus, expected: str
) -> None:
    service.invoke(handler)
    service.force_status(root(1), status)
    assert result_of(service.invoke(handler))["error"] == expected
    assert len(service.batches) == 2
    assert submitted == [("callback-1", 1)]
