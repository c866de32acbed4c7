"""The eventflow side of every benchmark: handlers, the floor service, and one-repetition functions.

Each ``*_rep`` factory builds what a repetition needs once (handler, invocation input) and returns a
`RepFn` that times only the invocation itself. The workloads mirror `benchmarks.official_side` exactly.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.workloads import (
    ARN,
    CHILD_NAME,
    LEAF_NAME,
    STEP_NAME,
    TOKEN,
    RepFn,
    Stopwatch,
    Timing,
    check_succeeded,
    completed_steps,
    invocation_input,
    op_id,
    step_value,
)
from eventflow import DurableContext, durable_execution
from eventflow.backends.base import Backend, CheckpointResult, StatePage
from eventflow.events.enums import OperationAction, OperationStatus, OperationType
from eventflow.events.records import OperationRecord
from eventflow.events.wire import OperationUpdate
from eventflow.local import LocalService

_STATUS_AFTER = {
    OperationAction.START: OperationStatus.STARTED,
    OperationAction.SUCCEED: OperationStatus.SUCCEEDED,
    OperationAction.FAIL: OperationStatus.FAILED,
    OperationAction.RETRY: OperationStatus.PENDING,
    OperationAction.CANCEL: OperationStatus.CANCELLED,
}


class FloorBackend:
    """The cheapest service an eventflow invocation can talk to: it returns a fresh token and echoes each
    updated operation in its new status (as CheckpointDurableExecution's NewExecutionState does), and
    checks nothing. It gives eventflow the same zero-latency service the official SDK gets from
    `benchmarks.official_side.StubServiceClient`.
    """

    def __init__(self) -> None:
        self._serial = itertools.count(1)
        self.calls = 0

    def checkpoint(self, arn: str, token: str, updates: Sequence[OperationUpdate]) -> CheckpointResult:
        self.calls += 1
        latest: dict[str, OperationUpdate] = {}
        for update in updates:  # START and SUCCEED of one step travel together: echo the outcome once
            latest[update.id] = update
        return CheckpointResult(f"token-{next(self._serial)}", [echo(u) for u in latest.values()])

    def get_state(self, arn: str, token: str, marker: str) -> StatePage:
        return StatePage([], None)


def echo(update: OperationUpdate) -> OperationRecord:
    """The operation as the service would return it after ``update``, as the record a backend hands
    eventflow (`eventflow.events.records`; `LambdaBackend` validates the service's answer into these).

    The floor service's job is to cost as close to nothing as possible, so that what is measured is the
    SDK. Its answers are built from values the SDK itself produced, so there is nothing to validate.
    """
    record: OperationRecord = {
        "id": update.id,
        "type": update.type,
        "status": _STATUS_AFTER[update.action],
        "parent_id": update.parent_id,
        "name": update.name,
        "sub_type": update.sub_type,
    }
    outcome: dict[str, Any] = {"result": update.payload}
    if update.error is not None:
        outcome["error"] = update.error.model_dump(exclude_none=True)
    if update.type is OperationType.STEP:
        record["step_details"] = {"attempt": 1, **outcome}
    elif update.type is OperationType.CONTEXT:
        record["context_details"] = outcome
    return record


def stub_rep(n: int) -> RepFn:
    """The floor service's own cost for ``n`` steps: the checkpoint calls eventflow makes for them by
    default, a START and then a SUCCEED (each attempt's START is on record before its code runs).

    Measured in the same run so the report can tell eventflow's time from the stub's: the issue asks for
    a zero-latency service, and this is how far from zero the stub is.
    """
    batches = [
        [
            OperationUpdate(
                id=op_id,
                name=STEP_NAME,
                type=OperationType.STEP,
                sub_type="Step",
                action=action,
                payload=None if action is OperationAction.START else str(i),
            )
        ]
        for i, op_id in enumerate(op_id(str(i + 1)) for i in range(n))
        for action in (OperationAction.START, OperationAction.SUCCEED)
    ]

    def rep() -> Timing:
        backend = FloorBackend()
        watch = Stopwatch()
        for batch in batches:
            backend.checkpoint(ARN, TOKEN, batch)
        return watch.stop()

    return rep


# -- workflows (the same as in official_side) ---------------------------------------------------------------


def steps_workflow(n: int) -> Callable[[Any, DurableContext], int]:
    def workflow(event: Any, ctx: DurableContext) -> int:
        for i in range(n):
            ctx.step(step_value(i), name=STEP_NAME)
        return n

    return workflow


def empty_workflow(event: Any, ctx: DurableContext) -> None:
    return None


def nested_workflow(depth: int) -> Callable[[Any, DurableContext], int]:
    def level(ctx: DurableContext, remaining: int) -> int:
        if remaining == 0:
            return ctx.step(step_value(depth), name=LEAF_NAME)
        return ctx.child_context(lambda child: level(child, remaining - 1), name=CHILD_NAME)

    return lambda event, ctx: level(ctx, depth)


def _timed(handler: Callable[[dict[str, Any], Any], Any], event: dict[str, Any], expected: Any) -> RepFn:
    def rep() -> Timing:
        watch = Stopwatch()
        output = handler(event, None)
        elapsed = watch.stop()
        check_succeeded(output, expected)
        return elapsed

    return rep


# -- repetitions --------------------------------------------------------------------------------------------


def new_steps_rep(n: int, backend_factory: Callable[[], Backend] = FloorBackend) -> RepFn:
    """One invocation that runs ``n`` new steps, each checkpointed (START + SUCCEED) before it returns."""
    workflow = steps_workflow(n)
    event = invocation_input()

    def rep() -> Timing:
        handler = durable_execution(backend=backend_factory())(workflow)
        return _timed(handler, event, n)()

    return rep


def replay_rep(n: int) -> RepFn:
    """One invocation whose ``n`` steps are all recorded: every step replays, nothing is checkpointed."""
    handler = durable_execution(backend=FloorBackend())(steps_workflow(n))
    return _timed(handler, invocation_input(completed_steps(n)), n)


def empty_rep(batch: int) -> RepFn:
    """``batch`` invocations of a handler that returns at once; the time is per invocation."""
    handler = durable_execution(backend=FloorBackend())(empty_workflow)
    event = invocation_input()

    def rep() -> Timing:
        watch = Stopwatch()
        for _ in range(batch):
            output = handler(event, None)
        elapsed = watch.stop()
        check_succeeded(output, None)
        return elapsed.per(batch)

    return rep


def nested_rep(depth: int) -> RepFn:
    """Child contexts nested ``depth`` deep, one step at the bottom, all new."""
    workflow = nested_workflow(depth)
    event = invocation_input()

    def rep() -> Timing:
        handler = durable_execution(backend=FloorBackend())(workflow)
        return _timed(handler, event, depth)()

    return rep


# -- end to end on the local service -----------------------------------------------------------------------


def e2e_rep(n: int, store: str = "memory") -> RepFn:
    """Start an execution of ``n`` steps on `LocalService` and run it to its end: the service validates
    every checkpoint through its state machines, writes history and hands back pages, as Lambda would."""
    workflow = durable_execution(steps_workflow(n))

    def rep() -> Timing:
        with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
            service = _local_service(store, Path(tmp))
            service.register("bench", workflow)
            watch = Stopwatch()
            execution = service.start_execution("bench", {})
            service.run(execution.arn)
            elapsed = watch.stop()
            if str(execution.status) not in {"SUCCEEDED", "ExecutionStatus.SUCCEEDED"}:
                raise AssertionError(f"local execution ended {execution.status}: {execution.error}")
            close = getattr(service.store, "close", None)
            if close is not None:
                close()
            return elapsed

    return rep


def _local_service(store: str, tmp: Path) -> LocalService:
    if store == "memory":
        return LocalService()
    from eventflow.local.sqlite_store import SqliteStore

    return LocalService(store=SqliteStore(tmp / "bench.sqlite3"))


# -- map / parallel (only once eventflow has them) ---------------------------------------------------------


def has_batches() -> bool:
    """Whether this eventflow has ``ctx.map`` and ``ctx.parallel`` (added after the benchmarks were)."""
    return hasattr(DurableContext, "map") and hasattr(DurableContext, "parallel")


def map_rep(items: int, max_concurrency: int) -> RepFn:
    """``map`` over ``items`` items, ``max_concurrency`` at a time, one step each, on the floor service."""
    from eventflow.batch import MapConfig

    def workflow(event: Any, ctx: DurableContext) -> int:
        result = ctx.map(
            list(range(items)),
            lambda c, item, index, all_items: c.step(step_value(item), name=STEP_NAME),
            name="map",
            config=MapConfig(max_concurrency=max_concurrency),
        )
        return len(result.get_results())

    event = invocation_input()

    def rep() -> Timing:
        handler = durable_execution(backend=FloorBackend())(workflow)
        return _timed(handler, event, items)()

    return rep


def parallel_waits_rep(branches: int) -> RepFn:
    """``parallel`` with ``branches`` branches that each wait 1 s, run on `LocalService` (virtual clock):
    the invocation suspends, the service fires the timers, the next invocation resumes and finishes."""

    def branch(c: DurableContext) -> int:
        c.wait(seconds=1)
        return 1

    def workflow(event: Any, ctx: DurableContext) -> int:
        result = ctx.parallel([branch] * branches, name="parallel")
        return len(result.get_results())

    handler = durable_execution(workflow)

    def rep() -> Timing:
        service = LocalService()
        service.register("bench", handler)
        watch = Stopwatch()
        execution = service.start_execution("bench", {})
        service.run(execution.arn)
        elapsed = watch.stop()
        if execution.result != str(branches):
            raise AssertionError(f"parallel ended {execution.status} with {execution.result!r}")
        return elapsed

    return rep


# -- memory -------------------------------------------------------------------------------------------------


def run_new_steps(n: int) -> None:
    """Run ``n`` new steps once, untimed (for tracemalloc)."""
    handler = durable_execution(backend=FloorBackend())(steps_workflow(n))
    check_succeeded(handler(invocation_input(), None), n)


def run_replay(event: dict[str, Any], n: int) -> None:
    """Replay ``n`` recorded steps once, untimed (for tracemalloc); ``event`` is built by the caller."""
    handler = durable_execution(backend=FloorBackend())(steps_workflow(n))
    check_succeeded(handler(event, None), n)
