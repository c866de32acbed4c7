"""DeleteDurableExecution and retention: ended executions, with their histories, do not stay forever.

An execution that has ended is kept for its function's RetentionPeriodInDays (1 to 90, default 14) after
its end, on the service's clock, and then deleted as DeleteDurableExecution deletes it: its record,
operations, events, callbacks and invokes leave the store, and reading it is ResourceNotFoundException.
Only an ended execution can be deleted; anything else is ResourceConflictException.

Retention is not a timer. A timer on a `VirtualClock` is somewhere to jump to, and a run loop that jumped
14 days ahead to delete what a test just ran would make every history vanish. So the service keeps only
the earliest end of retention it knows of (``ServiceState.next_expiry``, one comparison per run-loop turn):
when the clock passes it, for whatever reason, the due executions are deleted (`sweep`) and the next one is
read from the store's index. A real-clock run loop also wakes up for it.
"""

from __future__ import annotations

from datetime import datetime

from eventflow.local.errors import InvalidParameterValueError, ResourceConflictError
from eventflow.local.model import LocalExecution
from eventflow.local.state import ServiceState

MIN_RETENTION_DAYS = 1
MAX_RETENTION_DAYS = 90


def check_retention_days(days: int) -> int:
    """``days`` if it is a valid RetentionPeriodInDays, else InvalidParameterValueError."""
    if isinstance(days, bool) or not isinstance(days, int):
        raise InvalidParameterValueError(f"RetentionPeriodInDays must be an integer, got {days!r}")
    if not MIN_RETENTION_DAYS <= days <= MAX_RETENTION_DAYS:
        raise InvalidParameterValueError(
            f"RetentionPeriodInDays must be {MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS}, got {days}"
        )
    return days


class Retention:
    """Deletes ended executions: on request, and when their retention ends."""

    def __init__(self, state: ServiceState) -> None:
        self._state = state
        with state.lock:
            state.next_expiry = state.store.next_expiry()

    def delete(self, arn: str) -> datetime:
        """DeleteDurableExecution: the ended execution and its history are gone; returns when."""
        state = self._state
        with state.cond:
            execution = state.get(arn)
            if execution.running:
                raise ResourceConflictError(
                    f"execution {arn} is {execution.status.value}: only an ended execution can be deleted"
                )
            if arn in state.inflight:
                raise ResourceConflictError(f"execution {arn} still has an invocation in flight")
            now = state.clock.now()
            self._remove(execution)
            state.cond.notify_all()
            return now

    def sweep(self) -> None:
        """Delete every execution whose retention has ended by now. Called with the lock held; O(1) unless
        something is due."""
        state = self._state
        due = state.next_expiry
        if due is None or due > state.clock.now():
            return
        # Ended ones only (only they have an expiry), but not one whose abandoned handler still runs.
        due_arns = [arn for arn in state.store.expired(state.clock.now()) if arn not in state.inflight]
        for arn in due_arns:
            state.executions.pop(arn, None)  # its callback ids left the index when it ended
        state.store.delete(*due_arns)  # one transaction
        state.next_expiry = state.store.next_expiry()
        if state.next_expiry is not None and state.next_expiry <= state.clock.now():
            state.next_expiry = None  # only executions in flight are due: wait for the next one to end

    def _remove(self, execution: LocalExecution) -> None:
        state = self._state
        state.executions.pop(execution.arn, None)
        for callback_id in execution.callbacks:
            state.callback_arns.pop(callback_id, None)
        state.store.delete(execution.arn)
