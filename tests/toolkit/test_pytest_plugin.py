"""The pytest plugin: run fixtures, callback answering, and always-replay mode catching non-determinism."""

from __future__ import annotations

import random
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from eventflow import DurableContext, StepConfig, StepContext, StepSemantics, retry
from eventflow.events.enums import ExecutionStatus, OperationAction
from eventflow.serdes import JsonSerDes
from eventflow.testing.always_replay import can_cut_after
from eventflow.testing.harness import AlwaysReplayError, DurableRun
from eventflow.testing.pytest_plugin import CallbackSender

NO_JITTER = retry.exponential(max_attempts=3, initial_delay=2, jitter=retry.Jitter.NONE)


def order(event: Any, ctx: DurableContext) -> dict[str, Any]:
    total = ctx.step(lambda _: sum(event["items"]), name="price")
    ctx.wait(seconds=30, name="hold")
    shipped = ctx.child_context(lambda c: c.step(lambda _: f"parcel-{total}", name="label"), name="ship")
    return {"total": total, "shipped": shipped}


def test_run_durable_drives_waits_on_the_virtual_clock(run_durable: Any) -> None:
    run: DurableRun = run_durable(order, {"items": [1, 2]})
    assert run.status is ExecutionStatus.SUCCEEDED
    assert run.result == {"total": 3, "shipped": "parcel-3"}
    assert [e.event_type.value for e in run.history if e.event_type][-1] == "ExecutionSucceeded"
    assert 'SUCCEED root/3 child "ship" payload="parcel-3"' in run.checkpoints
    assert run.execution.invocations == 2
    assert run.replay_check is None  # normal mode


def test_callbacks_are_answered_through_the_run(run_durable: Any, callback_sender: CallbackSender) -> None:
    def approval(event: Any, ctx: DurableContext) -> Any:
        first = ctx.wait_for_callback(lambda cid, _: None, name="approve", serdes=JsonSerDes())
        cb = ctx.create_callback("confirm")
        return [first, cb.result()]

    run: DurableRun = run_durable(approval)
    assert run.status is ExecutionStatus.RUNNING  # waiting for the outside world
    run.succeed_callback("approve", {"ok": True})
    assert set(run.open_callbacks()) == {"confirm"}
    run.heartbeat_callback("confirm")
    callback_sender.succeed(run.callback_id("confirm"), raw="yes")
    run.resume()
    assert run.status is ExecutionStatus.SUCCEEDED
    assert run.result == [{"ok": True}, "yes"]


def test_a_failed_callback_fails_the_execution(run_durable: Any) -> None:
    run: DurableRun = run_durable(lambda event, ctx: ctx.create_callback("pay").result())
    run.fail_callback("pay", "Declined", "card declined")
    assert run.status is ExecutionStatus.FAILED
    assert run.error is not None and "card declined" in (run.error.error_message or "")


@pytest.mark.always_replay
def test_marker_turns_on_always_replay_for_a_deterministic_handler(run_durable: Any) -> None:
    run: DurableRun = run_durable(order, {"items": [4]})
    assert run.result == {"total": 4, "shipped": "parcel-4"}
    assert run.replay_check is not None and run.replay_check.ok
    # Replayed after each of the 4 checkpoint batches that leave no step STARTED (the 2 lone step
    # STARTs are not cut points), plus the final verification replay.
    assert run.replay_check.replays == 5


def test_always_replay_keeps_the_checkpoints_of_a_normal_run(run_durable: Any) -> None:
    attempts: list[int] = []

    def flaky(step: StepContext) -> str:
        attempts.append(step.attempt)
        if step.attempt < 2:
            raise ConnectionError("down")
        return "ok"

    def handler(event: Any, ctx: DurableContext) -> Any:
        once = ctx.step(flaky, name="once", semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY, retry=NO_JITTER)
        return [once, ctx.step(lambda _: 2, name="two")]

    normal: DurableRun = run_durable(handler)
    normal_attempts, attempts[:] = list(attempts), []
    replayed: DurableRun = run_durable(handler, always_replay=True)
    assert replayed.result == normal.result == ["ok", 2]
    assert attempts == normal_attempts == [1, 2]  # no at-most-once attempt was mistaken for interrupted
    assert replayed.checkpoints == normal.checkpoints
    assert replayed.replay_check is not None and replayed.replay_check.replays > 3


def test_always_replay_catches_random_outside_steps(run_durable: Any) -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        ctx.step(lambda _: 1, name="load")
        batch = random.getrandbits(48)  # non-deterministic: differs on each replay
        return ctx.step(lambda _: batch, name=f"process-{batch}")

    normal: DurableRun = run_durable(handler)  # one invocation: the bug stays hidden
    assert normal.status is ExecutionStatus.SUCCEEDED
    with pytest.raises(AlwaysReplayError) as caught:
        run_durable(handler, always_replay=True)
    message = str(caught.value)
    assert "non-deterministic execution at root/2 ('process-" in message
    assert "name='process-" in message and "<OperationType" not in message


def test_always_replay_catches_time_and_uuid_reaching_the_result(run_durable: Any) -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        started = time.time()
        ref = uuid.uuid4().hex
        ctx.step(lambda _: "charged", name="charge")
        return {"started": started, "ref": ref}

    assert run_durable(handler).status is ExecutionStatus.SUCCEEDED
    run: DurableRun = run_durable(handler, always_replay=True, check=False)
    assert run.replay_check is not None and not run.replay_check.ok
    (divergence,) = run.replay_check.divergences
    assert "gave another outcome" in divergence and "outside a step" in divergence


def test_cuts_never_leave_a_step_started_or_follow_an_execution_update(run_durable: Any) -> None:
    run: DurableRun = run_durable(
        lambda e, ctx: ctx.step(lambda _: 1, name="s", config=StepConfig(batch_start=True))
    )
    (batch,) = run.batches
    assert can_cut_after(batch)  # START + SUCCEED together
    assert not can_cut_after(batch[:1])  # START alone: the step's code is about to run
    execution_update = batch[0].model_copy(update={"type": "EXECUTION", "action": OperationAction.SUCCEED})
    assert not can_cut_after([execution_update])


@pytest.mark.parametrize("semantics", list(StepSemantics))
def test_by_default_the_acknowledged_start_is_no_cut_point_and_the_completion_is(
    run_durable: Any, semantics: StepSemantics
) -> None:
    runs: list[int] = []

    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.step(lambda step: runs.append(step.attempt) or 1, name="s", semantics=semantics)

    run: DurableRun = run_durable(handler, always_replay=True)
    if semantics is StepSemantics.AT_MOST_ONCE_PER_RETRY:
        start, succeed = run.batches  # START is acknowledged on its own before the code runs
        assert [u.action for u in start] == [OperationAction.START]
        assert not can_cut_after(start)  # the wire does not say whether an at-most-once step is waiting
    else:
        (succeed,) = run.batches  # START travels with the completion
        assert [u.action for u in succeed] == [OperationAction.START, OperationAction.SUCCEED]
    assert can_cut_after(succeed)
    assert run.result == 1 and runs == [1]  # never taken for interrupted, run once
    assert run.replay_check is not None and run.replay_check.replays == 2  # after SUCCEED, final check


_OPTION_TEST = """
import random

def deterministic(event, ctx):
    return ctx.step(lambda _: 1, name="a") + ctx.step(lambda _: 2, name="b")

def flaky_names(event, ctx):
    ctx.step(lambda _: 1, name="a")
    return ctx.step(lambda _: 2, name=f"b-{random.getrandbits(48)}")

def test_deterministic(run_durable):
    assert run_durable(deterministic).result == 3

def test_flaky_names(run_durable):
    assert run_durable(flaky_names).result == 2
"""


def test_command_line_option_turns_on_always_replay_everywhere(tmp_path: Path) -> None:
    (tmp_path / "test_option.py").write_text(_OPTION_TEST)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rA",
            "-p",
            "no:cacheprovider",
            "--durable-always-replay",
            "test_option.py",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert "PASSED test_option.py::test_deterministic" in proc.stdout, proc.stdout + proc.stderr
    assert "FAILED test_option.py::test_flaky_names" in proc.stdout
    assert "AlwaysReplayError" in proc.stdout


def test_loading_the_plugin_does_not_import_the_local_service() -> None:
    code = "import sys, eventflow.testing.pytest_plugin; print('eventflow.local' in sys.modules)"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.strip() == "False"


def test_execution_control_pauses_resumes_and_deletes(
    run_durable: Any, callback_sender: CallbackSender, execution_control: Any
) -> None:
    ran: list[str] = []

    def approval(event: Any, ctx: DurableContext) -> Any:
        answer = ctx.create_callback("approve").result()
        ctx.wait(60)
        ran.append("after-wait")
        return answer

    run: DurableRun = run_durable(approval)
    assert execution_control.pause(run.execution.arn, "hold") is ExecutionStatus.PAUSED
    callback_sender.succeed(run.callback_id("approve"), raw="yes")
    execution_control.advance(10)
    assert run.status is ExecutionStatus.PAUSED and ran == []
    assert execution_control.resume(run.execution.arn) is ExecutionStatus.SUCCEEDED  # wait, then the end
    assert ran == ["after-wait"] and run.result == "yes"
    execution_control.delete(run.execution.arn)
    with pytest.raises(Exception, match="no durable execution"):
        execution_control.service.describe(run.execution.arn)
