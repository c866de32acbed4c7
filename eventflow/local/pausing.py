"""PauseDurableExecution and ResumeDurableExecution: an execution that runs no code until it is resumed.

A paused execution is still alive: its WAITs end, its retry delays elapse, its callbacks take answers and
time out, its chained invokes finish. What it does not do is run: the service starts no invocation of it.
Whatever happens while it is paused leaves it ``ready``, and resuming invokes it, so it continues from its
last checkpoint. A pause asked for while an invocation is in flight lets that invocation finish (the
execution is PAUSING meanwhile) and takes hold when it ends (PAUSED), unless the invocation ended the
execution.

The execution timeout stands still while paused unless the pause says otherwise (ExecutionTimeoutPaused,
default true): resuming moves the deadline on by the time spent paused. Either way a paused execution ends
366 days after its start (`execution_start.execution_deadline`).

Both calls are idempotent by ClientToken: a repeat of the latest pause (or resume) changes nothing and
succeeds, whatever happened since. Otherwise pausing an execution that has ended, or is paused already,
and resuming one that is not paused are refused with ResourceConflictException.
"""

from __future__ import annotations

from datetime import timedelta

from eventflow.events.enums import ExecutionStatus
from eventflow.local import history
from eventflow.local.errors import InvalidParameterValueError, ResourceConflictError
from eventflow.local.execution_start import arm_execution_timeout
from eventflow.local.model import LocalExecution, PauseRecord
from eventflow.local.state import ServiceState

MAX_REASON_LENGTH = 1024
MAX_CLIENT_TOKEN_LENGTH = 64


def settle_pause(state: ServiceState, execution: LocalExecution) -> None:
    """A PAUSING execution with no invocation left in flight is PAUSED. Called with the lock held."""
    if execution.status is ExecutionStatus.PAUSING and execution.arn not in state.inflight:
        execution.status = ExecutionStatus.PAUSED
        state.touch(execution)


def _check(client_token: str | None, reason: str | None) -> None:
    if client_token is not None and not 1 <= len(client_token) <= MAX_CLIENT_TOKEN_LENGTH:
        raise InvalidParameterValueError(f"ClientToken must be 1 to {MAX_CLIENT_TOKEN_LENGTH} characters")
    if reason is not None and len(reason) > MAX_REASON_LENGTH:
        raise InvalidParameterValueError(f"Reason must be at most {MAX_REASON_LENGTH} characters")


class Pauses:
    """Pauses and resumes executions."""

    def __init__(self, state: ServiceState) -> None:
        self._state = state

    def pause(
        self,
        arn: str,
        *,
        client_token: str | None = None,
        reason: str | None = None,
        timeout_paused: bool = True,
    ) -> LocalExecution:
        """PauseDurableExecution (see the module docstring)."""
        _check(client_token, reason)
        state = self._state
        with state.cond:
            execution = state.get(arn)
            if client_token is not None and client_token == execution.pause_client_token:
                return execution  # a repeat of the latest pause
            if not execution.running:
                raise ResourceConflictError(
                    f"execution {arn} is {execution.status.value}: only a running execution can be paused"
                )
            if execution.paused:
                raise ResourceConflictError(f"execution {arn} is already {execution.status.value}")
            now = state.clock.now()
            execution.pause = PauseRecord(now, reason, timeout_paused)
            execution.pause_client_token = client_token
            execution.status = ExecutionStatus.PAUSING
            settle_pause(state, execution)
            state.unqueue_invocation(arn)
            op = execution.execution_op
            state.append(execution, lambda i: history.execution_paused(i, op, now, reason, timeout_paused))
            arm_execution_timeout(state.timers, execution)
            state.touch(execution)
            state.commit()
            return execution

    def resume(
        self, arn: str, *, client_token: str | None = None, reason: str | None = None
    ) -> LocalExecution:
        """ResumeDurableExecution (see the module docstring)."""
        _check(client_token, reason)
        state = self._state
        with state.cond:
            execution = state.get(arn)
            if client_token is not None and client_token == execution.resume_client_token:
                return execution  # a repeat of the latest resume
            pause = execution.pause
            if not execution.paused or pause is None:
                raise ResourceConflictError(
                    f"execution {arn} is {execution.status.value}: only a paused execution can be resumed"
                )
            now = state.clock.now()
            if pause.timeout_paused:
                execution.paused_us += (now - pause.requested_at) // timedelta(microseconds=1)
            execution.pause = None
            execution.resume_client_token = client_token
            execution.status = ExecutionStatus.RUNNING
            op = execution.execution_op
            state.append(execution, lambda i: history.execution_resumed(i, op, now, reason))
            arm_execution_timeout(state.timers, execution)
            state.touch(execution)
            if execution.ready and arn not in state.inflight:
                state.queue_invocation(arn)  # continue from the last checkpoint
            state.commit()
            return execution
