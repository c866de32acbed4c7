"""The service-side history: which `Event`s each applied update or service completion appends.

Kept apart from the engine so that what the history looks like (PROTOCOL.md §7) is readable in one
place. Every function returns unnumbered events; the engine numbers them densely from 1.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventflow.events.enums import EventType, OperationAction, OperationType
from eventflow.events.history import (
    ContextFailedDetails,
    ContextStartedDetails,
    ContextSucceededDetails,
    Event,
    EventError,
    EventInput,
    EventResult,
    ExecutionFailedDetails,
    ExecutionStartedDetails,
    ExecutionSucceededDetails,
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


def _event(event_type: EventType, op: Operation | None, at: datetime, **details: Any) -> Event:
    return Event.model_construct(
        event_type=event_type,
        sub_type=op.sub_type if op else None,
        id=op.id if op else None,
        name=op.name if op else None,
        parent_id=op.parent_id if op else None,
        event_timestamp=at,
        **details,
    )


def _error(error: ErrorObject | None) -> EventError:
    return EventError.model_construct(payload=error)


def execution_started(op: Operation, at: datetime, input_payload: str | None, timeout: int | None) -> Event:
    return _event(
        EventType.EXECUTION_STARTED,
        op,
        at,
        execution_started_details=ExecutionStartedDetails.model_construct(
            input=EventInput.model_construct(payload=input_payload), execution_timeout=timeout
        ),
    )


def execution_succeeded(op: Operation, at: datetime, result: str | None) -> Event:
    return _event(
        EventType.EXECUTION_SUCCEEDED,
        op,
        at,
        execution_succeeded_details=ExecutionSucceededDetails.model_construct(
            result=EventResult.model_construct(payload=result)
        ),
    )


def execution_failed(op: Operation, at: datetime, error: ErrorObject | None) -> Event:
    return _event(
        EventType.EXECUTION_FAILED,
        op,
        at,
        execution_failed_details=ExecutionFailedDetails.model_construct(error=_error(error)),
    )


def invocation_completed(
    start: datetime, end: datetime, request_id: str, error: ErrorObject | None = None
) -> Event:
    return _event(
        EventType.INVOCATION_COMPLETED,
        None,
        end,
        invocation_completed_details=InvocationCompletedDetails.model_construct(
            start_timestamp=start,
            end_timestamp=end,
            request_id=request_id,
            error=_error(error) if error else None,
        ),
    )


def wait_succeeded(op: Operation, at: datetime, duration: int | None) -> Event:
    return _event(
        EventType.WAIT_SUCCEEDED,
        op,
        at,
        wait_succeeded_details=WaitSucceededDetails.model_construct(duration=duration),
    )


def for_update(update: OperationUpdate, op: Operation, at: datetime, attempt: int) -> Event | None:
    """The event an applied update appends to the history, or None (EXECUTION completions are
    recorded when the execution closes, after the invocation's InvocationCompleted)."""
    kind, action = update.type, update.action
    if kind == OperationType.STEP:
        if action == OperationAction.START:
            return _event(EventType.STEP_STARTED, op, at, step_started_details=StepStartedDetails())
        if action == OperationAction.SUCCEED:
            return _event(
                EventType.STEP_SUCCEEDED,
                op,
                at,
                step_succeeded_details=StepSucceededDetails.model_construct(
                    result=EventResult.model_construct(payload=update.payload),
                    retry_details=RetryDetails.model_construct(current_attempt=attempt),
                ),
            )
        delay = update.step_options.next_attempt_delay_seconds if update.step_options else None
        return _event(
            EventType.STEP_FAILED,
            op,
            at,
            step_failed_details=StepFailedDetails.model_construct(
                error=_error(update.error),
                retry_details=RetryDetails.model_construct(
                    current_attempt=attempt,
                    next_attempt_delay_seconds=delay if action == OperationAction.RETRY else None,
                ),
            ),
        )
    if kind == OperationType.CONTEXT:
        if action == OperationAction.START:
            return _event(EventType.CONTEXT_STARTED, op, at, context_started_details=ContextStartedDetails())
        if action == OperationAction.SUCCEED:
            return _event(
                EventType.CONTEXT_SUCCEEDED,
                op,
                at,
                context_succeeded_details=ContextSucceededDetails.model_construct(
                    result=EventResult.model_construct(payload=update.payload)
                ),
            )
        return _event(
            EventType.CONTEXT_FAILED,
            op,
            at,
            context_failed_details=ContextFailedDetails.model_construct(error=_error(update.error)),
        )
    if kind == OperationType.WAIT:
        if action == OperationAction.START:
            seconds = update.wait_options.wait_seconds if update.wait_options else None
            return _event(
                EventType.WAIT_STARTED,
                op,
                at,
                wait_started_details=WaitStartedDetails.model_construct(
                    duration=seconds,
                    scheduled_end_timestamp=op.wait_details.scheduled_end_timestamp if op.wait_details else None,
                ),
            )
        return _event(
            EventType.WAIT_CANCELLED,
            op,
            at,
            wait_cancelled_details=WaitCancelledDetails.model_construct(error=_error(update.error)),
        )
    return None
