"""Step, wait and child context: the exact checkpoints each writes, replay, retries and failures."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from eventflow import (
    ChildContextError,
    DurableContext,
    StepConfig,
    StepContext,
    StepError,
    StepSemantics,
    retry,
)
from eventflow.events.enums import ExecutionStatus, OperationStatus

NO_JITTER = retry.exponential(max_attempts=3, initial_delay=2, jitter=retry.Jitter.NONE)


def test_steps_wait_and_child_fresh_run(run_handler: Any, checkpoint_snapshot: SnapshotAssertion) -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        a = ctx.step(lambda _: event["x"] + 1, name="add")
        ctx.wait(seconds=3, name="pause")
        b = ctx.child_context(lambda c: c.step(lambda _: a * 10, name="inner"), name="box")
        return {"a": a, "b": b}

    run = run_handler(handler, {"x": 1})
    assert run.execution.status is ExecutionStatus.SUCCEEDED
    assert json.loads(run.execution.result or "") == {"a": 2, "b": 20}
    assert run.execution.invocations == 2
    assert run.recorder.batches == checkpoint_snapshot


def test_replay_runs_no_user_code_and_writes_no_checkpoint(run_handler: Any) -> None:
    calls: list[str] = []

    def handler(event: Any, ctx: DurableContext) -> Any:
        a = ctx.step(lambda _: calls.append("a") or 1, name="a")
        ctx.wait(seconds=1)
        b = ctx.step(lambda _: calls.append("b") or 2, name="b")
        return a + b

    run = run_handler(handler)
    assert calls == ["a", "b"]  # "a" ran once although the handler was invoked twice
    batches_before = len(run.recorder.batches)
    # A third invocation over the finished operations replays everything.
    output = run.service.functions["fn"](run.service.invocation_input(run.execution), None)
    assert output == {"Status": "SUCCEEDED", "Result": "3"}
    assert calls == ["a", "b"]
    assert len(run.recorder.batches) == batches_before


def test_step_retries_then_succeeds(run_handler: Any, checkpoint_snapshot: SnapshotAssertion) -> None:
    attempts: list[int] = []

    def flaky(step: StepContext) -> str:
        attempts.append(step.attempt)
        if step.attempt < 3:
            raise ConnectionError(f"attempt {step.attempt} failed")
        return "done"

    run = run_handler(lambda event, ctx: ctx.step(flaky, retry=NO_JITTER))
    assert attempts == [1, 2, 3]
    assert run.execution.result == '"done"'
    assert run.execution.invocations == 3
    assert run.recorder.batches == checkpoint_snapshot


def test_step_exhausts_retries_and_fails_the_execution(
    run_handler: Any, checkpoint_snapshot: SnapshotAssertion
) -> None:
    def always(step: StepContext) -> None:
        raise ValueError("no")

    run = run_handler(lambda event, ctx: ctx.step(always, name="doomed", retry=NO_JITTER))
    assert run.execution.status is ExecutionStatus.FAILED
    assert run.execution.error is not None
    assert run.execution.error.error_type == "ValueError"
    assert run.execution.error.error_message == "no"
    assert run.recorder.batches == checkpoint_snapshot


def test_a_caught_step_error_is_the_same_on_replay(run_handler: Any) -> None:
    seen: list[tuple[str, str | None, str | None]] = []

    def handler(event: Any, ctx: DurableContext) -> str:
        try:
            ctx.step(lambda _: int("x"), name="parse", retry=retry.no_retry)
        except StepError as exc:
            seen.append((exc.message, exc.error_type, exc.name))
        ctx.wait(seconds=1)
        return "recovered"

    run = run_handler(handler)
    assert run.execution.result == '"recovered"'
    assert len(seen) == 2  # the first run and the replay after the wait
    assert seen[0] == seen[1]
    assert seen[0][1] == "ValueError"


def test_nested_child_contexts(run_handler: Any, checkpoint_snapshot: SnapshotAssertion) -> None:
    def level(depth: int) -> Any:
        def run(ctx: DurableContext) -> Any:
            if depth == 0:
                return ctx.step(lambda _: "leaf", name="leaf")
            ctx.step(lambda _: depth, name=f"before-{depth}")
            return ctx.child_context(level(depth - 1), name=f"level-{depth - 1}")

        return run

    run = run_handler(lambda event, ctx: ctx.child_context(level(2), name="level-2"))
    assert run.execution.result == '"leaf"'
    assert run.recorder.batches == checkpoint_snapshot


def test_child_failure_is_checkpointed_and_raised_as_child_context_error(
    run_handler: Any, checkpoint_snapshot: SnapshotAssertion
) -> None:
    def handler(event: Any, ctx: DurableContext) -> str:
        def child(c: DurableContext) -> None:
            c.step(lambda _: 1, name="fine")
            raise KeyError("missing")

        try:
            ctx.child_context(child, name="fails")
        except ChildContextError as exc:
            return f"{exc.error_type}: {exc.message}"
        return "unreachable"

    run = run_handler(handler)
    assert run.execution.result == "\"KeyError: 'missing'\""
    assert run.recorder.batches == checkpoint_snapshot


def test_large_child_result_is_summarised_and_rebuilt_from_children(run_handler: Any) -> None:
    big = "x" * (300 * 1024)
    calls: list[int] = []

    def handler(event: Any, ctx: DurableContext) -> int:
        def child(c: DurableContext) -> list[str]:
            calls.append(1)
            return [
                c.step(lambda _: big[: 200 * 1024], name="p1"),
                c.step(lambda _: big[: 100 * 1024], name="p2"),
            ]

        parts = ctx.child_context(child, name="big")
        ctx.wait(seconds=1)
        return sum(len(p) for p in parts)

    run = run_handler(handler)
    assert run.execution.result == str(300 * 1024)
    succeed = [u for u in run.recorder.updates if u.name == "big" and u.action.value == "SUCCEED"]
    assert len(succeed) == 1
    assert succeed[0].payload == ""
    assert succeed[0].context_options is not None and succeed[0].context_options.replay_children
    assert calls == [1, 1]  # re-entered on replay to rebuild the result; its steps replayed


@pytest.mark.parametrize("semantics", list(StepSemantics))
def test_with_batch_start_start_is_acknowledged_before_user_code_only_at_most_once(
    run_handler: Any, semantics: StepSemantics
) -> None:
    def handler(event: Any, ctx: DurableContext) -> int:
        return ctx.step(  # type: ignore[no-any-return]
            lambda _: 7, name="s", semantics=semantics, config=StepConfig(batch_start=True)
        )

    run = run_handler(handler)
    shapes = [[u.action.value for u in batch] for batch in run.recorder.batches]
    if semantics is StepSemantics.AT_MOST_ONCE_PER_RETRY:
        assert shapes == [["START"], ["SUCCEED"]]
    else:
        assert shapes == [["START", "SUCCEED"]]


@pytest.mark.parametrize("semantics", list(StepSemantics))
def test_by_default_start_rides_with_a_quick_completion_unless_at_most_once(
    run_handler: Any, semantics: StepSemantics
) -> None:
    def handler(event: Any, ctx: DurableContext) -> int:
        return ctx.step(lambda _: 7, name="s", semantics=semantics)  # type: ignore[no-any-return]

    run = run_handler(handler)
    shapes = [[u.action.value for u in batch] for batch in run.recorder.batches]
    if semantics is StepSemantics.AT_MOST_ONCE_PER_RETRY:
        assert shapes == [["START"], ["SUCCEED"]]  # acknowledged before the code runs
    else:
        assert shapes == [["START", "SUCCEED"]]  # one round trip


class Crash(BaseException):
    """Stands in for the Lambda sandbox dying mid-step (nothing in the handler can catch it)."""


def test_interrupted_at_most_once_step_is_not_run_again(run_handler: Any) -> None:
    from eventflow.handler import DurableHandler
    from eventflow.local import LocalService

    runs: list[int] = []

    def body(step: StepContext) -> str:
        runs.append(step.attempt)
        if len(runs) == 1:
            raise Crash
        return "ran"

    def handler(event: Any, ctx: DurableContext) -> str:
        return ctx.step(  # type: ignore[no-any-return]
            body, name="charge", semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY, retry=NO_JITTER
        )

    service = LocalService()
    service.register("fn", DurableHandler(handler, None))
    execution = service.start_execution("fn")
    service.invoke(execution.arn)  # dies mid-step; the service records Runtime.ExitError
    (step,) = [op for op in execution.operations.values() if op.name == "charge"]
    assert step.status is OperationStatus.STARTED
    service.run(execution.arn)
    # The interrupted attempt 1 counted as a failure; attempt 2 ran after the retry delay.
    assert runs == [1, 2]
    assert execution.result == '"ran"'


def test_interrupted_at_least_once_step_runs_again(run_handler: Any) -> None:
    from eventflow.handler import DurableHandler
    from eventflow.local import LocalService

    runs: list[int] = []

    def handler(event: Any, ctx: DurableContext) -> str:
        ctx.step(lambda _: "first", name="first")

        def body(step: StepContext) -> str:
            runs.append(step.attempt)
            if len(runs) == 1:
                raise Crash
            return "ran"

        return ctx.step(body, name="second")  # type: ignore[no-any-return]

    service = LocalService()
    service.register("fn", DurableHandler(handler, None))
    execution = service.start_execution("fn")
    service.invoke(execution.arn)
    service.run(execution.arn)
    assert runs == [1, 1]  # the same attempt, run again
    assert execution.result == '"ran"'


@pytest.mark.parametrize(
    ("config", "runs_long", "on_record"),
    [
        (StepConfig(), False, False),  # START was to travel with the completion: nothing on record
        (StepConfig(), True, True),  # the code ran past the linger: START went out while it ran
        (StepConfig(batch_start=True), True, False),  # batch_start never sends START alone
        (StepConfig(semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY), False, True),  # acknowledged first
    ],
    ids=["quick", "long", "long-batch_start", "at_most_once"],
)
def test_a_sandbox_dying_mid_step_leaves_the_start_on_record_when_it_went_out(
    config: StepConfig, runs_long: bool, on_record: bool
) -> None:
    from eventflow.core.scheduler import START_LINGER_SECONDS
    from eventflow.handler import DurableHandler
    from eventflow.local import LocalService

    step_started = threading.Event()

    def body(step: StepContext) -> str:
        if runs_long:  # until the START is on record, or long past the linger if it never goes out
            step_started.wait(timeout=START_LINGER_SECONDS * (100 if on_record else 4))
        raise Crash  # the sandbox dies while the step's code runs

    def handler(event: Any, ctx: DurableContext) -> str:
        return ctx.step(body, name="charge", config=config)  # type: ignore[no-any-return]

    def on_event(arn: str, event: Any) -> None:
        if event.event_type is not None and event.event_type.value == "StepStarted":
            step_started.set()

    service = LocalService(on_event=on_event)
    service.register("fn", DurableHandler(handler, None))
    execution = service.start_execution("fn")
    service.invoke(execution.arn)  # dies mid-step; the service records the invocation's end
    assert execution.status is ExecutionStatus.RUNNING
    operations = [(op.type.value, op.name, op.status) for op in execution.operations.values()]
    history = [(e.event_type and e.event_type.value, e.name) for e in service.history(execution.arn)]
    if not on_record:
        assert operations == [("EXECUTION", None, OperationStatus.STARTED)]
        assert history == [("ExecutionStarted", None), ("InvocationCompleted", None)]
    else:
        assert operations == [
            ("EXECUTION", None, OperationStatus.STARTED),
            ("STEP", "charge", OperationStatus.STARTED),
        ]
        assert history == [
            ("ExecutionStarted", None),
            ("StepStarted", "charge"),
            ("InvocationCompleted", None),
        ]
