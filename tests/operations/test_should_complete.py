"""`CompletionConfig(should_complete=...)`: a completion rule of the user's own for map and parallel.

It decides alone (no fail-fast, no tolerance), is asked before any item starts and after each item
finishes, ends the batch CUSTOM_COMPLETION_SUCCEEDED / CUSTOM_COMPLETION_FAILED, and is not asked again
when a replay finds the batch recorded as ended.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from test_map_parallel import run  # the same run on the local service, recorded

from eventflow import AsyncDurableContext, DurableContext
from eventflow.batch import (
    BatchItemStatus,
    BatchResult,
    CompletionConfig,
    CompletionDecision,
    CompletionOutcome,
    CompletionStatus,
    MapConfig,
    ParallelConfig,
    complete_batch,
    continue_batch,
)
from eventflow.errors import BatchCompletionError, InvalidInputError
from eventflow.events.enums import ExecutionStatus


def projection(result: BatchResult[Any]) -> dict[str, Any]:
    return {
        "reason": result.completion_reason.value,
        "status": result.status.value,
        "statuses": [item.status.value for item in result.all],
        "results": result.get_results(),
    }


def fails_on(bad: set[int]) -> Callable[..., Any]:
    def item(c: DurableContext, x: int, i: int, items: Any) -> int:
        if i in bad:
            raise ValueError(f"item {i} is bad")
        return x * 10

    return item


def quorum(n: int, seen: list[tuple[int, int, int]]) -> CompletionConfig:
    def should_complete(status: CompletionStatus) -> CompletionDecision:
        seen.append((status.success_count, status.failure_count, status.total_count))
        return complete_batch() if status.success_count >= n else continue_batch()

    return CompletionConfig(should_complete=should_complete)


def test_a_quorum_ends_the_batch_and_failures_do_not_end_it_early() -> None:
    seen: list[tuple[int, int, int]] = []
    config = MapConfig(max_concurrency=1, completion_config=quorum(2, seen))

    def handler(event: Any, ctx: DurableContext) -> Any:
        return projection(ctx.map([1, 2, 3, 4, 5], fails_on({0, 1}), name="m", config=config))

    r = run(handler)
    assert r.result["reason"] == "CUSTOM_COMPLETION_SUCCEEDED"
    assert r.result["statuses"] == ["FAILED", "FAILED", "SUCCEEDED", "SUCCEEDED"]  # item 4 never started
    assert r.result["status"] == "SUCCEEDED"  # the decision's outcome, though items failed
    assert seen == [(0, 0, 5), (0, 1, 5), (0, 2, 5), (1, 2, 5), (2, 2, 5)]  # before any item, then each


def test_a_failed_outcome_fails_the_batch_even_without_a_failed_item() -> None:
    statuses: list[list[BatchItemStatus | None]] = []

    def should_complete(status: CompletionStatus) -> CompletionDecision:
        statuses.append([item.status for item in status.items])
        names = [item.name for item in status.items]
        assert names == ["fast", "slow"]
        if status.items[0].status is BatchItemStatus.SUCCEEDED:
            return complete_batch(CompletionOutcome.FAILED)  # e.g. a quorum that can no longer be met
        return continue_batch()

    def handler(event: Any, ctx: DurableContext) -> Any:
        result = ctx.parallel(
            {"fast": lambda c: "f", "slow": lambda c: "s"},
            config=ParallelConfig(
                max_concurrency=1, completion_config=CompletionConfig(should_complete=should_complete)
            ),
        )
        assert projection(result)["reason"] == "CUSTOM_COMPLETION_FAILED"
        assert result.status is BatchItemStatus.FAILED
        with pytest.raises(BatchCompletionError):
            result.throw_if_error()
        result.throw_if_error()

    r = run(handler)
    assert r.execution.status is ExecutionStatus.FAILED
    assert r.execution.error is not None
    assert "CUSTOM_COMPLETION_FAILED" in (r.execution.error.error_message or "")
    assert statuses == [[None, None], [BatchItemStatus.SUCCEEDED, None]]


def test_a_rule_that_never_completes_runs_every_item() -> None:
    config = MapConfig(completion_config=CompletionConfig(should_complete=lambda status: continue_batch()))

    def handler(event: Any, ctx: DurableContext) -> Any:
        return projection(ctx.map([1, 2, 3], fails_on({0, 2}), name="m", config=config))

    r = run(handler)
    assert r.result["reason"] == "ALL_COMPLETED"
    assert r.result["statuses"] == ["FAILED", "SUCCEEDED", "FAILED"]


def test_a_recorded_batch_is_replayed_without_asking_the_rule_and_a_live_one_asks_again() -> None:
    seen: list[tuple[int, int, int]] = []
    config = MapConfig(completion_config=quorum(2, seen))

    def handler(event: Any, ctx: DurableContext) -> Any:
        def item(c: DurableContext, x: int, i: int, items: Any) -> int:
            if i == 0:
                c.wait(seconds=5)  # suspends: the next invocation runs the batch live again
            return x

        result = ctx.map([1, 2, 3], item, name="m", config=config)
        ctx.wait(seconds=1)
        return projection(result)

    r = run(handler)
    assert r.result["reason"] == "CUSTOM_COMPLETION_SUCCEEDED"
    assert r.result["statuses"] == ["STARTED", "SUCCEEDED", "SUCCEEDED"]
    assert r.execution.invocations == 2  # the rule ended the batch before item 0's wait did
    asked = len(seen)
    output, recorder = r.replay()
    assert output["Status"] == "SUCCEEDED" and recorder.batches == []
    assert len(seen) == asked  # the recorded result is the answer


def test_async_front_end() -> None:
    seen: list[tuple[int, int, int]] = []
    config = MapConfig(completion_config=quorum(1, seen), max_concurrency=1)

    async def handler(event: Any, ctx: AsyncDurableContext) -> Any:
        async def item(c: AsyncDurableContext, x: int, i: int, items: Any) -> int:
            await asyncio.sleep(0)
            return x

        return projection(await ctx.map([7, 8], item, name="m", config=config))

    r = run(handler)
    assert r.result["reason"] == "CUSTOM_COMPLETION_SUCCEEDED"
    assert r.result["statuses"] == ["SUCCEEDED"] and r.result["results"] == [7]


def test_bad_rules_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="cannot be combined"):
        CompletionConfig(min_successful=1, should_complete=lambda s: continue_batch())
    with pytest.raises(InvalidInputError, match="callable"):
        CompletionConfig(should_complete="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="outcome"):
        CompletionDecision(True)
    config = MapConfig(completion_config=CompletionConfig(should_complete=lambda s: True))  # type: ignore[arg-type,return-value]

    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.map([1], lambda c, x, i, items: x, name="m", config=config).get_results()

    r = run(handler)
    assert r.execution.status is ExecutionStatus.FAILED
    assert r.execution.error is not None and "continue_batch()" in (r.execution.error.error_message or "")
