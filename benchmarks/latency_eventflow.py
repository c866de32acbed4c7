"""eventflow's side of the latency cases: the floor service with a round trip of L, and the workloads.

`LatencyBackend` answers exactly as `benchmarks.eventflow_side.FloorBackend` does, after sleeping L in
every call (a blocking ``time.sleep`` for the sync protocol; `AsyncLatencyBackend` adds ``acheckpoint`` /
``aget_state`` that ``await asyncio.sleep``). The sleep is the quantity measured: what a checkpoint round
trip to the real service costs the caller. Both count calls and updates, so the report can say how many
round trips each operation took. Only the `Backend` / `AsyncBackend` protocols and the public API are
used, so these cases keep measuring whatever the core does with its checkpoints.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from benchmarks.eventflow_side import FloorBackend
from benchmarks.workloads import (
    ASYNC_PARALLEL,
    GATHER,
    MAP,
    PARALLEL,
    STEP_NAME,
    STEPS,
    WAIT,
    LatencyWorkload,
    RepFn,
    Stopwatch,
    Timing,
    check_pending,
    check_succeeded,
    invocation_input,
    io_step_value,
    step_value,
)
from eventflow import DurableContext, MapConfig, durable_execution
from eventflow.backends.base import CheckpointResult, StatePage
from eventflow.events.emitted import AnyUpdate

if TYPE_CHECKING:  # eventflow.aio is imported only by async handlers; so is it here
    from eventflow.aio import AsyncDurableContext


class LatencyBackend:
    """`FloorBackend`'s answers, each after a blocking sleep of ``latency`` seconds; counts what it gets.

    Thread-safe: the counters are updated under a lock, so a core that checkpoints from several threads
    is counted right. The sleep happens outside the lock, so concurrent calls overlap as they would on
    the network.
    """

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.calls = 0
        self.updates = 0
        self.state_calls = 0
        self._floor = FloorBackend()
        self._lock = threading.Lock()

    def _count(self, updates: int) -> None:
        with self._lock:
            self.calls += 1
            self.updates += updates

    def _answer(self, arn: str, token: str, updates: Sequence[AnyUpdate]) -> CheckpointResult:
        with self._lock:  # FloorBackend's token counter is not meant to be shared between threads
            return self._floor.checkpoint(arn, token, updates)  # type: ignore[arg-type]

    def checkpoint(self, arn: str, token: str, updates: Sequence[AnyUpdate]) -> CheckpointResult:
        self._count(len(updates))
        if self.latency:
            time.sleep(self.latency)  # the round trip to the service: what this benchmark measures
        return self._answer(arn, token, updates)

    def get_state(self, arn: str, token: str, marker: str) -> StatePage:
        with self._lock:
            self.state_calls += 1
        if self.latency:
            time.sleep(self.latency)
        return StatePage([], None)


class AsyncLatencyBackend(LatencyBackend):
    """`LatencyBackend` with the async protocol too: ``acheckpoint`` awaits ``asyncio.sleep(latency)``."""

    async def acheckpoint(self, arn: str, token: str, updates: Sequence[AnyUpdate]) -> CheckpointResult:
        self._count(len(updates))
        if self.latency:
            await asyncio.sleep(self.latency)
        return self._answer(arn, token, updates)

    async def aget_state(self, arn: str, token: str, marker: str) -> StatePage:
        with self._lock:
            self.state_calls += 1
        if self.latency:
            await asyncio.sleep(self.latency)
        return StatePage([], None)


# -- the workflows (the same as in latency_official) --------------------------------------------------------


def _sync_workflow(w: LatencyWorkload) -> Callable[[Any, DurableContext], Any]:
    if w.kind == STEPS:
        return lambda event, ctx: sum(ctx.step(step_value(i), name=STEP_NAME) for i in range(w.n))
    if w.kind == MAP:

        def mapped(event: Any, ctx: DurableContext) -> int:
            result = ctx.map(
                list(range(w.n)),
                lambda c, item, index, items: c.step(io_step_value(item, w.io_s), name=STEP_NAME),
                name="map",
                config=MapConfig(max_concurrency=w.concurrency),
            )
            return sum(result.get_results())

        return mapped
    if w.kind == PARALLEL:
        branches = [_branch(i) for i in range(w.n)]
        return lambda event, ctx: sum(ctx.parallel(branches, name="parallel").get_results())
    if w.kind == WAIT:
        return lambda event, ctx: ctx.wait(seconds=60)
    raise ValueError(f"no sync eventflow workflow for {w.kind!r}")


def _branch(i: int) -> Callable[[DurableContext], int]:
    return lambda c: c.step(step_value(i), name=STEP_NAME)


def _async_workflow(w: LatencyWorkload) -> Callable[[Any, AsyncDurableContext], Any]:
    if w.kind == GATHER:

        async def gathered(event: Any, ctx: AsyncDurableContext) -> int:
            values = await asyncio.gather(*(ctx.step(step_value(i), name=STEP_NAME) for i in range(w.n)))
            return sum(values)

        return gathered
    if w.kind == ASYNC_PARALLEL:

        def branch(i: int) -> Callable[[AsyncDurableContext], Any]:
            async def run(c: AsyncDurableContext) -> int:
                return await c.step(step_value(i), name=STEP_NAME)

            return run

        branches = [branch(i) for i in range(w.n)]

        async def paralleled(event: Any, ctx: AsyncDurableContext) -> int:
            return sum((await ctx.parallel(branches, name="parallel")).get_results())

        return paralleled
    raise ValueError(f"no async eventflow workflow for {w.kind!r}")


def is_async(w: LatencyWorkload) -> bool:
    return w.kind in (GATHER, ASYNC_PARALLEL)


def latency_rep(w: LatencyWorkload, latency: float) -> RepFn:
    """One invocation of ``w`` against a fresh stub sleeping ``latency`` per call; the result is checked
    and the stub's counts ride along with the timing."""
    workflow: Callable[[Any, Any], Any] = _async_workflow(w) if is_async(w) else _sync_workflow(w)
    make: type[LatencyBackend] = AsyncLatencyBackend if is_async(w) else LatencyBackend
    event = invocation_input()

    def rep() -> Timing:
        backend = make(latency)
        handler = durable_execution(backend=backend)(workflow)
        watch = Stopwatch()
        output = handler(event, None)
        elapsed = watch.stop()
        if w.kind == WAIT:
            check_pending(output)
        else:
            check_succeeded(output, w.expected)
        return elapsed.counted(backend.calls + backend.state_calls, backend.updates)

    return rep
