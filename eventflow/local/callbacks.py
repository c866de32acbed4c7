"""Callbacks: a CALLBACK operation waits for the outside world to answer it by its callback id.

A checkpoint starts a callback (with an optional timeout and heartbeat timeout); the outside world
answers it with SendDurableExecutionCallbackSuccess/Failure, or keeps it alive with heartbeats; if the
timeout or the heartbeat deadline passes first, the callback TIMES OUT. Each ending appends its event and
invokes the execution again. Open callbacks' ids are indexed in memory (``ServiceState.callback_arns``); an
id leaves that index when its callback ends or its execution does, and is then found through the store, so
an answer finds its execution in O(1) and a late or repeated answer still gets the right refusal.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from eventflow.events.emitted import AnyUpdate
from eventflow.events.enums import EventType, OperationStatus
from eventflow.events.limits import MAX_PAYLOAD_BYTES
from eventflow.events.wire import CallbackDetails, ErrorObject, Operation
from eventflow.local import history
from eventflow.local.errors import (
    CallbackNotFoundError,
    CallbackTimedOutError,
    InvalidParameterValueError,
    RequestTooLargeError,
)
from eventflow.local.model import CallbackRecord, LocalExecution
from eventflow.local.state import ServiceState
from eventflow.local.timers import TimerQueue
from eventflow.machine.names import ServiceTrigger
from eventflow.machine.rules import takes

CALLBACK_TIMEOUT = "Callback.Timeout"
"""The error type of a callback that timed out."""
CALLBACK_HEARTBEAT = "Callback.Heartbeat"
"""The error type of a callback whose heartbeat deadline passed."""

CALLBACK_TIMER = "callback"
"""Timer kind: a callback's timeout."""
HEARTBEAT_TIMER = "heartbeat"
"""Timer kind: a callback's heartbeat deadline."""

_TIMEOUTS: dict[str, tuple[str, ServiceTrigger, str, str]] = {
    CALLBACK_TIMER: (
        HEARTBEAT_TIMER,
        ServiceTrigger.CALLBACK_TIMED_OUT,
        CALLBACK_TIMEOUT,
        "Callback timed out",
    ),
    HEARTBEAT_TIMER: (
        CALLBACK_TIMER,
        ServiceTrigger.HEARTBEAT_TIMED_OUT,
        CALLBACK_HEARTBEAT,
        "Callback heartbeat timed out",
    ),
}
"""For each callback timer: the other timer it makes moot, the trigger, the error type and message."""


def arm_callback_timers(timers: TimerQueue, record: CallbackRecord) -> None:
    """Arm the callback's timeout and heartbeat deadline, those it has."""
    if record.timeout_at is not None:
        timers.arm((CALLBACK_TIMER, record.arn, record.callback_id), record.timeout_at)
    if record.heartbeat_deadline is not None:
        timers.arm((HEARTBEAT_TIMER, record.arn, record.callback_id), record.heartbeat_deadline)


def forget_callbacks(state: ServiceState, execution: LocalExecution) -> None:
    """Drop the ending execution's callback ids from the in-memory index (the store still knows them)."""
    for callback_id in execution.callbacks:
        state.callback_arns.pop(callback_id, None)


class Callbacks:
    """Starts callbacks, takes the outside world's answers and heartbeats, and times callbacks out."""

    def __init__(self, state: ServiceState) -> None:
        self._state = state

    def start(self, execution: LocalExecution, update: AnyUpdate, op: Operation, now: datetime) -> None:
        """Open the callback a checkpoint just started, with its timers."""
        assert op.callback_details is not None and op.callback_details.callback_id is not None
        options = update.callback_options
        record = CallbackRecord(
            op.callback_details.callback_id,
            execution.arn,
            op.id,
            (options.timeout_seconds or 0) if options else 0,
            (options.heartbeat_timeout_seconds or 0) if options else 0,
        )
        if record.timeout_seconds:
            record.timeout_at = now + timedelta(seconds=record.timeout_seconds)
        if record.heartbeat_timeout_seconds:
            record.heartbeat_deadline = now + timedelta(seconds=record.heartbeat_timeout_seconds)
        self._put(execution, record)
        arm_callback_timers(self._state.timers, record)

    # -- answers from outside ---------------------------------------------------------------------

    def send_success(self, callback_id: str, result: str | bytes | None = None) -> None:
        """SendDurableExecutionCallbackSuccess (see `LocalService.send_callback_success`)."""
        if isinstance(result, bytes):
            try:
                result = result.decode()
            except UnicodeDecodeError:
                raise InvalidParameterValueError("a callback result must be UTF-8 text") from None
        if result is not None and len(result.encode()) > MAX_PAYLOAD_BYTES:
            raise RequestTooLargeError(f"a callback result may be at most {MAX_PAYLOAD_BYTES} bytes")
        details = CallbackDetails(callback_id=callback_id, result=result)
        self._answer(
            callback_id, ServiceTrigger.CALLBACK_SUCCEEDED, EventType.CALLBACK_SUCCEEDED, details, result
        )

    def send_failure(self, callback_id: str, error: ErrorObject | None = None) -> None:
        """SendDurableExecutionCallbackFailure (see `LocalService.send_callback_failure`)."""
        details = CallbackDetails(callback_id=callback_id, error=error)
        self._answer(callback_id, ServiceTrigger.CALLBACK_FAILED, EventType.CALLBACK_FAILED, details, error)

    def send_heartbeat(self, callback_id: str) -> None:
        """SendDurableExecutionCallbackHeartbeat: push the heartbeat deadline out by the heartbeat timeout."""
        state = self._state
        with state.cond:
            execution, record, _ = self._open(callback_id, ServiceTrigger.HEARTBEAT_TIMED_OUT)
            if record.heartbeat_timeout_seconds:
                record.heartbeat_deadline = state.clock.now() + timedelta(
                    seconds=record.heartbeat_timeout_seconds
                )
                self._put(execution, record)
                state.timers.arm((HEARTBEAT_TIMER, execution.arn, callback_id), record.heartbeat_deadline)
                state.commit()
                state.cond.notify_all()

    def _answer(
        self,
        callback_id: str,
        trigger: ServiceTrigger,
        event_type: EventType,
        details: CallbackDetails,
        outcome: str | ErrorObject | None,
    ) -> None:
        """End an open callback the way its sender said, with its history event, and wake the execution."""
        state = self._state
        with state.cond:
            execution, record, op = self._open(callback_id, trigger)
            op = state.transition(execution, op, trigger, callback_details=details)
            now = state.clock.now()
            state.append(execution, lambda i: history.ended(i, op, now, event_type, outcome))
            state.timers.cancel((CALLBACK_TIMER, execution.arn, record.callback_id))
            state.timers.cancel((HEARTBEAT_TIMER, execution.arn, record.callback_id))
            state.callback_arns.pop(callback_id, None)
            state.mark_ready(execution)
            state.commit()
            state.cond.notify_all()

    def _open(
        self, callback_id: str, trigger: ServiceTrigger
    ) -> tuple[LocalExecution, CallbackRecord, Operation]:
        """The open callback with this id, its execution and operation; raises if there is none, or if its
        machine cannot take `trigger` (the answer, or for a heartbeat the heartbeat timeout it pushes out)."""
        state = self._state
        arn = state.callback_arns.get(callback_id) or state.store.find_callback(callback_id)
        execution = None if arn is None else state.get(arn)
        record = None if execution is None else execution.callbacks.get(callback_id)
        if execution is None or record is None:
            raise CallbackNotFoundError(f"no callback with id {callback_id!r}")
        op = execution.operations[record.op_id]
        if op.status == OperationStatus.TIMED_OUT:
            raise CallbackTimedOutError(f"callback {callback_id!r} timed out")
        if not takes(op.type, op.status, trigger):
            raise CallbackNotFoundError(f"callback {callback_id!r} is already {op.status.value}")
        if not execution.running:
            raise CallbackNotFoundError(
                f"the execution of callback {callback_id!r} is {execution.status.value}"
            )
        return execution, record, op

    def _put(self, execution: LocalExecution, record: CallbackRecord) -> None:
        """Index the callback record and stage it for the store."""
        state = self._state
        execution.callbacks[record.callback_id] = record
        state.callback_arns[record.callback_id] = execution.arn
        state.changes.callbacks[record.callback_id] = record
        state.touch(execution)

    # -- timers -----------------------------------------------------------------------------------

    def timeout_elapsed(self, execution: LocalExecution, callback_id: str) -> None:
        """The callback's timeout fired: it TIMES OUT (Callback.Timeout)."""
        self._time_out(CALLBACK_TIMER, execution, callback_id)

    def heartbeat_missed(self, execution: LocalExecution, callback_id: str) -> None:
        """The callback's heartbeat deadline passed: it TIMES OUT (Callback.Heartbeat)."""
        self._time_out(HEARTBEAT_TIMER, execution, callback_id)

    def _time_out(self, timer: str, execution: LocalExecution, callback_id: str) -> None:
        state = self._state
        now = state.clock.now()
        record = execution.callbacks.get(callback_id)
        if record is None:
            return
        other_timer, trigger, error_type, message = _TIMEOUTS[timer]
        state.timers.cancel((other_timer, execution.arn, callback_id))
        op = execution.operations[record.op_id]
        if not takes(op.type, op.status, trigger):
            return
        error = ErrorObject(error_type=error_type, error_message=message)
        details = CallbackDetails(callback_id=callback_id, error=error)
        op = state.transition(execution, op, trigger, callback_details=details)
        state.append(execution, lambda i: history.ended(i, op, now, EventType.CALLBACK_TIMED_OUT, error))
        state.callback_arns.pop(callback_id, None)
        state.mark_ready(execution)
