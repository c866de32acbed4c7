"""The SQLite store: an execution survives a process restart and resumes; each step is one transaction."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from eventflow import durable_execution
from eventflow.errors import CheckpointError
from eventflow.events.enums import ExecutionStatus, OperationStatus
from eventflow.local import LocalService, VirtualClock
from eventflow.local.sqlite_store import SqliteStore

from .helpers import PENDING, RawHandler, callback_start, step_start, succeeded, types, wait_start

CALLS: list[str] = []


@durable_execution
def workflow(event: Any, ctx: Any) -> Any:
    a = ctx.step(lambda _: CALLS.append("a") or event["x"] + 1, name="a")
    ctx.wait(seconds=60)
    b = ctx.child_context(lambda c: c.step(lambda _: CALLS.append("b") or a * 10, name="b"), name="child")
    return {"a": a, "b": b}


def test_an_execution_resumes_in_a_new_service_over_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "flows.db"
    CALLS.clear()
    first = LocalService(VirtualClock(), store=SqliteStore(path))
    first.register("workflow", workflow)
    arn = first.start_execution("workflow", {"x": 1}, name="order-1").arn
    first.invoke(arn)  # one invocation: step a, then the wait suspends it
    assert CALLS == ["a"]
    before = first.history(arn)
    first.store.close()
    del first  # "the process ends"

    second = LocalService(VirtualClock(), store=SqliteStore(path))
    assert second.get(arn).status is ExecutionStatus.RUNNING
    assert second.next_timer() == before[0].event_timestamp + timedelta(seconds=60)  # the wait was re-armed
    second.register("workflow", workflow)
    execution = second.run(arn)
    assert execution.status is ExecutionStatus.SUCCEEDED and execution.result == '{"a": 2, "b": 20}'
    assert CALLS == ["a", "b"]  # step a was not run again
    events = second.history(arn)
    assert [e.to_wire() for e in events[: len(before)]] == [e.to_wire() for e in before]
    assert [e.event_id for e in events] == list(range(1, len(events) + 1))
    assert types(events) == [
        "ExecutionStarted",
        "StepStarted",
        "StepSucceeded",
        "WaitStarted",
        "InvocationCompleted",
        "WaitSucceeded",
        "ContextStarted",
        "StepStarted",
        "StepSucceeded",
        "ContextSucceeded",
        "InvocationCompleted",
        "ExecutionSucceeded",
    ]
    second.store.close()

    third = LocalService(store=SqliteStore(path))  # a finished execution is still readable
    assert third.get(arn).result == '{"a": 2, "b": 20}'
    assert [e.to_wire() for e in third.history(arn)] == [e.to_wire() for e in events]
    assert [s.name for s in third.list_executions("workflow")[0]] == ["order-1"]
    third.register("workflow", workflow)
    assert third.start_execution("workflow", {"x": 1}, name="order-1").arn == arn  # idempotent by name
    third.store.close()


def test_a_callback_can_be_answered_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "flows.db"
    first = LocalService(store=SqliteStore(path))
    first.register(
        "fn",
        RawHandler(
            first, lambda h: (h.checkpoint(callback_start("cb", "approve", timeout=3600)), PENDING)[1]
        ),
    )
    arn = first.start_execution("fn").arn
    first.run_due()  # the callback's 1 h timeout is a timer: do not let virtual time reach it
    op = first.get(arn).operations["cb"]
    callback_id = op.callback_details.callback_id
    first.store.close()

    second = LocalService(store=SqliteStore(path))
    second.send_callback_success(callback_id, '"approved"')  # found through the store's callback index
    second.register("fn", RawHandler(second, succeeded('"done"')))
    execution = second.run(arn)
    assert execution.status is ExecutionStatus.SUCCEEDED
    assert execution.operations["cb"].callback_details.result == '"approved"'
    assert types(second.history(arn)) == [
        "ExecutionStarted",
        "CallbackStarted",
        "InvocationCompleted",
        "CallbackSucceeded",
        "InvocationCompleted",
        "ExecutionSucceeded",
    ]
    second.store.close()


def test_a_checkpoint_the_store_refuses_leaves_no_trace(tmp_path: Path) -> None:
    path = tmp_path / "flows.db"
    service = LocalService(store=SqliteStore(path))
    # A real failure inside the transaction, after the operation rows were written: the event insert aborts.
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TRIGGER refuse_waits BEFORE INSERT ON events WHEN NEW.data LIKE '%WaitStarted%' "
            "BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
        )
    outcome: dict[str, Any] = {}

    def step(h: RawHandler) -> dict[str, str]:
        h.checkpoint(step_start("s"))
        token = h.token
        with pytest.raises(CheckpointError, match="disk says no") as info:
            h.checkpoint(wait_start("w", 5))
        outcome["terminal"] = info.value.terminal
        outcome["ops"] = dict(service.get(h.arn).operations)
        outcome["token"] = service.get(h.arn).token == token
        return PENDING

    service.register("fn", RawHandler(service, step))
    arn = service.start_execution("fn").arn
    service.invoke(arn)
    assert outcome["terminal"] is False and outcome["token"] is True  # the same token may be retried
    assert "w" not in outcome["ops"] and outcome["ops"]["s"].status == OperationStatus.STARTED
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM operations WHERE op_id = 'w'").fetchone() == (0,)
    fresh = LocalService(store=SqliteStore(path))
    assert "w" not in fresh.get(arn).operations
