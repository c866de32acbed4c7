"""Waits and retry delays: the operations that only time completes.

A WAIT started by a checkpoint arms a timer for its scheduled end; when it fires the WAIT SUCCEEDS (with its
WaitSucceeded event) and the execution is invoked again. A STEP checkpointed as RETRY arms a timer for its
next attempt; when it fires the STEP becomes READY. A WAIT cancelled by a checkpoint drops its timer.
"""

from __future__ import annotations

from eventflow.events.emitted import AnyUpdate
from eventflow.events.enums import TERMINAL_STATUSES, OperationAction, OperationType
from eventflow.events.wire import Operation
from eventflow.local import history
from eventflow.local.model import LocalExecution
from eventflow.local.state import ServiceState
from eventflow.local.timers import TimerQueue
from eventflow.machine.names import ServiceTrigger

WAIT_TIMER = "wait"
"""Timer kind: a WAIT operation's scheduled end."""
RETRY_TIMER = "retry"
"""Timer kind: a STEP's next attempt after a retry delay."""


def arm_wait_timer(timers: TimerQueue, arn: str, op: Operation) -> None:
    assert op.wait_details is not None and op.wait_details.scheduled_end_timestamp is not None
    timers.arm((WAIT_TIMER, arn, op.id), op.wait_details.scheduled_end_timestamp)


def arm_retry_timer(timers: TimerQueue, arn: str, op: Operation) -> None:
    assert op.step_details is not None and op.step_details.next_attempt_timestamp is not None
    timers.arm((RETRY_TIMER, arn, op.id), op.step_details.next_attempt_timestamp)


def wait_duration(op: Operation) -> int | None:
    """The WAIT's length in whole seconds, as its WaitSucceeded event reports it."""
    if op.start_timestamp and op.wait_details and op.wait_details.scheduled_end_timestamp:
        return round((op.wait_details.scheduled_end_timestamp - op.start_timestamp).total_seconds())
    return None


class Waits:
    """Arms and cancels the timers of waits and retry delays, and completes what they time."""

    def __init__(self, state: ServiceState) -> None:
        self._state = state

    def track(self, arn: str, update: AnyUpdate, op: Operation) -> None:
        """Arm or cancel the timer an applied WAIT update or STEP RETRY calls for."""
        timers = self._state.timers
        if update.type == OperationType.WAIT:
            if update.action == OperationAction.START:
                arm_wait_timer(timers, arn, op)
            else:
                timers.cancel((WAIT_TIMER, arn, op.id))
        elif update.type == OperationType.STEP and update.action == OperationAction.RETRY:
            arm_retry_timer(timers, arn, op)

    def wait_elapsed(self, execution: LocalExecution, op_id: str) -> None:
        """A WAIT's timer fired: the WAIT SUCCEEDS."""
        state = self._state
        now = state.clock.now()
        op = self._open(execution, op_id)
        if op is None:
            return
        op = state.transition(execution, op, ServiceTrigger.TIMER_ELAPSED)
        state.append(execution, lambda i: history.wait_succeeded(i, op, now, wait_duration(op)))
        state.mark_ready(execution)

    def retry_delay_elapsed(self, execution: LocalExecution, op_id: str) -> None:
        """A STEP's retry timer fired: the STEP is READY for its next attempt."""
        op = self._open(execution, op_id)
        if op is None:
            return
        self._state.transition(execution, op, ServiceTrigger.RETRY_DELAY_ELAPSED)
        self._state.mark_ready(execution)

    @staticmethod
    def _open(execution: LocalExecution, op_id: str) -> Operation | None:
        """The operation a timer fired for, unless it has ended meanwhile."""
        op = execution.operations.get(op_id)
        return None if op is None or op.status in TERMINAL_STATUSES else op
