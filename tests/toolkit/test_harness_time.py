"""The test is the outside world: callbacks with a timeout wait for its answer, time passes when it says
(`DurableRun.advance`), and retry jitter is seeded so the same test writes the same checkpoints."""

from __future__ import annotations

from typing import Any

import pytest

from eventflow import CallbackTimeoutError, DurableContext, StepConfig, StepContext, retry
from eventflow.events.enums import ExecutionStatus
from eventflow.serdes import JsonSerDes
from eventflow.testing.harness import DurableHarness, DurableRun


def approval(event: Any, ctx: DurableContext) -> Any:
    try:
        answer = ctx.wait_for_callback(lambda cid, _: None, name="approve", timeout=3600, serdes=JsonSerDes())
    except CallbackTimeoutError:
        return "timed out"
    return answer


def test_a_callback_with_a_timeout_waits_for_the_test_to_answer(run_durable: Any) -> None:
    run: DurableRun = run_durable(approval)
    assert run.status is ExecutionStatus.RUNNING
    assert run.waiting == "waiting on callback 'approve' (times out at +3600 s)"
    run.succeed_callback("approve", {"ok": True})
    assert run.status is ExecutionStatus.SUCCEEDED
    assert run.result == {"ok": True}


def test_time_passes_when_the_test_says(run_durable: Any) -> None:
    run: DurableRun = run_durable(approval)
    run.advance(3599)
    assert run.waiting == "waiting on callback 'approve' (times out at +1 s)"
    run.advance(1)
    assert run.status is ExecutionStatus.SUCCEEDED
    assert run.result == "timed out"
    assert run.waiting is None


def test_advance_without_seconds_moves_to_the_next_timer(run_durable: Any) -> None:
    run: DurableRun = run_durable(approval)
    run.advance()
    assert run.result == "timed out"
    with pytest.raises(LookupError, match=r"no single open callback named 'approve'.*SUCCEEDED"):
        run.callback_id("approve")


def test_timers_an_answer_would_not_cancel_still_fire(run_durable: Any) -> None:
    def both(event: Any, ctx: DurableContext) -> Any:
        cb = ctx.create_callback("confirm", timeout=600, heartbeat_timeout=60)
        ctx.wait(seconds=30, name="cool-off")  # fires on its own: no answer cancels it
        return cb.result()

    run: DurableRun = run_durable(both)
    assert [op.status.value for op in run.operations if op.name == "cool-off"] == ["SUCCEEDED"]
    assert run.waiting == "waiting on callback 'confirm' (times out at +570 s, heartbeat due by +30 s)"
    run.heartbeat_callback("confirm")
    run.advance(29)
    assert run.status is ExecutionStatus.RUNNING
    run.succeed_callback("confirm", raw='"yes"')
    assert run.result == '"yes"'


def test_the_execution_timeout_waits_too_while_a_callback_is_open() -> None:
    from eventflow import durable_execution

    @durable_execution
    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.create_callback("pay").result()

    harness = DurableHarness()
    harness.service.register("pay", handler)
    execution = harness.service.start_execution("pay", timeout_seconds=900)
    run = DurableRun(harness.service, execution, recorder=None)  # type: ignore[arg-type]
    run.resume()
    assert run.waiting == "waiting on callback 'pay' (no timeout)"
    run.advance(900)
    assert run.status is ExecutionStatus.TIMED_OUT


def _flaky(event: Any, ctx: DurableContext) -> Any:
    def call(step: StepContext) -> str:
        if step.attempt < 5:
            raise ConnectionError("try again")
        return "ok"

    return [ctx.step(call, name="call"), ctx.step(call, name="again")]


def test_default_jitter_is_seeded_so_checkpoints_repeat() -> None:
    texts = {DurableHarness().run(_flaky).checkpoints for _ in range(4)}
    assert len(texts) == 1
    delays = [line for line in next(iter(texts)).splitlines() if "NextAttemptDelaySeconds" in line]
    assert delays  # the retries happened, with their jittered delays
    other = DurableHarness(seed=7).run(_flaky).checkpoints
    assert other != next(iter(texts))  # the seed is what fixes them


def test_a_strategy_with_its_own_rng_keeps_it() -> None:
    import random

    strategy = retry.exponential(max_attempts=3, rng=random.Random(1))
    expected = random.Random(1).uniform(0, 5)
    with retry.seeded_jitter(99):
        assert strategy(ValueError(), 1).delay_seconds == max(1, round(expected))
    assert StepConfig(retry_strategy=strategy).retry_strategy is strategy
