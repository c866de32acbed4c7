"""Scale: a 10,000-step workflow end to end through the in-memory service, and paging.

How the cost grows with the execution is measured by the benchmarks (`python -m benchmarks`, the
"linear" target), not timed here: a timed unit test on a shared machine proves nothing and flakes.
"""

from __future__ import annotations

from typing import Any

from eventflow import durable_execution
from eventflow.events.enums import ExecutionStatus
from eventflow.local import LocalService


def many_steps(n: int) -> Any:
    @durable_execution
    def handler(event: Any, ctx: Any) -> int:
        total = 0
        for i in range(n):
            total += ctx.step(lambda _, i=i: i, name=f"s{i}")
        return total

    return handler


def run(n: int) -> tuple[LocalService, str]:
    service = LocalService()
    service.register("many", many_steps(n))
    arn = service.start_execution("many").arn
    service.run(arn)
    return service, arn


def test_ten_thousand_steps_end_to_end() -> None:
    service, arn = run(10_000)
    execution = service.get(arn)
    assert execution.status is ExecutionStatus.SUCCEEDED
    assert execution.result == str(sum(range(10_000)))
    assert len(execution.operations) == 10_001 and execution.invocations == 1
    events, marker = service.get_history(arn, max_items=100_000)
    assert marker is None and len(events) == 2 * 10_000 + 3
    assert [e.event_id for e in events] == list(range(1, len(events) + 1))


def test_replay_pages_state_through_get_durable_execution_state() -> None:
    @durable_execution
    def handler(event: Any, ctx: Any) -> int:
        values = [ctx.step(lambda _, i=i: i, name=f"s{i}") for i in range(30)]
        ctx.wait(seconds=5)
        return sum(values) + ctx.step(lambda _: 1, name="after")

    service = LocalService(page_size=7)
    service.register("paged", handler)
    arn = service.start_execution("paged").arn
    execution = service.run(arn)
    assert execution.status is ExecutionStatus.SUCCEEDED and execution.result == str(sum(range(30)) + 1)
    assert execution.invocations == 2
    page = service.invocation_input(execution)["InitialExecutionState"]
    assert len(page["Operations"]) == 7 and page["NextMarker"] == "7"
