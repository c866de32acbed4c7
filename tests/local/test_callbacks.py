"""Callbacks on the local service: start, answer, fail, time out, heartbeat; history shapes as the
conformance suite's callback/*.yaml expect them (EventIds dense from ExecutionStarted = 1)."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path

import pytest

from eventflow.errors import CheckpointError
from eventflow.events.enums import ExecutionStatus, OperationStatus
from eventflow.events.wire import ErrorObject
from eventflow.local import CallbackNotFoundError, CallbackTimedOutError, LocalService, VirtualClock
from eventflow.local.sqlite_store import SqliteStore

from .helpers import (
    PENDING,
    RawHandler,
    callback_start,
    match_history,
    step_start,
    step_succeed,
    succeeded,
    types,
    wait_start,
)

CB = "cb-1"


def start(service: LocalService, handler: RawHandler, payload: str = '"in"') -> str:
    service.register("fn", handler)
    return service.start_execution("fn", input_payload=payload).arn


def create_callback(**options: int):  # type: ignore[no-untyped-def]
    def step(h: RawHandler) -> dict[str, str]:
        h.checkpoint(callback_start(CB, "approve", **options))
        return PENDING

    return step


def callback_id(service: LocalService, arn: str) -> str:
    op = service.get(arn).operations[CB]
    assert op.callback_details is not None and op.callback_details.callback_id
    return op.callback_details.callback_id


def test_callback_start_answers_started_with_an_unguessable_id() -> None:
    service = LocalService()
    answers = {}

    def step(h: RawHandler) -> dict[str, str]:
        answers.update(h.checkpoint(callback_start(CB, "approve", timeout=30, heartbeat=10)))
        return PENDING

    arn = start(service, RawHandler(service, step))
    service.run(arn)
    op = answers[CB]
    assert op.status == OperationStatus.STARTED
    cid = op.callback_details.callback_id
    assert len(base64.urlsafe_b64decode(cid + "=" * (-len(cid) % 4))) * 8 >= 128
    assert cid.replace("-", "").replace("_", "").isalnum()
    other = LocalService()
    arn2 = start(other, RawHandler(other, create_callback()))
    other.run(arn2)
    assert callback_id(other, arn2) != cid
    started = service.history(arn)[1].to_wire()
    assert started["CallbackStartedDetails"] == {"CallbackId": cid, "Timeout": 30, "HeartbeatTimeout": 10}


def test_callback_success_conformance_4_1() -> None:
    service = LocalService()
    handler = RawHandler(service, create_callback(), succeeded('"done"'))
    arn = start(service, handler)
    execution = service.run(arn)
    assert execution.status is ExecutionStatus.RUNNING and handler.calls == 1
    service.send_callback_success(callback_id(service, arn), b'"payload-1"')
    execution = service.run(arn)
    assert execution.status is ExecutionStatus.SUCCEEDED
    op = execution.operations[CB]
    assert op.status == OperationStatus.SUCCEEDED and op.callback_details.result == '"payload-1"'
    # The second invocation saw the answer in its input.
    seen = {o["Id"]: o for o in handler.inputs[1]["InitialExecutionState"]["Operations"]}
    assert seen[CB]["Status"] == "SUCCEEDED" and seen[CB]["CallbackDetails"]["Result"] == '"payload-1"'
    bound = match_history(
        service.history(arn),
        [
            {"EventType": "ExecutionStarted", "EventId": 1},
            {
                "EventType": "CallbackStarted",
                "SubType": "Callback",
                "EventId": 2,
                "Id": "${ID1}",
                "Name": "approve",
                "EventTimestamp": "*",
                "CallbackStartedDetails": {"CallbackId": "${CBID}"},
            },
            {"EventType": "InvocationCompleted", "EventId": 3, "InvocationCompletedDetails": "*"},
            {
                "EventType": "CallbackSucceeded",
                "SubType": "Callback",
                "EventId": 4,
                "Id": "${ID1}",
                "Name": "approve",
                "CallbackSucceededDetails": {"Result": {"Payload": '"payload-1"'}},
            },
            {"EventType": "InvocationCompleted", "EventId": 5, "InvocationCompletedDetails": "*"},
            {"EventType": "ExecutionSucceeded", "EventId": 6, "ExecutionSucceededDetails": {"Result": "*"}},
        ],
    )
    assert bound["CBID"] == callback_id(service, arn)
    assert len(service.history(arn)) == 6


def test_callback_failure_conformance_4_6() -> None:
    service = LocalService()

    def fail(h: RawHandler) -> dict[str, object]:
        error = h.ops[CB].callback_details.error
        return {"Status": "FAILED", "Error": error.to_wire()}

    arn = start(service, RawHandler(service, create_callback(), fail))
    service.run(arn)
    error = ErrorObject(error_type="RejectedError", error_message="not approved")
    service.send_callback_failure(callback_id(service, arn), error)
    execution = service.run(arn)
    assert execution.status is ExecutionStatus.FAILED
    assert execution.operations[CB].status == OperationStatus.FAILED
    assert execution.operations[CB].callback_details.error == error
    match_history(
        service.history(arn),
        [
            {"EventType": "CallbackStarted", "EventId": 2},
            {"EventType": "InvocationCompleted", "EventId": 3},
            {
                "EventType": "CallbackFailed",
                "EventId": 4,
                "Name": "approve",
                "CallbackFailedDetails": {
                    "Error": {"Payload": {"ErrorType": "RejectedError", "ErrorMessage": "not approved"}}
                },
            },
            {"EventType": "InvocationCompleted", "EventId": 5},
            {
                "EventType": "ExecutionFailed",
                "EventId": 6,
                "ExecutionFailedDetails": {
                    "Error": {"Payload": {"ErrorType": "*", "ErrorMessage": "not approved"}}
                },
            },
        ],
    )


def test_callback_timeout_conformance_4_3() -> None:
    clock = VirtualClock()
    t0 = clock.now()
    service = LocalService(clock)
    arn = start(service, RawHandler(service, create_callback(timeout=5), succeeded('"x"')))
    execution = service.run(arn)
    assert execution.status is ExecutionStatus.SUCCEEDED
    op = execution.operations[CB]
    assert op.status == OperationStatus.TIMED_OUT and op.end_timestamp == t0 + timedelta(seconds=5)
    assert op.callback_details.error.error_type == "Callback.Timeout"
    events = service.history(arn)
    assert types(events) == [
        "ExecutionStarted",
        "CallbackStarted",
        "InvocationCompleted",
        "CallbackTimedOut",
        "InvocationCompleted",
        "ExecutionSucceeded",
    ]
    match_history(
        events,
        [
            {"EventId": 2, "CallbackStartedDetails": {"CallbackId": "*", "Timeout": 5}},
            {
                "EventId": 4,
                "EventTimestamp": "*",
                "CallbackTimedOutDetails": {"Error": {"Payload": {"ErrorType": "Callback.Timeout"}}},
            },
        ],
    )
    assert events[3].event_timestamp == t0 + timedelta(seconds=5)
    with pytest.raises(CallbackTimedOutError):
        service.send_callback_success(op.callback_details.callback_id, "late")


def test_heartbeat_timeout_conformance_4_4() -> None:
    service = LocalService()
    arn = start(service, RawHandler(service, create_callback(heartbeat=5), succeeded("1")))
    service.run(arn)
    events = service.history(arn)
    match_history(
        events,
        [
            {"EventId": 2, "EventType": "CallbackStarted", "CallbackStartedDetails": {"HeartbeatTimeout": 5}},
            {
                "EventId": 4,
                "EventType": "CallbackTimedOut",
                "CallbackTimedOutDetails": {"Error": {"Payload": {"ErrorType": "Callback.Heartbeat"}}},
            },
        ],
    )


def test_heartbeats_keep_a_callback_alive_conformance_4_5() -> None:
    clock = VirtualClock()
    t0 = clock.now()
    service = LocalService(clock)
    arn = start(service, RawHandler(service, create_callback(heartbeat=10), succeeded("1")))
    for at in (8, 16, 24):  # each heartbeat pushes the deadline 10 s out
        service.at(at, lambda: service.send_callback_heartbeat(callback_id(service, arn)))
    service.at(30, lambda: service.send_callback_success(callback_id(service, arn), '"ok"'))
    execution = service.run(arn)
    assert execution.status is ExecutionStatus.SUCCEEDED
    events = service.history(arn)
    assert types(events) == [
        "ExecutionStarted",
        "CallbackStarted",
        "InvocationCompleted",
        "CallbackSucceeded",
        "InvocationCompleted",
        "ExecutionSucceeded",
    ]
    assert events[3].event_timestamp == t0 + timedelta(seconds=30)


def test_answer_at_1s_is_seen_before_a_5s_wait_conformance_4_9() -> None:
    """The official testing library's skip clock fires the 5 s wait first; the service must not."""
    clock = VirtualClock()
    t0 = clock.now()
    service = LocalService(clock)

    def first(h: RawHandler) -> dict[str, str]:
        h.checkpoint(callback_start(CB, "approve"), wait_start("w-1", 5))
        return PENDING

    arn = start(service, RawHandler(service, first, lambda h: PENDING, succeeded('"ok"')))
    service.at(1, lambda: service.send_callback_success(callback_id(service, arn), '"yes"'))
    execution = service.run(arn)
    assert execution.status is ExecutionStatus.SUCCEEDED
    events = service.history(arn)
    assert types(events) == [
        "ExecutionStarted",
        "CallbackStarted",
        "WaitStarted",
        "InvocationCompleted",
        "CallbackSucceeded",
        "InvocationCompleted",
        "WaitSucceeded",
        "InvocationCompleted",
        "ExecutionSucceeded",
    ]
    assert [e.event_timestamp - t0 for e in events] == [
        timedelta(seconds=s) for s in (0, 0, 0, 0, 1, 1, 5, 5, 5)
    ]
    match_history(
        events,
        [
            {"EventId": 3, "WaitStartedDetails": {"Duration": 5, "ScheduledEndTimestamp": "*"}},
            {"EventId": 7, "WaitSucceededDetails": {"Duration": 5}},
        ],
    )


def test_callback_times_out_during_a_longer_wait_conformance_4_11() -> None:
    service = LocalService()

    def first(h: RawHandler) -> dict[str, str]:
        h.checkpoint(callback_start(CB, "approve", timeout=3), wait_start("w-1", 6))
        return PENDING

    fail = lambda h: {"Status": "FAILED", "Error": {"ErrorType": "CallbackError"}}  # noqa: E731
    arn = start(service, RawHandler(service, first, lambda h: PENDING, fail))
    assert service.run(arn).status is ExecutionStatus.FAILED
    assert types(service.history(arn)) == [
        "ExecutionStarted",
        "CallbackStarted",
        "WaitStarted",
        "InvocationCompleted",
        "CallbackTimedOut",
        "InvocationCompleted",
        "WaitSucceeded",
        "InvocationCompleted",
        "ExecutionFailed",
    ]


@pytest.mark.parametrize(("delays", "order"), [((3, 4), ["a", "b"]), ((4, 1), ["b", "a"])])
def test_two_callbacks_answered_in_time_order_conformance_4_18_4_19(
    delays: tuple[int, int], order: list[str]
) -> None:
    service = LocalService()

    def first(h: RawHandler) -> dict[str, str]:
        h.checkpoint(callback_start("a", "a"), callback_start("b", "b"))
        return PENDING

    arn = start(service, RawHandler(service, first, lambda h: PENDING, succeeded("2")))

    def answer(op_id: str) -> None:
        cid = service.get(arn).operations[op_id].callback_details.callback_id
        service.send_callback_success(cid, f'"{op_id}"')

    for op_id, delay in zip("ab", delays, strict=True):
        service.at(delay, lambda op_id=op_id: answer(op_id))
    service.run(arn)
    events = service.history(arn)
    assert types(events) == [
        "ExecutionStarted",
        "CallbackStarted",
        "CallbackStarted",
        "InvocationCompleted",
        "CallbackSucceeded",
        "InvocationCompleted",
        "CallbackSucceeded",
        "InvocationCompleted",
        "ExecutionSucceeded",
    ]
    assert [events[4].name, events[6].name] == order


def test_callback_with_a_step_conformance_4_7() -> None:
    service = LocalService()

    def first(h: RawHandler) -> dict[str, str]:
        h.checkpoint(callback_start(CB, "approve"))
        h.checkpoint(step_start("s-1", "work"), step_succeed("s-1", "1", "work"))
        return PENDING

    arn = start(service, RawHandler(service, first, succeeded("1")))
    service.run(arn)
    service.send_callback_failure(callback_id(service, arn), ErrorObject(error_type="RejectedError"))
    service.run(arn)
    assert types(service.history(arn)) == [
        "ExecutionStarted",
        "CallbackStarted",
        "StepStarted",
        "StepSucceeded",
        "InvocationCompleted",
        "CallbackFailed",
        "InvocationCompleted",
        "ExecutionSucceeded",
    ]


def test_unknown_finished_and_repeated_callback_ids_are_refused() -> None:
    service = LocalService()
    arn = start(service, RawHandler(service, create_callback(), succeeded("1")))
    service.run(arn)
    with pytest.raises(CallbackNotFoundError):
        service.send_callback_success("no-such-callback", "x")
    with pytest.raises(CallbackNotFoundError):
        service.send_callback_heartbeat("no-such-callback")
    cid = callback_id(service, arn)
    service.send_callback_success(cid, "1")
    with pytest.raises(CallbackNotFoundError):
        service.send_callback_success(cid, "2")
    with pytest.raises(CallbackNotFoundError):
        service.send_callback_failure(cid, None)
    service.run(arn)
    assert service.get(arn).status is ExecutionStatus.SUCCEEDED


def test_callback_of_an_ended_execution_is_not_found() -> None:
    service = LocalService()
    arn = start(service, RawHandler(service, create_callback()))
    service.run(arn)
    cid = callback_id(service, arn)
    service.stop(arn)
    with pytest.raises(CallbackNotFoundError):
        service.send_callback_success(cid, "1")


def test_answer_during_an_invocation_comes_back_in_the_next_checkpoint() -> None:
    service = LocalService()

    def first(h: RawHandler) -> dict[str, str]:
        h.checkpoint(callback_start(CB))
        return PENDING

    def second(h: RawHandler) -> dict[str, str]:
        h.checkpoint(callback_start("cb-2"))
        cid = h.ops["cb-2"].callback_details.callback_id
        service.send_callback_success(cid, '"fast"')  # an outside answer while the handler runs
        changed = h.checkpoint(step_start("s-1"))
        assert changed["cb-2"].status == OperationStatus.SUCCEEDED
        return PENDING

    handler = RawHandler(service, first, second, succeeded("1"))
    arn = start(service, handler)
    service.run(arn)
    service.send_callback_success(callback_id(service, arn), "1")
    service.run(arn)
    assert handler.calls == 3  # the answer during invocation 2 made the execution ready again


def test_callback_start_is_validated() -> None:
    service = LocalService()

    def bad(h: RawHandler) -> dict[str, str]:
        with pytest.raises(CheckpointError, match="negative"):
            h.checkpoint(callback_start(CB, timeout=-1))
        return {"Status": "SUCCEEDED", "Result": "1"}

    arn = start(service, RawHandler(service, bad))
    assert service.run(arn).status is ExecutionStatus.SUCCEEDED
    assert types(service.history(arn)) == ["ExecutionStarted", "InvocationCompleted", "ExecutionSucceeded"]


def test_oversized_callback_result_is_refused() -> None:
    service = LocalService()
    arn = start(service, RawHandler(service, create_callback()))
    service.run(arn)
    from eventflow.local.errors import RequestTooLargeError

    with pytest.raises(RequestTooLargeError):
        service.send_callback_success(callback_id(service, arn), "x" * (256 * 1024 + 1))


@pytest.mark.parametrize("ending", ["succeed", "fail", "timeout", "heartbeat"])
@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_an_ended_callback_leaves_the_index_and_is_still_refused_the_same_way(
    ending: str, store: str, tmp_path: Path
) -> None:
    """The callback-id index holds only open callbacks: an id leaves it when its callback succeeds, fails or
    times out, and when its execution ends; the store still answers for it, so a late answer gets the same
    refusal as ever (and after a restart, only open callbacks are indexed again)."""
    path = tmp_path / "flows.db"

    def service_on_store() -> LocalService:
        return LocalService(store=SqliteStore(path) if store == "sqlite" else None)

    def second_callback(h: RawHandler) -> dict[str, str]:
        h.checkpoint(callback_start("cb-2", "second"))
        return PENDING

    options = {"timeout": {"timeout": 5}, "heartbeat": {"heartbeat": 5}}.get(ending, {})
    service = service_on_store()
    arn = start(service, RawHandler(service, create_callback(**options), second_callback))
    service.run(arn)  # a timeout ends the first callback here: virtual time jumps to it
    cid = callback_id(service, arn)
    if ending == "succeed":
        service.send_callback_success(cid, '"yes"')
    elif ending == "fail":
        service.send_callback_failure(cid, ErrorObject(error_type="No"))
    refusal = CallbackTimedOutError if ending in ("timeout", "heartbeat") else CallbackNotFoundError
    assert cid not in service._state.callback_arns  # before the execution even sees the news
    with pytest.raises(refusal):
        service.send_callback_success(cid, '"late"')
    service.run(arn)
    second = service.get(arn).operations["cb-2"].callback_details.callback_id
    assert service.get(arn).running and set(service._state.callback_arns) == {second}

    if store == "sqlite":  # a restart indexes the open callback only; the ended one is found in the store
        service.store.close()
        service = service_on_store()
        assert set(service._state.callback_arns) == {second}
        with pytest.raises(refusal):
            service.send_callback_heartbeat(cid)
    service.stop(arn)
    assert service._state.callback_arns == {}  # the execution ended: its open callback went too
    for late in (cid, second):
        with pytest.raises(CallbackNotFoundError) as info:
            service.send_callback_success(late, '"late"')
        assert type(info.value) is (refusal if late == cid else CallbackNotFoundError)
    service.store.close()
