"""Ending executions: every way a RUNNING execution becomes SUCCEEDED, FAILED, TIMED_OUT or STOPPED.

Whatever ends it (the handler's output, Lambda giving up on a raising handler, the execution timeout,
StopDurableExecution), the end is the same: the EXECUTION operation closes, the terminal event is appended,
its queued invocation, timeout and callback ids (from the in-memory index) are dropped, and a child
execution ends its parent's chained invoke.
"""

from __future__ import annotations

from datetime import datetime

from eventflow.events.enums import EventType, ExecutionStatus, OperationAction, OperationStatus
from eventflow.events.wire import ErrorObject
from eventflow.local import history
from eventflow.local.callbacks import forget_callbacks
from eventflow.local.chained_invokes import ChainedInvokes
from eventflow.local.execution_start import MAX_EXECUTION_DURATION, execution_timeout_timer
from eventflow.local.model import LocalExecution
from eventflow.local.state import ServiceState
from eventflow.machine.names import ServiceTrigger
from eventflow.machine.table import next_state

_EXECUTION_EVENTS: dict[ExecutionStatus, EventType] = {
    ExecutionStatus.SUCCEEDED: EventType.EXECUTION_SUCCEEDED,
    ExecutionStatus.FAILED: EventType.EXECUTION_FAILED,
    ExecutionStatus.TIMED_OUT: EventType.EXECUTION_TIMED_OUT,
    ExecutionStatus.STOPPED: EventType.EXECUTION_STOPPED,
}
"""The terminal history event of each end."""

_EXECUTION_ENDINGS: dict[ExecutionStatus, str] = {
    ExecutionStatus.SUCCEEDED: OperationAction.SUCCEED,
    ExecutionStatus.FAILED: OperationAction.FAIL,
    ExecutionStatus.TIMED_OUT: ServiceTrigger.EXECUTION_TIMED_OUT,
    ExecutionStatus.STOPPED: ServiceTrigger.STOPPED,
}
"""What moves the EXECUTION operation to each end, if the handler has not checkpointed it there."""


class ExecutionEnder:
    """Ends executions, and ends a child's chained invoke in its parent through `ChainedInvokes`."""

    def __init__(self, state: ServiceState, chained_invokes: ChainedInvokes) -> None:
        self._state = state
        self._chained_invokes = chained_invokes

    def end(
        self,
        execution: LocalExecution,
        status: ExecutionStatus,
        *,
        result: str | None = None,
        error: ErrorObject | None = None,
    ) -> None:
        """End the execution: its EXECUTION operation, the terminal event, and the parent's chained invoke.
        Called with the lock held; the caller commits."""
        state = self._state
        now = state.clock.now()
        execution.status, execution.result, execution.error, execution.ended_at = status, result, error, now
        execution.pause = None  # a paused execution may be stopped, or time out
        op = execution.execution_op
        if op.status == OperationStatus.STARTED:
            op = op.model_copy(
                update={
                    "status": next_state(op.type, op.status, _EXECUTION_ENDINGS[status], op_id=op.id),
                    "end_timestamp": now,
                }
            )
            state.put(execution, op)
        ending = _EXECUTION_EVENTS[status]
        state.append(
            execution,
            lambda i: history.ended(
                i, op, now, ending, result if status is ExecutionStatus.SUCCEEDED else error
            ),
        )

        state.unqueue_invocation(execution.arn)
        state.timers.cancel(execution_timeout_timer(execution.arn))
        state.note_expiry(execution)
        forget_callbacks(state, execution)
        self._chained_invokes.child_ended(execution)
        state.cond.notify_all()

    def stop(self, arn: str, error: ErrorObject | None = None) -> datetime:
        """StopDurableExecution (see `LocalService.stop`)."""
        state = self._state
        with state.cond:
            execution = state.get(arn)
            if execution.running:
                self.end(
                    execution,
                    ExecutionStatus.STOPPED,
                    error=error
                    or ErrorObject(error_type="Execution.Stopped", error_message="The execution was stopped"),
                )
                state.commit()
            assert execution.ended_at is not None
            return execution.ended_at

    def time_out(self, execution: LocalExecution, _ref: str) -> None:
        """The execution's timeout timer fired: it ends TIMED_OUT."""
        seconds = execution.timeout_seconds
        message = f"Execution timed out after {seconds} seconds."
        if execution.pause is not None and (execution.pause.timeout_paused or not seconds):
            days = MAX_EXECUTION_DURATION.days
            message = f"Execution timed out: it was still paused {days} days after it started."
        error = ErrorObject(error_type="Execution.Timeout", error_message=message)
        self.end(execution, ExecutionStatus.TIMED_OUT, error=error)
