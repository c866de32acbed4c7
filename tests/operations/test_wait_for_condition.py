"""wait_for_condition and the wait strategies: one STEP whose RETRY carries the state, replayed exactly."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fakeservice import FakeService, root

from eventflow import (
    AsyncDurableContext,
    DurableContext,
    InvalidInputError,
    StepContext,
    WaitAttemptsExhaustedError,
    WaitDecision,
    WaitForConditionError,
    waits,
)
from eventflow.events.enums import ExecutionStatus, OperationStatus
from eventflow.events.wire import StepDetails
from eventflow.handler import DurableHandler, durable_execution
from eventflow.local import LocalService
from eventflow.plugins import AttemptInfo, BasePlugin
from eventflow.retry import Jitter
from eventflow.testing import IdLabeler, RecordingBackend, render_checkpoints

PENDING = {"Status": "PENDING"}
checks: list[tuple[Any, int]] = []  # (state, attempt) each check was called with


def result_of(output: dict[str, Any]) -> Any:
    assert output["Status"] == "SUCCEEDED", output
    return json.loads(output["Result"])


def count(state: int, step: StepContext) -> int:
    checks.append((state, step.attempt))
    return state + 1


async def acount(state: int, step: StepContext) -> int:
    return count(state, step)


UNTIL_3 = waits.fixed(2, until=lambda n: n >= 3)


def poll_sync(event: Any, ctx: DurableContext) -> Any:
    try:
        return ctx.wait_for_condition(count, 0, UNTIL_3, "poll")
    except WaitForConditionError as exc:
        return {"error": exc.error_type, "message": exc.message, "op": exc.operation_id, "name": exc.name}


async def poll_async(event: Any, ctx: AsyncDurableContext) -> Any:
    try:
        return await ctx.wait_for_condition(acount, 0, UNTIL_3, "poll")
    except WaitForConditionError as exc:
        return {"error": exc.error_type, "message": exc.message, "op": exc.operation_id, "name": exc.name}


POLL = pytest.mark.parametrize("handler", [poll_sync, poll_async], ids=["sync", "async"])
POLL_CHECKPOINTS = (
    '#1 START   root/1 wait_for_condition "poll"\n'
    '#1 RETRY   root/1 wait_for_condition "poll" payload=1 NextAttemptDelaySeconds=2\n'
    '#2 START   root/1 wait_for_condition "poll"\n'
    '#2 RETRY   root/1 wait_for_condition "poll" payload=2 NextAttemptDelaySeconds=2\n'
    '#3 START   root/1 wait_for_condition "poll"\n'
    '#3 SUCCEED root/1 wait_for_condition "poll" payload=3\n'
)


@pytest.fixture(autouse=True)
def _clear_checks() -> None:
    checks.clear()


def poll_to_the_end(service: FakeService, handler: Callable[..., Any]) -> list[dict[str, Any]]:
    outputs = [service.invoke(handler)]
    while outputs[-1] == PENDING:
        assert len(outputs) < 10, "the condition never finished"
        assert service.operations[root(1)].status == OperationStatus.PENDING
        service.retry_delay_elapses(root(1))
        outputs.append(service.invoke(handler))
    return outputs


@POLL
def test_each_check_is_an_attempt_of_one_step_and_resumes_from_the_recorded_state(
    service: FakeService, handler: Callable[..., Any]
) -> None:
    outputs = poll_to_the_end(service, handler)
    assert outputs == [PENDING, PENDING, {"Status": "SUCCEEDED", "Result": "3"}]
    assert service.rendered() == POLL_CHECKPOINTS
    assert checks == [(0, 1), (1, 2), (2, 3)]


@POLL
def test_a_finished_condition_replays_without_checks_or_checkpoints(
    service: FakeService, handler: Callable[..., Any]
) -> None:
    poll_to_the_end(service, handler)
    checks.clear()
    assert result_of(service.invoke(handler)) == 3
    assert checks == []
    assert len(service.batches) == 3


@POLL
def test_a_pending_condition_suspends_without_checks_or_checkpoints(
    service: FakeService, handler: Callable[..., Any]
) -> None:
    service.invoke(handler)
    assert service.invoke(handler) == PENDING  # the retry delay has not elapsed yet
    assert checks == [(0, 1)]
    assert len(service.batches) == 1


@POLL
def test_a_check_interrupted_mid_attempt_runs_again_without_a_second_start(
    service: FakeService, handler: Callable[..., Any]
) -> None:
    service.invoke(handler)
    service.retry_delay_elapses(root(1))
    # The next invocation sent START and died in the check: the service holds the step STARTED.
    service.operations[root(1)] = service.operations[root(1)].model_copy(
        update={"status": OperationStatus.STARTED, "step_details": StepDetails(attempt=1, result="1")}
    )
    assert service.invoke(handler) == PENDING
    assert service.rendered(1) == (
        '#1 RETRY   root/1 wait_for_condition "poll" payload=2 NextAttemptDelaySeconds=2\n'
    )
    assert checks == [(0, 1), (1, 2)]


@POLL
def test_a_raising_check_fails_the_operation_the_same_on_every_replay(
    service: FakeService, handler: Callable[..., Any]
) -> None:
    service.invoke(handler)
    service.retry_delay_elapses(root(1))
    # Replace the recorded state with one count() cannot add to: the check raises TypeError.
    service.operations[root(1)] = service.operations[root(1)].model_copy(
        update={"step_details": StepDetails(attempt=1, result='"x"')}
    )
    first = result_of(service.invoke(handler))
    assert first == {
        "error": "TypeError", "message": 'can only concatenate str (not "int") to str', "op": root(1),
        "name": "poll",
    }
    assert service.rendered(1) == (
        '#1 START   root/1 wait_for_condition "poll"\n'
        '#1 FAIL    root/1 wait_for_condition "poll" error=TypeError: can only concatenate str (not "int") '
        'to str\n'
    )
    assert result_of(service.invoke(handler)) == first
    assert len(service.batches) == 2


@pytest.mark.parametrize(
    "status", [OperationStatus.TIMED_OUT, OperationStatus.CANCELLED, OperationStatus.STOPPED]
)
def test_any_other_terminal_status_replays_as_wait_for_condition_error(
    service: FakeService, status: OperationStatus
) -> None:
    service.invoke(poll_sync)
    service.force_status(root(1), status)
    assert result_of(service.invoke(poll_sync))["name"] == "poll"
    assert checks == [(0, 1)]
    assert len(service.batches) == 1


def test_an_exhausted_attempt_budget_fails_the_operation(service: FakeService) -> None:
    never = waits.fixed(1, until=lambda n: False, max_attempts=2)

    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.wait_for_condition(count, 0, never)

    outputs = poll_to_the_end(service, handler)
    assert outputs[-1] == {
        "Status": "FAILED",
        "Error": {
            "ErrorType": "eventflow.errors.WaitAttemptsExhaustedError",
            "ErrorMessage": "the condition was not met within 2 attempts",
        },
    }
    assert service.rendered() == (
        "#1 START   root/1 wait_for_condition\n"
        "#1 RETRY   root/1 wait_for_condition payload=1 NextAttemptDelaySeconds=1\n"
        "#2 START   root/1 wait_for_condition\n"
        "#2 FAIL    root/1 wait_for_condition error=eventflow.errors.WaitAttemptsExhaustedError: the "
        "condition was not met within 2 attempts\n"
    )


def test_a_condition_met_on_the_last_permitted_attempt_succeeds(service: FakeService) -> None:
    strategy = waits.fixed(1, until=lambda n: n >= 2, max_attempts=2)
    outputs = poll_to_the_end(service, lambda event, ctx: ctx.wait_for_condition(count, 0, strategy))
    assert outputs[-1] == {"Status": "SUCCEEDED", "Result": "2"}


def test_structured_state_round_trips_through_the_recorded_payload(service: FakeService) -> None:
    def check(state: dict[str, Any], step: StepContext) -> dict[str, Any]:
        checks.append((state, step.attempt))
        return {"polls": state["polls"] + 1, "seen": [*state["seen"], step.attempt]}

    strategy = waits.fixed(5, until=lambda s: s["polls"] == 2)
    outputs = poll_to_the_end(
        service, lambda event, ctx: ctx.wait_for_condition(check, {"polls": 0, "seen": ()}, strategy, "job")
    )
    assert result_of(outputs[-1]) == {"polls": 2, "seen": [1, 2]}
    # The first check already sees the initial state as JSON would read it back (a tuple became a list).
    assert checks == [({"polls": 0, "seen": []}, 1), ({"polls": 1, "seen": [1]}, 2)]
    assert service.rendered().splitlines()[1] == (
        '#1 RETRY   root/1 wait_for_condition "job" payload={"polls":1,"seen":[1]} NextAttemptDelaySeconds=5'
    )


def test_a_strategy_cannot_change_the_returned_state_by_mutating_it(service: FakeService) -> None:
    def meddle(state: dict[str, int], attempt: int) -> WaitDecision:
        state["n"] = -1
        return WaitDecision.stop()

    output = service.invoke(lambda event, ctx: ctx.wait_for_condition(lambda s, _: {"n": 1}, {}, meddle))
    assert result_of(output) == {"n": 1}


def test_a_zero_delay_decision_is_written_as_the_services_minimum(service: FakeService) -> None:
    output = service.invoke(
        lambda event, ctx: ctx.wait_for_condition(lambda s, _: s, 0, lambda s, a: WaitDecision(True, 0))
    )
    assert output == PENDING
    assert service.rendered().endswith("NextAttemptDelaySeconds=1\n")


def test_sync_and_async_wait_for_condition_write_the_same_checkpoints() -> None:
    rendered = []
    for handler in (poll_sync, poll_async):
        service = FakeService()
        poll_to_the_end(service, handler)
        rendered.append(service.rendered())
    assert rendered[0] == rendered[1] == POLL_CHECKPOINTS


# -- the strategies ---------------------------------------------------------------------------------


def decisions(strategy: waits.WaitStrategy[int], state: int = 0, attempts: int = 5) -> list[int]:
    return [strategy(state, attempt).delay_seconds for attempt in range(1, attempts + 1)]


def test_fixed_waits_the_same_and_stops_once_the_condition_holds() -> None:
    strategy = waits.fixed(timedelta(seconds=2.5), until=lambda n: n > 0)
    assert decisions(strategy) == [3, 3, 3, 3, 3]  # whole seconds, rounded up
    assert strategy(1, 1) == WaitDecision.stop()


def test_linear_grows_by_the_increment_up_to_the_cap() -> None:
    strategy = waits.linear(until=lambda n: False, initial_delay=2, increment=3, max_delay=10)
    assert decisions(strategy) == [2, 5, 8, 10, 10]


def test_exponential_without_jitter_backs_off_to_the_cap() -> None:
    strategy = waits.exponential(until=lambda n: False, initial_delay=2, backoff_rate=2, max_delay=20,
                                 jitter=Jitter.NONE, max_attempts=None)
    assert decisions(strategy, attempts=6) == [2, 4, 8, 16, 20, 20]
    assert strategy(0, 10_000).delay_seconds == 20  # no float overflow far out


@pytest.mark.parametrize(("jitter", "low"), [(Jitter.FULL, 0.0), (Jitter.HALF, 0.5)])
def test_exponential_jitter_stays_in_its_band(jitter: Jitter, low: float) -> None:
    strategy = waits.exponential(until=lambda n: False, initial_delay=100, backoff_rate=1, jitter=jitter,
                                 max_attempts=None, rng=random.Random(7))
    delays = [strategy(0, 1).delay_seconds for _ in range(200)]
    assert all(max(1, int(100 * low)) <= d <= 100 for d in delays)
    assert len(set(delays)) > 20  # actually jittered


def test_exponential_has_the_official_sdks_defaults() -> None:
    strategy = waits.exponential(until=lambda n: False, jitter=Jitter.NONE)
    assert decisions(strategy, attempts=3) == [5, 8, 12]  # 5 * 1.5**n, rounded up
    with pytest.raises(WaitAttemptsExhaustedError):
        strategy(0, 60)


def test_max_attempts_wraps_any_strategy() -> None:
    strategy = waits.max_attempts(3, lambda state, attempt: WaitDecision.after(0.2))
    assert decisions(strategy, attempts=2) == [1, 1]
    with pytest.raises(WaitAttemptsExhaustedError, match="within 3 attempts"):
        strategy(0, 3)


@pytest.mark.parametrize(
    "build",
    [
        lambda: waits.fixed(0, until=bool),
        lambda: waits.linear(until=bool, increment=-1),
        lambda: waits.exponential(until=bool, backoff_rate=0.5),
        lambda: waits.max_attempts(0, waits.fixed(1, until=bool)),
        lambda: WaitDecision.after(float("inf")),
    ],
)
def test_invalid_strategy_parameters_are_refused(build: Callable[[], Any]) -> None:
    with pytest.raises(InvalidInputError):
        build()


# -- end to end on the local service ----------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_wait_for_condition_end_to_end_on_the_local_service(flavour: str) -> None:
    service = LocalService()
    recorder = RecordingBackend(service)
    service.register("fn", DurableHandler(poll_sync if flavour == "sync" else poll_async, recorder))
    execution = service.run(service.start_execution("fn").arn)
    assert (execution.status, execution.result, execution.invocations) == (ExecutionStatus.SUCCEEDED, "3", 3)
    assert render_checkpoints(recorder.batches, IdLabeler(), verbatim=True) == POLL_CHECKPOINTS
    assert checks == [(0, 1), (1, 2), (2, 3)]
    started = [e.event_timestamp for e in service.history(execution.arn) if e.event_type == "StepStarted"]
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(started)] == [2, 2]  # the strategy's delay


def test_a_not_yet_check_appears_in_the_history_as_conformance_expects() -> None:
    service = LocalService()
    service.register("fn", DurableHandler(poll_sync, service))
    execution = service.run(service.start_execution("fn").arn)
    kinds = [str(e.event_type) for e in service.history(execution.arn) if e.sub_type == "WaitForCondition"]
    assert kinds == ["StepStarted", "StepSucceeded"] * 3


def test_an_initial_state_the_serdes_cannot_write_fails_before_any_check(service: FakeService) -> None:
    output = service.invoke(lambda event, ctx: ctx.wait_for_condition(count, object(), UNTIL_3, "poll"))
    assert output["Status"] == "FAILED"
    assert output["Error"]["ErrorType"] == "eventflow.errors.SerDesError"
    assert checks == []
    assert service.rendered().splitlines()[0] == '#1 START   root/1 wait_for_condition "poll"'
    assert service.rendered().splitlines()[1].startswith(
        '#1 FAIL    root/1 wait_for_condition "poll" error=eventflow.errors.SerDesError: '
    )


class Attempts(BasePlugin):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def on_attempt_start(self, info: AttemptInfo) -> None:
        self.lines.append(f"start {info.name} {info.attempt}")

    def on_attempt_end(self, info: AttemptInfo) -> None:
        error = f" {info.error.error_type}" if info.error else ""
        self.lines.append(f"end {info.name} {info.attempt}{error}")


def test_plugins_see_each_check_as_an_attempt() -> None:
    plugin = Attempts()

    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.wait_for_condition(count, 1, UNTIL_3, "poll")

    service = LocalService()
    service.register("fn", durable_execution(backend=service, plugins=[plugin])(handler))
    execution = service.run(service.start_execution("fn").arn)
    assert execution.result == "3"
    assert plugin.lines == ["start poll 1", "end poll 1", "start poll 2", "end poll 2"]
