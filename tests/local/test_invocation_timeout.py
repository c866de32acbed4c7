"""Lambda's per-invocation timeout (`LocalService.register(..., invocation_timeout_seconds=...)`).

An invocation that runs past it is a timed-out sandbox: its InvocationCompleted carries ``Sandbox.Timedout``,
it is retried like a crash (at most `MAX_LAMBDA_RETRIES` times, then the execution fails), and the abandoned
handler, which keeps running on its own thread, can change nothing: its checkpoints are refused as stale.
Handlers block on a `threading.Event` the test sets afterwards, so no test sleeps longer than a timeout.
"""

from __future__ import annotations

import _thread
import json
import threading
from typing import Any

import pytest

from eventflow import durable_execution
from eventflow.errors import CheckpointError
from eventflow.events.enums import ExecutionStatus, OperationStatus
from eventflow.local import LocalService
from eventflow.local.engine import MAX_LAMBDA_RETRIES
from eventflow.local.errors import InvalidParameterValueError

from .helpers import PENDING, invoke_start, match_history, step_start, step_succeed, types, wait_start

SHORT = 0.05  # the invocation timeout of a handler that blocks: each timed-out invocation costs this much
BLOCKED = 5.0  # how long a blocked handler waits for its release at most (the test releases it first)


class Stuck:
    """A durable handler (speaking the raw protocol) whose first ``stuck`` invocations block until
    ``release`` is set, then try to checkpoint with the token they were handed; later invocations succeed.
    What each late checkpoint met is in ``late``; ``finished`` is set when every stuck invocation is over."""

    def __init__(self, service: LocalService, stuck: int = 1) -> None:
        self.service = service
        self.stuck = stuck
        self.calls = 0
        self.release = threading.Event()
        self.finished = threading.Event()
        self.late: list[BaseException | None] = []
        self.tokens: list[str] = []  # the token each invocation was handed
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self._lock:
            self.calls += 1
            call = self.calls
        arn, token = event["DurableExecutionArn"], event["CheckpointToken"]
        self.tokens.append(token)
        if call > self.stuck:
            return {"Status": "SUCCEEDED", "Result": json.dumps(call)}
        self.release.wait(BLOCKED)
        try:
            self.service.checkpoint(arn, token, [step_start(f"late-{call}")])
            outcome: BaseException | None = None
        except CheckpointError as exc:
            outcome = exc
        with self._lock:
            self.late.append(outcome)
            if len(self.late) == self.stuck:
                self.finished.set()
        return {"Status": "SUCCEEDED", "Result": '"late"'}

    def settle(self) -> None:
        """Let the abandoned invocations go on, and wait until they are over."""
        self.release.set()
        assert self.finished.wait(BLOCKED)


def test_a_timed_out_invocation_is_retried_and_its_late_checkpoint_refused() -> None:
    service = LocalService()
    handler = Stuck(service)
    service.register("fn", handler, invocation_timeout_seconds=SHORT)
    arn = service.start_execution("fn").arn
    execution = service.run(arn)
    assert execution.status is ExecutionStatus.SUCCEEDED and execution.result == "2"
    match_history(
        service.history(arn),
        [
            {"EventType": "ExecutionStarted", "EventId": 1},
            {
                "EventType": "InvocationCompleted",
                "EventId": 2,
                "InvocationCompletedDetails": {
                    "Error": {
                        "Payload": {
                            "ErrorType": "Sandbox.Timedout",
                            "ErrorMessage": f"Task timed out after {SHORT:.2f} seconds",
                        }
                    }
                },
            },
            {"EventType": "InvocationCompleted", "EventId": 3},
            {"EventType": "ExecutionSucceeded", "EventId": 4, "ExecutionSucceededDetails": {"Result": "*"}},
        ],
    )
    before = service.history(arn)
    handler.settle()
    (refusal,) = handler.late
    assert isinstance(refusal, CheckpointError)
    assert refusal.code == "InvalidParameterValueException" and "Invalid checkpoint token" in str(refusal)
    assert service.history(arn) == before and "late-1" not in execution.operations
    assert execution.result == "2"  # the abandoned invocation's SUCCEEDED output went nowhere


def test_the_token_is_retired_as_soon_as_the_service_gives_up() -> None:
    """Even before the retry is invoked (``invoke`` runs one invocation), the timed-out invocation's token
    is no longer accepted, for checkpoints or state reads."""
    service = LocalService()
    handler = Stuck(service)
    service.register("fn", handler, invocation_timeout_seconds=SHORT)
    execution = service.start_execution("fn")
    assert service.invoke(execution.arn) is None  # timed out: no output
    assert execution.status is ExecutionStatus.RUNNING and execution.failed_invocations == 1
    with pytest.raises(CheckpointError, match="Invalid checkpoint token"):
        service.get_state(execution.arn, handler.tokens[0], "")
    handler.settle()
    assert isinstance(handler.late[0], CheckpointError)
    assert types(service.history(execution.arn)) == ["ExecutionStarted", "InvocationCompleted"]
    assert service.run(execution.arn).result == "2"


def test_an_execution_whose_every_invocation_times_out_fails_after_the_retries() -> None:
    service = LocalService()
    handler = Stuck(service, stuck=MAX_LAMBDA_RETRIES + 1)
    service.register("fn", handler, invocation_timeout_seconds=SHORT)
    execution = service.run(service.start_execution("fn").arn)
    assert execution.status is ExecutionStatus.FAILED
    assert execution.error is not None and execution.error.error_type == "Sandbox.Timedout"
    assert handler.calls == MAX_LAMBDA_RETRIES + 1
    assert types(service.history(execution.arn)) == [
        "ExecutionStarted",
        *["InvocationCompleted"] * (MAX_LAMBDA_RETRIES + 1),
        "ExecutionFailed",
    ]
    handler.settle()
    assert all(isinstance(refusal, CheckpointError) for refusal in handler.late)


def test_an_sdk_handler_replays_what_was_acknowledged_before_the_timeout() -> None:
    """The step acknowledged before the timeout is replayed, not run again; the step cut short is run again
    by the retry; the abandoned attempt's completion is refused."""
    release = threading.Event()
    runs: list[str] = []
    abandoned: list[threading.Thread] = []

    def slow(_: Any) -> str:
        runs.append("slow")
        if len(runs) == 2:  # the first attempt of "slow" (runs[0] is "fast")
            abandoned.append(threading.current_thread())
            release.wait(BLOCKED)
        return "done"

    @durable_execution
    def handler(event: Any, ctx: Any) -> Any:
        first = ctx.step(lambda _: runs.append("fast") or "fast", name="fast")
        return [first, ctx.step(slow, name="slow")]

    service = LocalService()
    service.register("fn", handler, invocation_timeout_seconds=0.3)
    execution = service.run(service.start_execution("fn").arn)
    assert execution.status is ExecutionStatus.SUCCEEDED and json.loads(execution.result or "") == [
        "fast",
        "done",
    ]
    before = service.history(execution.arn)
    release.set()
    abandoned[0].join(BLOCKED)
    assert not abandoned[0].is_alive()
    assert runs == ["fast", "slow", "slow"]
    assert service.history(execution.arn) == before
    completions = [e for e in before if str(e.event_type) == "InvocationCompleted"]
    assert completions[0].invocation_completed_details.error.payload.error_type == "Sandbox.Timedout"
    assert completions[1].invocation_completed_details.error is None


def test_a_handler_within_the_timeout_is_unaffected() -> None:
    remaining: list[int] = []

    def script(service: LocalService) -> Any:
        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            remaining.append(context.get_remaining_time_in_millis())
            arn, token = event["DurableExecutionArn"], event["CheckpointToken"]
            ops = {op["Id"] for op in event["InitialExecutionState"]["Operations"]}
            if "w" not in ops:
                token = service.checkpoint(arn, token, [step_start("s"), step_succeed("s", '"x"')]).token
                service.checkpoint(arn, token, [wait_start("w", 30)])
                return PENDING
            return {"Status": "SUCCEEDED", "Result": '"ok"'}

        return handler

    shapes = []
    for limit in (None, 60):
        service = LocalService()
        service.register("fn", script(service), invocation_timeout_seconds=limit)
        execution = service.run(service.start_execution("fn").arn)
        assert execution.status is ExecutionStatus.SUCCEEDED and execution.result == '"ok"'
        history = service.history(execution.arn)
        assert all(
            e.invocation_completed_details.error is None
            for e in history
            if str(e.event_type) == "InvocationCompleted"
        )
        shapes.append(types(history))
    assert shapes[0] == shapes[1]
    # The context counts down from the function's timeout (virtual time stands still in a handler).
    assert remaining == [15 * 60 * 1000] * 2 + [60 * 1000] * 2


def test_a_plain_target_past_its_timeout_fails_the_invoke() -> None:
    release = threading.Event()

    def plain(event: Any, context: Any) -> Any:
        release.wait(BLOCKED)
        return "late"

    def parent(event: dict[str, Any], context: Any) -> dict[str, Any]:
        arn, token = event["DurableExecutionArn"], event["CheckpointToken"]
        ops = {op["Id"]: op for op in event["InitialExecutionState"]["Operations"]}
        if "inv" not in ops:
            service.checkpoint(arn, token, [invoke_start("inv", "plain", '"x"')])
            return PENDING
        return {"Status": "FAILED", "Error": ops["inv"]["ChainedInvokeDetails"]["Error"]}

    service = LocalService()
    service.register("plain", plain, durable=False, invocation_timeout_seconds=SHORT)
    service.register("parent", parent)
    execution = service.run(service.start_execution("parent").arn)
    release.set()
    assert execution.operations["inv"].status == OperationStatus.FAILED
    assert execution.error is not None and execution.error.error_type == "Sandbox.Timedout"
    assert types(service.history(execution.arn))[3] == "ChainedInvokeFailed"


@pytest.mark.parametrize("limit", [0, -1, 901])
def test_an_invocation_timeout_out_of_range_is_refused(limit: float) -> None:
    with pytest.raises(InvalidParameterValueError, match="invocation_timeout_seconds"):
        LocalService().register("fn", lambda e, c: None, invocation_timeout_seconds=limit)


def test_an_interrupt_while_waiting_for_a_bounded_handler_retires_its_token() -> None:
    """A KeyboardInterrupt stops the service's process, not the sandbox: it propagates and the execution is
    queued again, as for a handler run inline; the handler left running on its thread can change nothing."""
    service = LocalService()
    handler = Stuck(service)

    def interrupting(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if handler.calls == 0:
            _thread.interrupt_main()  # as if Ctrl-C reached the thread waiting for this invocation
        return handler(event, context)

    service.register("fn", interrupting, invocation_timeout_seconds=BLOCKED)
    execution = service.start_execution("fn")
    with pytest.raises(KeyboardInterrupt):
        service.invoke(execution.arn)
    handler.settle()
    assert isinstance(handler.late[0], CheckpointError)
    assert types(service.history(execution.arn)) == ["ExecutionStarted"]
    assert service.run(execution.arn).result == "2"
