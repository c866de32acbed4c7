"""Ended executions leave memory: a service that has run many holds only the ones that can still change,
and reads the others back from its store when asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eventflow import DurableContext, durable_execution
from eventflow.events.enums import ExecutionStatus
from eventflow.local import LocalService, VirtualClock
from eventflow.local.sqlite_store import SqliteStore

EXECUTIONS = 10_000
BATCH = 500


@durable_execution
def one_step(event: Any, ctx: DurableContext) -> Any:
    return ctx.step(lambda _: event["n"] + 1, name="add")


@durable_execution
def waits_for_a_callback(event: Any, ctx: DurableContext) -> Any:
    return ctx.create_callback("cb").result()


def test_ten_thousand_executions_on_sqlite_leave_none_in_memory(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "many.db", synchronous="OFF")
    service = LocalService(VirtualClock(), store=store)
    service.register("one_step", one_step)
    service.register("waits", waits_for_a_callback)
    parked = service.start_execution("waits", {})
    service.run_all()
    held = 0
    arns = []
    for batch in range(0, EXECUTIONS, BATCH):
        arns += [service.start_execution("one_step", {"n": n}).arn for n in range(batch, batch + BATCH)]
        service.run_all()
        held = max(held, len(service.executions))
    assert held == 1  # after each batch: the parked execution only, never the ones that ended
    assert list(service.executions) == [parked.arn]
    first = service.describe(arns[0])  # read back from the store
    assert first.status is ExecutionStatus.SUCCEEDED and first.result == "1"
    assert [e.event_type for e in service.history(arns[-1])][-1] == "ExecutionSucceeded"
    assert list(service.executions) == [parked.arn]  # reading did not bring it back
    store.close()


def test_an_execution_that_ends_while_its_handler_runs_leaves_memory_when_the_handler_returns() -> None:
    service = LocalService(VirtualClock())
    seen: list[int] = []

    @durable_execution
    def stops_itself(event: Any, ctx: DurableContext) -> Any:
        service.stop(arn_box[0])
        seen.append(len(service.executions))  # still in flight: still held
        return "done"

    arn_box: list[str] = []
    service.register("fn", stops_itself)
    arn_box.append(service.start_execution("fn", {}).arn)
    service.run_all()
    assert seen == [1]
    assert service.executions == {}
    assert service.get(arn_box[0]).status is ExecutionStatus.STOPPED
