"""One core, two front-ends: the sync and async APIs write the same checkpoints and replay alike."""

from __future__ import annotations

import asyncio
from typing import Any

from eventflow import AsyncDurableContext, DurableContext, retry
from eventflow.handler import DurableHandler
from eventflow.local import LocalService
from eventflow.testing import RecordingBackend, render_checkpoints

RETRY = retry.exponential(max_attempts=2, initial_delay=1, jitter=retry.Jitter.NONE)


def sync_handler(event: Any, ctx: DurableContext) -> Any:
    a = ctx.step(lambda s: s.attempt if s.attempt > 1 else 1 / 0, name="flaky", retry=RETRY)
    ctx.wait(seconds=2)
    b = ctx.child_context(lambda c: c.step(lambda _: a + event["n"], name="inner"), name="box")
    return [a, b]


async def async_handler(event: Any, ctx: AsyncDurableContext) -> Any:
    async def flaky(s: Any) -> int:
        await asyncio.sleep(0)
        return s.attempt if s.attempt > 1 else 1 / 0  # type: ignore[no-any-return]

    a = await ctx.step(flaky, name="flaky", retry=RETRY)
    await ctx.wait(seconds=2)

    async def box(c: AsyncDurableContext) -> int:
        return await c.step(lambda _: a + event["n"], name="inner")

    b = await ctx.child_context(box, name="box")
    return [a, b]


def run(fn: Any) -> tuple[LocalService, RecordingBackend, Any]:
    service = LocalService()
    recorder = RecordingBackend(service)
    service.register("fn", DurableHandler(fn, recorder))
    execution = service.start_execution("fn", {"n": 40})
    service.run(execution.arn)
    return service, recorder, execution


def test_sync_and_async_write_identical_checkpoints() -> None:
    _, sync_rec, sync_ex = run(sync_handler)
    _, async_rec, async_ex = run(async_handler)
    assert sync_ex.result == async_ex.result == "[2, 42]"
    assert render_checkpoints(sync_rec.batches, verbatim=True) == render_checkpoints(
        async_rec.batches, verbatim=True
    )
    assert [len(b) for b in sync_rec.batches] == [len(b) for b in async_rec.batches]


def test_one_history_replays_through_both_apis_with_zero_new_checkpoints() -> None:
    service, _, execution = run(sync_handler)
    event = service.invocation_input(execution)
    for fn in (sync_handler, async_handler):
        recorder = RecordingBackend(service)
        output = DurableHandler(fn, recorder)(event, None)
        assert output == {"Status": "SUCCEEDED", "Result": "[2, 42]"}
        assert recorder.batches == []


def test_async_handler_can_be_awaited_on_a_running_loop() -> None:
    service, _, execution = run(sync_handler)
    event = service.invocation_input(execution)
    handler = DurableHandler(async_handler, RecordingBackend(service))
    assert asyncio.run(handler.ainvoke(event)) == {"Status": "SUCCEEDED", "Result": "[2, 42]"}
