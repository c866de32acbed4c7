"""The official SDK's side of every benchmark: the same workflows, a stub service client, its test runner.

Import this module only when ``aws_durable_execution_sdk_python`` is installed (the ``bench`` extra);
`benchmarks.environment.official_available` tells.

The official ``durable_execution`` wrapper takes a `DurableServiceClient` through
``DurableExecutionInvocationInputWithClient`` (the door its own testing library uses). The wire input dict
is parsed into that inside the timed region, exactly as the wrapper parses a plain dict, so both SDKs
pay for reading the same input.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.execution import (
    DurableExecutionInvocationInput,
    DurableExecutionInvocationInputWithClient,
)
from aws_durable_execution_sdk_python.lambda_service import (
    CheckpointOutput,
    CheckpointUpdatedExecutionState,
    ContextDetails,
    Operation,
    OperationAction,
    OperationStatus,
    OperationType,
    OperationUpdate,
    StateOutput,
    StepDetails,
)

from benchmarks.workloads import (
    CHILD_NAME,
    LEAF_NAME,
    STEP_NAME,
    RepFn,
    Stopwatch,
    Timing,
    check_succeeded,
    completed_steps,
    invocation_input,
    step_value,
)

_STATUS_AFTER = {
    OperationAction.START: OperationStatus.STARTED,
    OperationAction.SUCCEED: OperationStatus.SUCCEEDED,
    OperationAction.FAIL: OperationStatus.FAILED,
    OperationAction.RETRY: OperationStatus.PENDING,
    OperationAction.CANCEL: OperationStatus.CANCELLED,
}


class StubServiceClient:
    """The official SDK's counterpart of `benchmarks.eventflow_side.FloorBackend`: a fresh token and each
    updated operation echoed in its new status, nothing checked, no I/O."""

    def __init__(self) -> None:
        self._serial = itertools.count(1)
        self.calls = 0

    def checkpoint(
        self,
        durable_execution_arn: str,
        checkpoint_token: str,
        updates: list[OperationUpdate],
        client_token: str | None,
    ) -> CheckpointOutput:
        self.calls += 1
        latest: dict[str, OperationUpdate] = {}
        for update in updates:  # echo each operation once, in its latest state
            latest[update.operation_id] = update
        return CheckpointOutput(
            checkpoint_token=f"token-{next(self._serial)}",
            new_execution_state=CheckpointUpdatedExecutionState(
                operations=[echo(u) for u in latest.values()]
            ),
        )

    def get_execution_state(
        self, durable_execution_arn: str, checkpoint_token: str, next_marker: str, max_items: int = 1000
    ) -> StateOutput:
        return StateOutput()


def echo(update: OperationUpdate) -> Operation:
    """The operation as the service would return it after ``update``."""
    step_details = context_details = None
    if update.operation_type is OperationType.STEP:
        step_details = StepDetails(attempt=1, result=update.payload, error=update.error)
    elif update.operation_type is OperationType.CONTEXT:
        context_details = ContextDetails(result=update.payload, error=update.error)
    return Operation(
        operation_id=update.operation_id,
        operation_type=update.operation_type,
        status=_STATUS_AFTER[update.action],
        parent_id=update.parent_id,
        name=update.name,
        sub_type=update.sub_type,
        step_details=step_details,
        context_details=context_details,
    )


def _with_client(event: dict[str, Any]) -> DurableExecutionInvocationInputWithClient:
    parsed = DurableExecutionInvocationInput.from_json_dict(event)
    return DurableExecutionInvocationInputWithClient.from_durable_execution_invocation_input(
        parsed, StubServiceClient()
    )


# -- workflows (the same as in eventflow_side) --------------------------------------------------------------


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
            leaf: int = ctx.step(step_value(depth), name=LEAF_NAME)
            return leaf
        nested: int = ctx.run_in_child_context(lambda child: level(child, remaining - 1), name=CHILD_NAME)
        return nested

    return lambda event, ctx: level(ctx, depth)


def _timed(handler: Callable[[Any, Any], Any], event: dict[str, Any], expected: Any) -> RepFn:
    def rep() -> Timing:
        watch = Stopwatch()
        output = handler(_with_client(event), None)
        elapsed = watch.stop()
        check_succeeded(output, expected)
        return elapsed

    return rep


# -- repetitions --------------------------------------------------------------------------------------------


def new_steps_rep(n: int) -> RepFn:
    return _timed(durable_execution(steps_workflow(n)), invocation_input(), n)


def replay_rep(n: int) -> RepFn:
    return _timed(durable_execution(steps_workflow(n)), invocation_input(completed_steps(n)), n)


def empty_rep(batch: int) -> RepFn:
    handler = durable_execution(empty_workflow)
    event = invocation_input()

    def rep() -> Timing:
        watch = Stopwatch()
        for _ in range(batch):
            output = handler(_with_client(event), None)
        elapsed = watch.stop()
        check_succeeded(output, None)
        return elapsed.per(batch)

    return rep


def nested_rep(depth: int) -> RepFn:
    return _timed(durable_execution(nested_workflow(depth)), invocation_input(), depth)


def map_rep(items: int, max_concurrency: int) -> RepFn:
    from aws_durable_execution_sdk_python.config import MapConfig

    def workflow(event: Any, ctx: DurableContext) -> int:
        result = ctx.map(
            list(range(items)),
            lambda c, item, index, all_items: c.step(step_value(item), name=STEP_NAME),
            name="map",
            config=MapConfig(max_concurrency=max_concurrency),
        )
        return len(result.get_results())

    return _timed(durable_execution(workflow), invocation_input(), items)


# -- end to end on the official testing library's runner ------------------------------------------------


def e2e_rep(n: int, store: str = "memory") -> RepFn:
    """Run an execution of ``n`` steps on `DurableFunctionTestRunner` (in-process, time skipped)."""
    return _runner_rep(durable_execution(steps_workflow(n)), n, store)


def parallel_waits_rep(branches: int) -> RepFn:
    """``parallel`` with ``branches`` branches that each wait 1 s, on the testing runner (time skipped)."""
    from aws_durable_execution_sdk_python.config import Duration

    def branch(c: DurableContext) -> int:
        c.wait(Duration.from_seconds(1))
        return 1

    def workflow(event: Any, ctx: DurableContext) -> int:
        return len(ctx.parallel([branch] * branches, name="parallel").get_results())

    return _runner_rep(durable_execution(workflow), branches, "memory")


def _runner_rep(handler: Callable[..., Any], expected: int, store: str) -> RepFn:
    from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner

    def rep() -> Timing:
        with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
            runner = DurableFunctionTestRunner(handler=handler, store=_store(store, Path(tmp)))
            try:
                watch = Stopwatch()
                result = runner.run(input="{}", execution_timeout=3600)
                elapsed = watch.stop()
            finally:
                runner.close()
            if str(result.result) != str(expected):
                raise AssertionError(f"testing runner ended {result.status} with {result.result!r}")
            return elapsed

    return rep


def _store(store: str, tmp: Path) -> Any:
    if store == "memory":
        return None
    from aws_durable_execution_sdk_python_testing.stores.sqlite import SQLiteExecutionStore

    return SQLiteExecutionStore.create_and_initialize(tmp / "bench.db")


# -- memory -------------------------------------------------------------------------------------------------


def run_new_steps(n: int) -> None:
    check_succeeded(durable_execution(steps_workflow(n))(_with_client(invocation_input()), None), n)
