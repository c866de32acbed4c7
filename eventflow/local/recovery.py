"""Picking executions back up from the store: after a restart, or after the store refused a step.

Timers, queued work and the callback index live only in memory. An execution loaded from the store gets
them back here: its open callbacks' timeouts, its WAITs' ends and STEPs' retry delays, its plain chained
invokes still to call, its execution timeout, and its next invocation. An invocation that was in flight
when the previous process died never completed, so the execution is invoked again (the handler replays
what was acknowledged); otherwise it would stay RUNNING forever. After a restart, that lost invocation is
first recorded and counted as a crash (`Invocations.lost_in_restart`), so a handler that takes its
process down is retried by the service's rules and then fails the execution, instead of taking every
restart down with it.
"""

from __future__ import annotations

from collections.abc import Callable

from eventflow.events.enums import OperationStatus, OperationType
from eventflow.local import history
from eventflow.local.callbacks import arm_callback_timers
from eventflow.local.clock import VirtualClock
from eventflow.local.execution_start import arm_execution_timeout
from eventflow.local.model import LocalExecution
from eventflow.local.pausing import settle_pause
from eventflow.local.state import ServiceState
from eventflow.local.waits import arm_retry_timer, arm_wait_timer
from eventflow.local.work import plain_call


def resume(state: ServiceState, lost: Callable[[LocalExecution], None]) -> None:
    """Load every running execution from the store and re-arm what it waits for (after a restart).
    ``lost(execution)`` records an invocation that was in flight when the previous process ended."""
    for arn in state.store.running():
        execution = state.get(arn)
        with state.cond:
            if execution.invoking:
                lost(execution)
                state.commit()
        adopt(state, execution)


def adopt(state: ServiceState, execution: LocalExecution) -> None:
    """Re-arm what a running execution loaded from the store waits for."""
    arn = execution.arn
    if not execution.running:
        return
    if isinstance(state.clock, VirtualClock) and execution.events:
        state.clock.advance_to(history.timestamp(execution.events[-1]))  # virtual time never runs backwards
    for record in execution.callbacks.values():
        if execution.operations[record.op_id].status == OperationStatus.STARTED:
            state.callback_arns[record.callback_id] = arn  # ended callbacks are found through the store
            arm_callback_timers(state.timers, record)
    for op_id in execution.waiting:
        op = execution.operations[op_id]
        if op.type == OperationType.WAIT and op.wait_details and op.wait_details.scheduled_end_timestamp:
            arm_wait_timer(state.timers, arn, op)
        elif op.type == OperationType.STEP and op.status == OperationStatus.PENDING:
            arm_retry_timer(state.timers, arn, op)
        elif op.type == OperationType.CHAINED_INVOKE and execution.invokes[op_id].child_arn is None:
            state.enqueue(plain_call(arn, op_id))
    arm_execution_timeout(state.timers, execution)
    if execution.invoking:
        execution.invoking = False
        execution.ready = True
    settle_pause(state, execution)  # PAUSING with no invocation left in flight: PAUSED
    if execution.ready and execution.runnable:  # a paused execution waits for its resume
        state.queue_invocation(arn)
