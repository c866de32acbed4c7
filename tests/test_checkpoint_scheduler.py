"""Checkpoints at the speed of the network: the group-commit scheduler on its own (no I/O), then what it
gives handlers: operations running side by side share calls, map and parallel items really run at once in
the sync API, a failed checkpoint stops the invocation for good, and the service's answers go through the
machines."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from eventflow import (
    AsyncDurableContext,
    CheckpointError,
    DurableContext,
    MapConfig,
    ParallelConfig,
    durable_execution,
)
from eventflow.backends.base import CheckpointResult, StatePage
from eventflow.core.batching import MAX_BATCH_UPDATES
from eventflow.core.scheduler import CheckpointScheduler
from eventflow.errors import UnexpectedStatusError
from eventflow.events.emitted import AnyUpdate
from eventflow.events.enums import ExecutionStatus, OperationAction, OperationStatus, OperationType
from eventflow.events.wire import Operation, OperationUpdate, StepDetails, WaitDetails
from eventflow.handler import DurableHandler
from eventflow.local import LocalService
from eventflow.testing import RecordingBackend

ARN = "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST/durable-execution/n/e"


def update(op_id: str, action: OperationAction = OperationAction.START) -> OperationUpdate:
    return OperationUpdate(id=op_id, type=OperationType.STEP, sub_type="Step", action=action)


# -- the scheduler, sans I/O ---------------------------------------------------------------------------------


def test_updates_queued_while_a_call_is_in_flight_go_together_in_the_next_one() -> None:
    s = CheckpointScheduler()
    s.pending.append(update("a"))
    first = s.target()
    assert s.next_call() == [update("a")]
    assert s.next_call() is None  # one call in flight at a time: tokens chain
    s.pending.extend([update("b"), update("c")])
    second, third = s.target(), s.target()
    assert not s.done(first)
    s.ended()
    assert s.done(first) and not s.done(second)
    assert s.next_call() == [update("b"), update("c")]  # both waiters' updates in one call
    s.ended()
    assert s.done(second) and s.done(third) and s.next_call() is None


def test_a_call_carries_the_longest_legal_prefix_of_the_queue() -> None:
    s = CheckpointScheduler()
    s.pending.extend([update("a"), update("a", OperationAction.SUCCEED), update("a", OperationAction.RETRY)])
    target = s.target()
    assert [u.action for u in s.next_call() or []] == ["START", "SUCCEED"]  # START pairs; a third may not
    s.ended()
    assert [u.action for u in s.next_call() or []] == ["RETRY"]
    s.ended()
    assert s.done(target)
    s.pending.extend(update(f"op{i}") for i in range(MAX_BATCH_UPDATES + 1))
    s.target()
    assert len(s.next_call() or []) == MAX_BATCH_UPDATES


def test_nothing_is_sent_before_somebody_flushes_or_a_whole_period_passes_without_a_new_step() -> None:
    s = CheckpointScheduler(linger=0.05)
    s.pending.append(update("a"))
    assert s.next_call() is None  # queued, nobody waits
    assert s.defer() is True and s.arm() == 0.05
    assert s.defer() is False and s.arm() is None  # the armed timer covers later steps too
    assert s.expire() is True  # a step started during the period: another period
    assert s.next_call() is None
    s.pending.append(update("b"))
    assert s.expire() is False  # a whole period with no new step: the code is still running
    assert s.next_call() == [update("a"), update("b")]  # due though nobody flushed
    s.ended()
    assert s.expire() is False and not s.timer_armed  # nothing queued: the timer stops
    assert s.defer() is True  # the next step arms it again


def test_a_failed_call_breaks_the_scheduler_for_good() -> None:
    s = CheckpointScheduler()
    s.pending.append(update("a"))
    target = s.target()
    s.next_call()
    s.failed(CheckpointError("connection reset", terminal=False))
    for ask in (s.target, lambda: s.done(target)):
        with pytest.raises(CheckpointError, match=r"failed earlier .*connection reset") as raised:
            ask()
        assert not raised.value.terminal
    assert s.next_call() is None


# -- what handlers get ---------------------------------------------------------------------------------


class SlowService:
    """The local service behind a round trip: every checkpoint call takes ``latency`` seconds."""

    def __init__(self, service: LocalService, latency: float) -> None:
        self.service = service
        self.latency = latency
        self.batches: list[list[AnyUpdate]] = []

    def checkpoint(self, arn: str, token: str, updates: Sequence[AnyUpdate]) -> CheckpointResult:
        time.sleep(self.latency)
        self.batches.append(list(updates))
        return self.service.checkpoint(arn, token, updates)

    def get_state(self, arn: str, token: str, marker: str) -> StatePage:
        return self.service.get_state(arn, token, marker)

    async def acheckpoint(self, arn: str, token: str, updates: Sequence[AnyUpdate]) -> CheckpointResult:
        await asyncio.sleep(self.latency)
        self.batches.append(list(updates))
        return self.service.checkpoint(arn, token, updates)

    async def aget_state(self, arn: str, token: str, marker: str) -> StatePage:
        return self.service.get_state(arn, token, marker)


def run_on(backend_for: Any, handler: Any) -> tuple[Any, Any]:
    service = LocalService()
    backend = backend_for(service)
    service.register("fn", DurableHandler(handler, backend))
    execution = service.start_execution("fn")
    service.run(execution.arn)
    return execution, backend


def test_a_sequential_step_is_one_round_trip() -> None:
    def handler(event: Any, ctx: DurableContext) -> int:
        return sum(ctx.step(lambda _, i=i: i, name=f"s{i}") for i in range(5))

    execution, backend = run_on(lambda s: SlowService(s, 0.002), handler)
    assert execution.result == "10"
    assert [[u.action.value for u in b] for b in backend.batches] == [["START", "SUCCEED"]] * 5


def test_async_gathered_steps_share_calls() -> None:
    async def handler(event: Any, ctx: AsyncDurableContext) -> int:
        values = await asyncio.gather(*(ctx.step(lambda _, i=i: i, name=f"s{i}") for i in range(20)))
        return sum(values)

    execution, backend = run_on(lambda s: SlowService(s, 0.01), handler)
    assert execution.result == "190"
    # The first step's call is in flight while the other 19 queue theirs: they all go in the second.
    assert [len(b) for b in backend.batches] == [2, 38]


def test_sync_map_items_run_at_once_up_to_max_concurrency() -> None:
    running, most = 0, 0
    lock = threading.Lock()
    barrier = threading.Barrier(4, timeout=10)  # four items must be in their steps at the same time

    def work(item: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        if item < 4:
            barrier.wait()
        time.sleep(0.005)
        with lock:
            running -= 1
        return item * 2

    def handler(event: Any, ctx: DurableContext) -> list[int]:
        result = ctx.map(
            list(range(12)), lambda c, x, i, _: c.step(lambda _: work(x), name="w"),
            config=MapConfig(max_concurrency=4),
        )
        return result.get_results()

    execution, _ = run_on(RecordingBackend, handler)
    assert execution.status is ExecutionStatus.SUCCEEDED, execution.error
    assert execution.result == str([i * 2 for i in range(12)])
    assert most == 4  # as many as allowed, never more


def test_sync_parallel_branches_share_calls() -> None:
    arrived = threading.Barrier(10, timeout=10)

    def branch(c: DurableContext) -> str:
        return c.step(lambda _: arrived.wait() or "ok", name="b")  # all ten in their steps at once

    def handler(event: Any, ctx: DurableContext) -> int:
        return len(ctx.parallel([branch] * 10, config=ParallelConfig(max_concurrency=10)).get_results())

    execution, backend = run_on(lambda s: SlowService(s, 0.005), handler)
    assert execution.result == "10"
    step_completions = [
        sum(1 for u in b if u.type is OperationType.STEP and u.action is OperationAction.SUCCEED)
        for b in backend.batches
    ]
    assert sum(step_completions) == 10
    assert len(backend.batches) < 20  # 31 calls when each branch paid its own three
    assert max(step_completions) >= 2  # completions of concurrent branches travelled together


class FailingOnce:
    """A backend whose first checkpoint call fails after the service applied it (a lost answer)."""

    def __init__(self, service: LocalService) -> None:
        self.service = service
        self.calls = 0

    def checkpoint(self, arn: str, token: str, updates: Sequence[AnyUpdate]) -> CheckpointResult:
        self.calls += 1
        result = self.service.checkpoint(arn, token, updates)
        if self.calls == 1:
            raise CheckpointError("connection reset after the request was sent")
        return result

    def get_state(self, arn: str, token: str, marker: str) -> StatePage:
        return self.service.get_state(arn, token, marker)


def test_a_caught_checkpoint_error_cannot_lead_to_succeeded() -> None:
    later: list[str] = []

    def handler(event: Any, ctx: DurableContext) -> str:
        try:
            ctx.step(lambda _: 1, name="first")
        except Exception as exc:  # a handler that swallows everything
            later.append(type(exc).__name__)
        try:
            ctx.step(lambda _: 2, name="second")
        except Exception as exc:
            later.append(str(exc))
        return "carried on"

    service = LocalService()
    backend = FailingOnce(service)
    handler_fn = DurableHandler(handler, backend)
    service.register("fn", handler_fn)
    execution = service.start_execution("fn")
    with pytest.raises(CheckpointError, match="failed earlier"):
        handler_fn(service.invocation_input(execution), None)
    assert later[0] == "CheckpointError"
    assert "failed earlier" in later[1] and "connection reset" in later[1]
    assert backend.calls == 1  # nothing was built on the broken state


class Misreporting:
    """A backend whose service answers with a status the operation's machine cannot reach."""

    def __init__(self, answer: Operation) -> None:
        self.answer = answer

    def checkpoint(self, arn: str, token: str, updates: Sequence[AnyUpdate]) -> CheckpointResult:
        return CheckpointResult("t1", [self.answer])

    def get_state(self, arn: str, token: str, marker: str) -> StatePage:
        raise AssertionError("not paged")


def invocation_input(*operations: dict[str, Any]) -> dict[str, Any]:
    execution = {
        "Id": "e", "Type": "EXECUTION", "Status": "STARTED", "ExecutionDetails": {"InputPayload": "{}"}
    }
    return {
        "DurableExecutionArn": ARN,
        "CheckpointToken": "t0",
        "InitialExecutionState": {"Operations": [execution, *operations]},
    }


def test_a_wait_reported_failed_is_refused_naming_the_operation() -> None:
    wait_id = "1ced8f5be2db23a6513eba4d819c73806424748a7bc6fa0d792cc1c7d1775a97"
    answer = Operation(
        id=wait_id, type=OperationType.WAIT, sub_type="Wait", status=OperationStatus.FAILED,
        wait_details=WaitDetails(),
    )
    handler = durable_execution(backend=Misreporting(answer))(lambda e, ctx: ctx.wait(seconds=5))
    with pytest.raises(UnexpectedStatusError) as raised:
        handler(invocation_input(), None)
    error = raised.value
    assert (error.op_id, error.op_type) == (wait_id, "WAIT")
    assert (error.status, error.reported) == ("STARTED", "FAILED")
    assert wait_id in str(error) and "cannot reach from STARTED" in str(error)


def test_a_step_going_back_from_succeeded_to_started_is_refused() -> None:
    first = "1ced8f5be2db23a6513eba4d819c73806424748a7bc6fa0d792cc1c7d1775a97"
    regressed = Operation(
        id=first, type=OperationType.STEP, sub_type="Step", status=OperationStatus.STARTED,
        step_details=StepDetails(attempt=1),
    )

    def handler(event: Any, ctx: DurableContext) -> int:
        return ctx.step(lambda _: 1, name="one") + ctx.step(lambda _: 2, name="two")

    wrapped = durable_execution(backend=Misreporting(regressed))(handler)
    with pytest.raises(UnexpectedStatusError, match="as STARTED, which its state machine cannot reach from"):
        wrapped(invocation_input(), None)
