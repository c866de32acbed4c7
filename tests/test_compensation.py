"""Saga compensation: undos registered by steps that returned, run newest first under one ``Compensation``
CONTEXT, each undo a step, past failures, and never re-run or forgotten on replay."""

from __future__ import annotations

import contextlib
from collections import Counter
from typing import Any

import pytest

from eventflow import AsyncDurableContext, DurableContext, StepConfig, retry
from eventflow.core.operations.compensation import CompensationSummary
from eventflow.errors import CompensationError, StepError
from eventflow.handler import DurableHandler
from eventflow.local import LocalService
from eventflow.testing import IdLabeler, RecordingBackend, render_checkpoints

NO_RETRY = retry.exponential(max_attempts=1)
ONCE = StepConfig(retry_strategy=NO_RETRY)
calls: Counter[str] = Counter()


def _undo(tag: str, *, fail: bool = False) -> Any:
    def undo(value: Any) -> None:
        calls[f"undo {tag}({value})"] += 1
        if fail:
            raise RuntimeError(f"cannot undo {tag}")

    undo.__name__ = f"undo_{tag}"
    return undo


def _do(tag: str, value: Any) -> Any:
    def do(_: Any) -> Any:
        calls[f"do {tag}"] += 1
        return value

    return do


def sync_saga(event: Any, ctx: DurableContext) -> Any:
    ctx.step_with_compensation(_do("a", 1), _undo("a"), name="a")
    ctx.step_with_compensation(_do("b", 2), _undo("b", fail=event.get("fail_b", False)), name="b",
                               compensation_config=ONCE)
    ctx.wait(seconds=1)  # a replay boundary between registration and compensation
    try:
        ctx.step(lambda _: 1 / 0, name="c", retry=NO_RETRY)
    except StepError:
        summary = ctx.run_compensations()
        return {"compensated": list(summary.compensated)}
    return "unreachable"


async def async_saga(event: Any, ctx: AsyncDurableContext) -> Any:
    async def async_undo_a(value: Any) -> None:
        _undo("a")(value)

    await ctx.step_with_compensation(_do("a", 1), async_undo_a, name="a", compensation_name="undo_a")
    await ctx.step_with_compensation(
        _do("b", 2), _undo("b", fail=event.get("fail_b", False)), name="b", compensation_config=ONCE
    )
    await ctx.wait(seconds=1)
    try:
        await ctx.step(lambda _: 1 / 0, name="c", retry=NO_RETRY)
    except StepError:
        summary = await ctx.run_compensations()
        return {"compensated": list(summary.compensated)}
    return "unreachable"


def _run(fn: Any, event: Any) -> tuple[LocalService, RecordingBackend, Any]:
    service = LocalService()
    recorder = RecordingBackend(service)
    service.register("fn", DurableHandler(fn, recorder))
    execution = service.start_execution("fn", event)
    service.run(execution.arn)
    return service, recorder, execution


SAGA_CHECKPOINTS = """\
#1 START   root/1 step "a"
#1 SUCCEED root/1 step "a" payload=1
#2 START   root/2 step "b"
#2 SUCCEED root/2 step "b" payload=2
#3 START   root/3 wait WaitSeconds=1
#4 START   root/4 step "c"
#4 FAIL    root/4 step "c" error=ZeroDivisionError: division by zero
#5 START   root/5 compensation "compensations"
#5 START   root/5/1 step "undo_b"
#5 SUCCEED root/5/1 step "undo_b" payload=null
#6 START   root/5/2 step "undo_a"
#6 SUCCEED root/5/2 step "undo_a" payload=null
#7 SUCCEED root/5 compensation "compensations" payload={"compensated":["undo_b","undo_a"],"failed":[]}
"""


@pytest.mark.parametrize("fn", [sync_saga, async_saga])
def test_undos_run_newest_first_under_a_compensation_context(fn: Any) -> None:
    calls.clear()
    service, recorder, execution = _run(fn, {})
    assert execution.result == '{"compensated": ["undo_b", "undo_a"]}'
    assert render_checkpoints(recorder.batches, IdLabeler(), verbatim=True) == SAGA_CHECKPOINTS
    # Each step and each undo ran exactly once, although the handler ran twice (before and after the wait).
    assert calls == Counter({"do a": 1, "do b": 1, "undo b(2)": 1, "undo a(1)": 1})

    calls.clear()
    replay = RecordingBackend(service)
    output = DurableHandler(fn, replay)(service.invocation_input(execution), None)
    assert output == {"Status": "SUCCEEDED", "Result": execution.result}
    assert replay.batches == [] and calls == Counter()


@pytest.mark.parametrize("fn", [sync_saga, async_saga])
def test_a_failed_undo_does_not_stop_the_others_and_the_run_fails_with_a_summary(fn: Any) -> None:
    calls.clear()
    _, recorder, execution = _run(fn, {"fail_b": True})
    assert execution.status == "FAILED"
    assert execution.error.error_type == "eventflow.errors.CompensationError"
    assert execution.error.error_message == "1 of 2 compensations failed: 'undo_b'"
    assert calls["undo a(1)"] == 1 and calls["undo b(2)"] == 1  # a still ran after b failed
    context_fail = recorder.batches[-1][-1]
    assert (context_fail.sub_type, context_fail.action) == ("Compensation", "FAIL")
    summary = CompensationSummary.from_json(context_fail.error.error_data)
    assert summary.compensated == ("undo_a",)
    assert [(f.name, f.error_type, f.error_message) for f in summary.failed] == [
        ("undo_b", "RuntimeError", "cannot undo b")
    ]


def test_replay_of_a_failed_compensation_raises_the_same_error_without_running_undos() -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        ctx.step_with_compensation(_do("a", 1), _undo("a", fail=True), name="a", compensation_config=ONCE)
        try:
            ctx.run_compensations(name="rollback")
        except CompensationError as exc:
            return [exc.name, [f.name for f in exc.summary.failed], exc.error_type]
        return None

    calls.clear()
    service, _, execution = _run(handler, {})
    assert execution.result == '["rollback", ["undo_a"], "eventflow.errors.CompensationError"]'
    calls.clear()
    replay = RecordingBackend(service)
    output = DurableHandler(handler, replay)(service.invocation_input(execution), None)
    assert output["Result"] == execution.result and replay.batches == [] and calls == Counter()


def test_an_undo_waiting_for_its_retry_resumes_without_rerunning_finished_undos() -> None:
    attempts: Counter[str] = Counter()
    retry_once = retry.exponential(max_attempts=2, initial_delay=1, jitter=retry.Jitter.NONE)

    def flaky_undo(value: Any) -> None:
        attempts[f"undo {value}"] += 1
        if value == "x" and attempts["undo x"] == 1:
            raise RuntimeError("try again")

    def handler(event: Any, ctx: DurableContext) -> Any:
        for tag in ("x", "y", "z"):
            ctx.step_with_compensation(_do(tag, tag), flaky_undo, name=tag,
                                       compensation_name=f"undo {tag}",
                                       compensation_config=StepConfig(retry_strategy=retry_once))
        return list(ctx.run_compensations().compensated)

    calls.clear()
    _, recorder, execution = _run(handler, {})
    assert execution.result == '["undo z", "undo y", "undo x"]'
    # z and y were undone once; x failed, was retried after its delay in a new invocation, and succeeded.
    assert attempts == Counter({"undo z": 1, "undo y": 1, "undo x": 2})
    assert calls == Counter({"do x": 1, "do y": 1, "do z": 1})
    actions = [(u.name, u.action) for u in recorder.updates if u.parent_id is not None]
    assert actions == [
        ("undo z", "START"), ("undo z", "SUCCEED"), ("undo y", "START"), ("undo y", "SUCCEED"),
        ("undo x", "START"), ("undo x", "RETRY"), ("undo x", "START"), ("undo x", "SUCCEED"),
    ]
    assert execution.invocations == 2


def test_a_failed_step_registers_nothing_and_an_empty_run_succeeds() -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        with contextlib.suppress(StepError):
            ctx.step_with_compensation(lambda _: 1 / 0, _undo("never"), name="boom", retry=NO_RETRY)
        first = ctx.run_compensations()
        ctx.step_with_compensation(_do("later", 5), _undo("later"), name="later")
        second = ctx.run_compensations()  # only what was registered since the first run
        return [list(first.compensated), list(second.compensated)]

    calls.clear()
    _, _, execution = _run(handler, {})
    assert execution.result == '[[], ["undo_later"]]'
    assert calls == Counter({"do later": 1, "undo later(5)": 1})
