"""A durable call from inside a step's function is refused at once, naming the step, in every front-end
and on map items' worker threads; the step fails with it (no retry), so the execution fails with it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from eventflow import AsyncDurableContext, DurableCallInStepError, DurableContext, durable_execution
from eventflow.events.enums import ExecutionStatus
from eventflow.testing.harness import DurableHarness


def test_a_step_inside_a_step_fails_the_execution_at_once_naming_the_step() -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.step(lambda _: ctx.step(lambda _: 1, name="inner"), name="outer")

    run = DurableHarness().run(handler)
    assert run.status is ExecutionStatus.FAILED
    assert run.error is not None and run.error.error_type == "eventflow.errors.DurableCallInStepError"
    assert "inside step 'outer'" in (run.error.error_message or "")
    assert run.execution.invocations == 1  # not retried: no retry can fix it
    assert [op.name for op in run.operations[1:]] == ["outer"]  # nothing recorded as a sibling


def test_the_error_reaches_the_step_function_which_may_look_at_it() -> None:
    seen: list[DurableCallInStepError] = []

    def body(ctx: DurableContext) -> str:
        try:
            ctx.wait(seconds=5)
        except DurableCallInStepError as exc:
            seen.append(exc)
        return "done"

    def handler(event: Any, ctx: DurableContext) -> Any:
        value = ctx.step(lambda _: body(ctx))
        ctx.step(lambda _: None, name="after")  # the handler itself still may
        return value

    run = DurableHarness().run(handler)
    assert run.result == "done"
    assert seen and seen[0].step_name is None and "unnamed step" in str(seen[0])


def test_map_items_on_worker_threads_are_checked_each_on_its_own() -> None:
    def item(c: DurableContext, x: int, i: int, items: Any) -> int:
        if x == 2:
            return c.step(lambda _: c.step(lambda _: 0, name="nested"), name=f"bad-{x}")
        return c.step(lambda _: x, name=f"ok-{x}")

    def handler(event: Any, ctx: DurableContext) -> Any:
        result = ctx.map([1, 2, 3, 4], item, name="fan")
        return [r.status.value for r in result.all]

    run = DurableHarness().run(handler)
    assert run.result[:2] == ["SUCCEEDED", "FAILED"]
    failed = next(op for op in run.operations if op.name == "bad-2")
    assert failed.step_details is not None and failed.step_details.error is not None
    assert "inside step 'bad-2'" in (failed.step_details.error.error_message or "")


def test_async_steps_are_checked_per_task() -> None:
    @durable_execution
    async def handler(event: Any, ctx: AsyncDurableContext) -> Any:
        async def outer(_: Any) -> int:
            await asyncio.sleep(0)
            return await ctx.step(lambda _: 1, name="inner")

        async def fine(_: Any) -> int:
            await asyncio.sleep(0)
            return 2

        good = ctx.step(fine, name="fine")  # runs concurrently with the bad one: not flagged
        bad = ctx.step(outer, name="outer")
        results = await asyncio.gather(good, bad, return_exceptions=True)
        return [type(r).__name__ if isinstance(r, BaseException) else r for r in results]

    run = DurableHarness().run(handler)
    assert run.result == [2, "DurableCallInStepError"]


def test_the_error_is_typed_and_terminal() -> None:
    from eventflow import TerminalError

    error = DurableCallInStepError("charge", "a" * 64)
    assert isinstance(error, TerminalError)
    assert "inside step 'charge'" in str(error) and "child_context" in str(error)
    with pytest.raises(DurableCallInStepError):
        raise error
