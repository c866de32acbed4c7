"""Cost: a 10,000-step workflow end to end through the in-memory service, paging, and linear growth."""

from __future__ import annotations

import time
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


def run(n: int) -> tuple[float, LocalService, str]:
    service = LocalService()
    service.register("many", many_steps(n))
    arn = service.start_execution("many").arn
    started = time.perf_counter()
    service.run(arn)
    return time.perf_counter() - started, service, arn


def test_ten_thousand_steps_end_to_end() -> None:
    elapsed, service, arn = run(10_000)
    execution = service.get(arn)
    assert execution.status is ExecutionStatus.SUCCEEDED
    assert execution.result == str(sum(range(10_000)))
    assert len(execution.operations) == 10_001 and execution.invocations == 1
    events, marker = service.get_history(arn, max_items=100_000)
    assert marker is None and len(events) == 2 * 10_000 + 3
    assert [e.event_id for e in events] == list(range(1, len(events) + 1))
    assert elapsed < 30, f"10,000 steps took {elapsed:.1f} s"


def test_cost_per_step_does_not_grow_with_the_execution() -> None:
    small, _, _ = run(500)
    large, _, _ = run(4_000)
    # Linear: 8x the steps cost about 8x; an O(n) scan per checkpoint would cost about 64x.
    assert large / small < 40, f"500 steps: {small:.2f} s, 4,000 steps: {large:.2f} s"


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
