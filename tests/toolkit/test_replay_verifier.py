"""The replay verifier: a recorded history replayed against changed code reports the right operation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eventflow import DurableContext, StepContext, retry
from eventflow.events.enums import OperationStatus, OperationType
from eventflow.testing.harness import DurableHarness, DurableRun
from eventflow.testing.histories import dumps_json, dumps_jsonl, loads_record
from eventflow.testing.reconstruct import operations_from_events
from eventflow.testing.replay import verify, verify_file

NO_JITTER = retry.exponential(max_attempts=3, initial_delay=2, jitter=retry.Jitter.NONE)
RAN: list[str] = []


def _flaky(step: StepContext) -> str:
    if step.attempt < 2:
        raise ConnectionError("down")
    return "paid"


def v1(event: Any, ctx: DurableContext) -> Any:
    price = ctx.step(lambda _: event["qty"] * 5, name="price")
    ctx.wait(seconds=60, name="hold")
    paid = ctx.step(_flaky, name="charge", retry=NO_JITTER)
    parcel = ctx.child_context(lambda c: c.step(lambda _: f"parcel-{price}", name="label"), name="ship")
    return {"price": price, "paid": paid, "parcel": parcel}


def renamed_charge(event: Any, ctx: DurableContext) -> Any:
    price = ctx.step(lambda _: RAN.append("price") or event["qty"] * 5, name="price")
    ctx.wait(seconds=60, name="hold")
    paid = ctx.step(_flaky, name="charge-v2", retry=NO_JITTER)
    return {"price": price, "paid": paid}


def renamed_inside_child(event: Any, ctx: DurableContext) -> Any:
    price = ctx.step(lambda _: event["qty"] * 5, name="price")
    ctx.wait(seconds=60, name="hold")
    paid = ctx.step(_flaky, name="charge", retry=NO_JITTER)
    parcel = ctx.child_context(lambda c: c.step(lambda _: f"parcel-{price}", name="label-v2"), name="ship")
    return {"price": price, "paid": paid, "parcel": parcel}


def extra_step(event: Any, ctx: DurableContext) -> Any:
    result = v1(event, ctx)
    ctx.step(lambda _: RAN.append("notify"), name="notify")
    return result


def stops_early(event: Any, ctx: DurableContext) -> Any:
    price = ctx.step(lambda _: event["qty"] * 5, name="price")
    ctx.wait(seconds=60, name="hold")
    return {"price": price}


def new_result(event: Any, ctx: DurableContext) -> Any:
    return {**v1(event, ctx), "version": 2}


@pytest.fixture(scope="module")
def recorded() -> DurableRun:
    run = DurableHarness().run(v1, {"qty": 3})
    assert run.result == {"price": 15, "paid": "paid", "parcel": "parcel-15"}
    return run


def test_the_unchanged_handler_replays_cleanly(recorded: DurableRun) -> None:
    report = verify(recorded.history, v1)
    assert report.ok, str(report)
    assert report.complete and report.operations == 5


def test_a_renamed_step_is_caught_at_its_operation_without_running_step_code(recorded: DurableRun) -> None:
    RAN.clear()
    report = verify(recorded.history, renamed_charge)
    assert report.divergence is not None
    assert report.divergence.label == "root/3"
    assert report.divergence.name == "charge"
    assert report.divergence.operation_id == recorded.operations[3].id
    assert report.divergence.recorded == 'STEP/Step "charge" under root'
    assert report.divergence.now == 'STEP/Step "charge-v2" under root'
    assert RAN == []  # replay returned the recorded "price" without calling the step function


def test_a_change_inside_a_finished_child_context_is_caught(recorded: DurableRun) -> None:
    report = verify(recorded.history, renamed_inside_child)
    assert report.divergence is not None
    assert (report.divergence.label, report.divergence.name) == ("root/4/1", "label")
    assert verify(recorded.history, renamed_inside_child, deep=False).ok  # a plain replay skips the inside


def test_a_new_operation_after_the_recorded_end_is_caught_before_it_runs(recorded: DurableRun) -> None:
    RAN.clear()
    report = verify(recorded.history, extra_step)
    assert report.divergence is not None
    assert report.divergence.label == "root/5"
    assert report.divergence.name == "notify"
    assert "the execution had finished" in report.divergence.recorded
    assert RAN == []


def test_code_that_stops_early_names_the_first_operation_it_skips(recorded: DurableRun) -> None:
    report = verify(recorded.history, stops_early)
    assert report.divergence is not None
    assert (report.divergence.label, report.divergence.name) == ("root/3", "charge")
    assert report.divergence.now == "finishes without reaching it"


def test_a_different_result_is_caught_at_the_execution(recorded: DurableRun) -> None:
    report = verify(recorded.history, new_result)
    assert report.divergence is not None and report.divergence.label == "execution"
    assert '"version": 2' in report.divergence.now


def test_an_unfinished_history_replays_up_to_where_it_stops(recorded: DurableRun) -> None:
    until_wait = [e for e in recorded.history if (e.event_id or 0) <= 5]  # ends in the wait
    assert verify(until_wait, extra_step).ok
    report = verify(until_wait, renamed_charge)
    assert report.ok and not report.complete  # the renamed step lies beyond the recording


def test_operations_are_rebuilt_from_events_through_the_machines(recorded: DurableRun) -> None:
    rebuilt = {op.id: op for op in operations_from_events(recorded.history)}
    for op in recorded.operations:
        mine = rebuilt[op.id]
        assert (mine.type, mine.status, mine.name, mine.parent_id, mine.sub_type) == (
            op.type,
            op.status,
            op.name,
            op.parent_id,
            op.sub_type,
        )
    charge = next(op for op in rebuilt.values() if op.name == "charge")
    assert charge.step_details is not None and charge.step_details.attempt == 2
    assert rebuilt[recorded.operations[0].id].type is OperationType.EXECUTION
    assert all(op.status is OperationStatus.SUCCEEDED for op in list(rebuilt.values())[1:])


def test_exported_files_replay_as_json_and_jsonl(recorded: DurableRun, tmp_path: Path) -> None:
    (tmp_path / "h.json").write_text(dumps_json(recorded.history))
    (tmp_path / "h.jsonl").write_text(dumps_jsonl(recorded.history))
    (tmp_path / "ops.json").write_text(dumps_json(operations=recorded.operations))
    for name in ("h.json", "h.jsonl", "ops.json"):
        assert verify_file(tmp_path / name, v1).ok, name
        report = verify_file(tmp_path / name, renamed_charge)
        assert report.divergence is not None and report.divergence.label == "root/3", name
    assert len(loads_record((tmp_path / "h.jsonl").read_text()).events) == len(recorded.history)


def test_async_handlers_replay_too(recorded: DurableRun) -> None:
    async def async_renamed(event: Any, ctx: Any) -> Any:
        price = await ctx.step(lambda _: event["qty"] * 5, name="price")
        await ctx.wait(seconds=60, name="hold")
        return await ctx.step(_flaky, name="charge-async", retry=NO_JITTER), price

    report = verify(recorded.history, async_renamed)
    assert report.divergence is not None and report.divergence.label == "root/3"


def test_a_final_step_failed_with_a_zero_retry_delay_folds_as_failed() -> None:
    """The official testing library writes ``NextAttemptDelaySeconds: 0`` on a step's last failure; a RETRY's
    delay is at least 1 s, so 0 is the final outcome, not a retry that leaves the step PENDING."""
    from eventflow.events.history import Event as HistoryEvent
    from eventflow.testing.reconstruct import is_retry_event, operations_from_events

    def failed(event_id: int, delay: int) -> HistoryEvent:
        return HistoryEvent.from_wire({
            "EventType": "StepFailed", "EventId": event_id, "Id": "s", "Name": "doomed", "SubType": "Step",
            "EventTimestamp": 1_700_000_000_000,
            "StepFailedDetails": {"Error": {"Payload": {"ErrorType": "StepError", "ErrorMessage": "no"}},
                                  "RetryDetails": {"CurrentAttempt": event_id // 2,
                                                   "NextAttemptDelaySeconds": delay}},
        })

    def started(event_id: int) -> HistoryEvent:
        return HistoryEvent.from_wire({"EventType": "StepStarted", "EventId": event_id, "Id": "s",
                                       "Name": "doomed", "SubType": "Step",
                                       "EventTimestamp": 1_700_000_000_000, "StepStartedDetails": {}})

    execution = HistoryEvent.from_wire({"EventType": "ExecutionStarted", "EventId": 1, "Id": "x",
                                        "EventTimestamp": 1_700_000_000_000,
                                        "ExecutionStartedDetails": {"Input": {"Payload": "null"}}})
    events = [execution, started(2), failed(3, 1), started(4), failed(5, 0)]
    assert [is_retry_event(e) for e in events] == [False, False, True, False, False]
    step = operations_from_events(events)[1]
    assert step.status == "FAILED"
