"""The official SDK's side of the latency cases: its stub service client with a round trip of L.

`LatencyStubClient` answers as `benchmarks.official_side.StubServiceClient` does, after a blocking sleep
of L per call, and counts calls and updates: the official SDK checkpoints from a background thread
through a sync `DurableServiceClient`, so a blocking sleep is what a real round trip costs it. It has no
async API: the async cases compare eventflow's async handler with its ``parallel``.

Import only when the official SDK is installed (`benchmarks.environment.official_available`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.concurrency.models import BatchResult
from aws_durable_execution_sdk_python.config import Duration, MapConfig
from aws_durable_execution_sdk_python.execution import (
    DurableExecutionInvocationInput,
    DurableExecutionInvocationInputWithClient,
)
from aws_durable_execution_sdk_python.lambda_service import CheckpointOutput, OperationUpdate, StateOutput

from benchmarks.official_side import StubServiceClient
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


class LatencyStubClient(StubServiceClient):
    """`StubServiceClient`'s answers after a blocking sleep of ``latency`` seconds, with counters."""

    def __init__(self, latency: float) -> None:
        super().__init__()
        self.latency = latency
        self.updates = 0
        self.state_calls = 0
        self._lock = threading.Lock()

    def checkpoint(
        self,
        durable_execution_arn: str,
        checkpoint_token: str,
        updates: list[OperationUpdate],
        client_token: str | None,
    ) -> CheckpointOutput:
        with self._lock:
            self.updates += len(updates)
        if self.latency:
            time.sleep(self.latency)  # the round trip to the service: what this benchmark measures
        with self._lock:  # the parent counts calls and hands out tokens
            return super().checkpoint(durable_execution_arn, checkpoint_token, updates, client_token)

    def get_execution_state(
        self, durable_execution_arn: str, checkpoint_token: str, next_marker: str, max_items: int = 1000
    ) -> StateOutput:
        with self._lock:
            self.state_calls += 1
        if self.latency:
            time.sleep(self.latency)
        return StateOutput()


def _workflow(w: LatencyWorkload) -> Callable[[Any, DurableContext], Any]:
    if w.kind == STEPS:

        def steps(event: Any, ctx: DurableContext) -> int:
            return sum(ctx.step(step_value(i), name=STEP_NAME) for i in range(w.n))

        return steps
    if w.kind == MAP:

        def mapped(event: Any, ctx: DurableContext) -> int:
            result: BatchResult[int] = ctx.map(
                list(range(w.n)),
                lambda c, item, index, items: c.step(io_step_value(item, w.io_s), name=STEP_NAME),
                name="map",
                config=MapConfig(max_concurrency=w.concurrency),
            )
            return sum(result.get_results())

        return mapped
    if w.kind in (PARALLEL, GATHER, ASYNC_PARALLEL):  # no async API: its parallel is the counterpart
        branches = [_branch(i) for i in range(w.n)]

        def paralleled(event: Any, ctx: DurableContext) -> int:
            return sum(ctx.parallel(branches, name="parallel").get_results())

        return paralleled
    if w.kind == WAIT:

        def waits(event: Any, ctx: DurableContext) -> None:
            ctx.wait(Duration.from_seconds(60))

        return waits
    raise ValueError(f"no official workflow for {w.kind!r}")


def _branch(i: int) -> Callable[[DurableContext], int]:
    def branch(c: DurableContext) -> int:
        value: int = c.step(step_value(i), name=STEP_NAME)
        return value

    return branch


def latency_rep(w: LatencyWorkload, latency: float) -> RepFn:
    """One invocation of ``w`` against a fresh stub client sleeping ``latency`` per call, checked."""
    handler = durable_execution(_workflow(w))
    event = invocation_input()

    def rep() -> Timing:
        client = LatencyStubClient(latency)
        watch = Stopwatch()
        parsed = DurableExecutionInvocationInput.from_json_dict(event)
        output = handler(
            DurableExecutionInvocationInputWithClient.from_durable_execution_invocation_input(parsed, client),
            None,  # type: ignore[arg-type]  # the official wrapper reads nothing of a LambdaContext here
        )
        elapsed = watch.stop()
        if w.kind == WAIT:
            check_pending(output)
        else:
            check_succeeded(output, w.expected)
        return elapsed.counted(client.calls + client.state_calls, client.updates)

    return rep
