"""The service-side history: which `Event` each applied update or service completion appends.

Kept apart from the engine so that what the history looks like (PROTOCOL.md §7, and the conformance
suite's expected histories) is readable in one place. Every builder takes the EventId the engine assigns
(dense from ExecutionStarted = 1), so an event is built exactly once, with no copy to renumber it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventflow.events.enums import EventType, OperationAction, OperationType
from eventflow.events.history import (
    CallbackFailedDetails,
    CallbackStartedDetails,
    CallbackSucceededDetails,
    CallbackTimedOutDetails,
    ChainedInvokeFailedDetails,
    ChainedInvokeStartedDetails,
    ChainedInvokeStoppedDetails,
    ChainedInvokeSucceededDetails,
    ChainedInvokeTimedOutDetails,
    ContextFailedDetails,
    ContextStartedDetails,
    ContextSucceededDetails,
    Event,
    EventError,
    EventInput,
    EventResult,
    ExecutionFailedDetails,
    ExecutionStartedDetails,
    ExecutionStoppedDetails,
    ExecutionSucceededDetails,
    ExecutionTimedOutDetails,
    InvocationCompletedDetails,
    RetryDetails,
    StepFailedDetails,
    StepStartedDetails,
    StepSucceededDetails,
    WaitCancelledDetails,
    WaitStartedDetails,
    WaitSucceededDetails,
)
from eventflow.events.wire import ErrorObject, Operation, OperationUpdate

EXECUTED_VERSION = "$LATEST"


def _event(event_id: int, event_type: EventType, op: Operation | None, at: datetime, **details: Any) -> Event:
    return Event(
        event_type=event_type,
        event_id=event_id,
        sub_type=op.sub_type if op else None,
        id=op.id if op else None,
        name=op.name if op else None,
        parent_id=op.parent_id if op else None,
        event_timestamp=at,
        **details,
    )


def _error(error: ErrorObject | None) -> EventError:
    return EventError(payload=error)


# -- execution ---------------------------------------------------------------------------------------------


def execution_started(
    event_id: int, op: Operation, at: datetime, input_payload: str | None, timeout: int | None
) -> Event:
    details = ExecutionStartedDetails(input=EventInput(payload=input_payload), execution_timeout=timeout)
    return _event(event_id, EventType.EXECUTION_STARTED, op, at, execution_started_details=details)


def execution_succeeded(event_id: int, op: Operation, at: datetime, result: str | None) -> Event:
    details = ExecutionSucceededDetails(result=EventResult(payload=result))
    return _event(event_id, EventType.EXECUTION_SUCCEEDED, op, at, execution_succeeded_details=details)


def execution_failed(event_id: int, op: Operation, at: datetime, error: ErrorObject | None) -> Event:
    details = ExecutionFailedDetails(error=_error(error))
    return _event(event_id, EventType.EXECUTION_FAILED, op, at, execution_failed_details=details)


def execution_timed_out(event_id: int, op: Operation, at: datetime, error: ErrorObject | None) -> Event:
    details = ExecutionTimedOutDetails(error=_error(error))
    return _event(event_id, EventType.EXECUTION_TIMED_OUT, op, at, execution_timed_out_details=details)


def execution_stopped(event_id: int, op: Operation, at: datetime, error: ErrorObject | None) -> Event:
    details = ExecutionStoppedDetails(error=_error(error))
    return _event(event_id, EventType.EXECUTION_STOPPED, op, at, execution_stopped_details=details)


def invocation_completed(
    event_id: int, start: datetime, end: datetime, request_id: str, error: ErrorObject | None = None
) -> Event:
    details = InvocationCompletedDetails(
        start_timestamp=start, end_timestamp=end, request_id=request_id, error=_error(error) if error else None
    )
    return _event(event_id, EventType.INVOCATION_COMPLETED, None, end, invocation_completed_details=details)


# -- service completions -------------------------------------------------------------------------------------


def wait_succeeded(event_id: int, op: Operation, at: datetime, duration: int | None) -> Event:
    details = WaitSucceededDetails(duration=duration)
    return _event(event_id, EventType.WAIT_SUCCEEDED, op, at, wait_succeeded_details=details)


def callback_succeeded(event_id: int, op: Operation, at: datetime, result: str | None) -> Event:
    details = CallbackSucceededDetails(result=EventResult(payload=result))
    return _event(event_id, EventType.CALLBACK_SUCCEEDED, op, at, callback_succeeded_details=details)


def callback_failed(event_id: int, op: Operation, at: datetime, error: ErrorObject | None) -> Event:
    details = CallbackFailedDetails(error=_error(error))
    return _event(event_id, EventType.CALLBACK_FAILED, op, at, callback_failed_details=details)


def callback_timed_out(event_id: int, op: Operation, at: datetime, error: ErrorObject) -> Event:
    details = CallbackTimedOutDetails(error=_error(error))
    return _event(event_id, EventType.CALLBACK_TIMED_OUT, op, at, callback_timed_out_details=details)


def chained_invoke_ended(
    event_id: int, op: Operation, at: datetime, event_type: EventType, result: str | None, error: ErrorObject | None
) -> Event:
    """ChainedInvokeSucceeded{Result} or ChainedInvokeFailed/TimedOut/Stopped{Error}."""
    if event_type is EventType.CHAINED_INVOKE_SUCCEEDED:
        succeeded = ChainedInvokeSucceededDetails(result=EventResult(payload=result))
        return _event(event_id, event_type, op, at, chained_invoke_succeeded_details=succeeded)
    if event_type is EventType.CHAINED_INVOKE_TIMED_OUT:
        timed_out = ChainedInvokeTimedOutDetails(error=_error(error))
        return _event(event_id, event_type, op, at, chained_invoke_timed_out_details=timed_out)
    if event_type is EventType.CHAINED_INVOKE_STOPPED:
        stopped = ChainedInvokeStoppedDetails(error=_error(error))
        return _event(event_id, event_type, op, at, chained_invoke_stopped_details=stopped)
    failed = ChainedInvokeFailedDetails(error=_error(error))
    return _event(event_id, EventType.CHAINED_INVOKE_FAILED, op, at, chained_invoke_failed_details=failed)


# -- updates ---------------------------------------------------------------------------------------------------


def for_update(
    event_id: int,
    update: OperationUpdate,
    op: Operation,
    at: datetime,
    attempt: int,
    *,
    resolved: bool = True,
    child_arn: str | None = None,
) -> Event | None:
    """The event an applied update appends to the history, or None (EXECUTION completions are
    recorded when the execution closes, after the invocation's InvocationCompleted)."""
    kind, action = update.type, update.action
    if kind == OperationType.STEP:
        return _step_event(event_id, update, op, at, attempt)
    if kind == OperationType.CONTEXT:
        if action == OperationAction.START:
            return _event(event_id, EventType.CONTEXT_STARTED, op, at, context_started_details=ContextStartedDetails())
        if action == OperationAction.SUCCEED:
            succeeded = ContextSucceededDetails(result=EventResult(payload=update.payload))
            return _event(event_id, EventType.CONTEXT_SUCCEEDED, op, at, context_succeeded_details=succeeded)
        failed = ContextFailedDetails(error=_error(update.error))
        return _event(event_id, EventType.CONTEXT_FAILED, op, at, context_failed_details=failed)
    if kind == OperationType.WAIT:
        if action == OperationAction.START:
            started = WaitStartedDetails(
                duration=update.wait_options.wait_seconds if update.wait_options else None,
                scheduled_end_timestamp=op.wait_details.scheduled_end_timestamp if op.wait_details else None,
            )
            return _event(event_id, EventType.WAIT_STARTED, op, at, wait_started_details=started)
        cancelled = WaitCancelledDetails(error=_error(update.error))
        return _event(event_id, EventType.WAIT_CANCELLED, op, at, wait_cancelled_details=cancelled)
    if kind == OperationType.CALLBACK:
        options = update.callback_options
        callback = CallbackStartedDetails(
            callback_id=op.callback_details.callback_id if op.callback_details else None,
            timeout=(options.timeout_seconds or None) if options else None,
            heartbeat_timeout=(options.heartbeat_timeout_seconds or None) if options else None,
        )
        return _event(event_id, EventType.CALLBACK_STARTED, op, at, callback_started_details=callback)
    if kind == OperationType.CHAINED_INVOKE:
        invoke = update.chained_invoke_options
        # A target that could not be resolved starts nothing: no input and no execution are recorded.
        chained = ChainedInvokeStartedDetails(
            function_name=invoke.function_name if invoke else None,
            tenant_id=invoke.tenant_id if invoke else None,
            input=EventInput(payload=update.payload) if resolved else None,
            executed_version=EXECUTED_VERSION if resolved else None,
            durable_execution_arn=child_arn or None,
        )
        return _event(event_id, EventType.CHAINED_INVOKE_STARTED, op, at, chained_invoke_started_details=chained)
    return None


def _step_event(event_id: int, update: OperationUpdate, op: Operation, at: datetime, attempt: int) -> Event:
    action = update.action
    if action == OperationAction.START:
        return _event(event_id, EventType.STEP_STARTED, op, at, step_started_details=StepStartedDetails())
    if action == OperationAction.SUCCEED:
        succeeded = StepSucceededDetails(
            result=EventResult(payload=update.payload), retry_details=RetryDetails(current_attempt=attempt)
        )
        return _event(event_id, EventType.STEP_SUCCEEDED, op, at, step_succeeded_details=succeeded)
    delay = update.step_options.next_attempt_delay_seconds if update.step_options else None
    failed = StepFailedDetails(
        error=_error(update.error),
        retry_details=RetryDetails(
            current_attempt=attempt,
            next_attempt_delay_seconds=delay if action == OperationAction.RETRY else None,
        ),
    )
    return _event(event_id, EventType.STEP_FAILED, op, at, step_failed_details=failed)
