"""The service-side history: which event each applied update or service completion appends.

Kept apart from the engine so that what the history looks like (PROTOCOL.md §7, and the conformance
suite's expected histories) is readable in one place.

Events are kept as `EventRecord`s, flat tuples of plain values, and built into wire `Event` models only when
the history is read (`to_event`). Why: an execution of 10,000 steps holds 20,000+ events; as pydantic models
(four nested models each) they are a few hundred thousand objects the garbage collector must traverse again
and again, which measured at more than half the cost of a checkpoint. A tuple of strings, ints and datetimes
is untracked by the collector. Every builder takes the EventId the engine assigns (dense from
ExecutionStarted = 1).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from eventflow.events.emitted import AnyUpdate
from eventflow.events.enums import EventType, OperationAction, OperationType
from eventflow.events.history import (
    DETAILS_FIELD_BY_EVENT_TYPE,
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
    EventDetails,
    EventError,
    EventInput,
    EventPauseReason,
    EventResult,
    EventResumeReason,
    ExecutionFailedDetails,
    ExecutionPausedDetails,
    ExecutionResumedDetails,
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
from eventflow.events.wire import ErrorObject, Operation
from eventflow.machine.fold import UPDATE_EVENTS

EXECUTED_VERSION = "$LATEST"

E = EventType


class EventRecord(NamedTuple):
    """One history event in compact form; ``details`` holds the arguments of its details shape."""

    event_id: int
    event_type: str
    at: datetime
    op_id: str | None
    name: str | None
    sub_type: str | None
    parent_id: str | None
    details: tuple[Any, ...]


HistoryItem = EventRecord | Event
"""What an execution's history list holds: records appended in this process, or events loaded from a store."""


def _record(
    event_id: int, event_type: EventType, op: Operation | None, at: datetime, *details: Any
) -> EventRecord:
    if op is None:
        return EventRecord(event_id, event_type.value, at, None, None, None, None, details)
    return EventRecord(event_id, event_type.value, at, op.id, op.name, op.sub_type, op.parent_id, details)


# -- execution -------------------------------------------------------------------------------------


def execution_started(
    event_id: int, op: Operation, at: datetime, input_payload: str | None, timeout: int | None
) -> EventRecord:
    return _record(event_id, E.EXECUTION_STARTED, op, at, input_payload, timeout)


def execution_paused(
    event_id: int, op: Operation, at: datetime, reason: str | None, timeout_paused: bool
) -> EventRecord:
    """PauseDurableExecution took effect (the event is appended when the pause is asked for)."""
    return _record(event_id, E.EXECUTION_PAUSED, op, at, at, reason, timeout_paused)


def execution_resumed(event_id: int, op: Operation, at: datetime, reason: str | None) -> EventRecord:
    return _record(event_id, E.EXECUTION_RESUMED, op, at, at, reason)


def invocation_completed(
    event_id: int, start: datetime, end: datetime, request_id: str, error: ErrorObject | None = None
) -> EventRecord:
    return _record(event_id, E.INVOCATION_COMPLETED, None, end, start, end, request_id, error)


# -- service completions ---------------------------------------------------------------------------


def wait_succeeded(event_id: int, op: Operation, at: datetime, duration: int | None) -> EventRecord:
    return _record(event_id, E.WAIT_SUCCEEDED, op, at, duration)


def ended(event_id: int, op: Operation, at: datetime, event_type: EventType, outcome: Any) -> EventRecord:
    """An operation or execution ending: ``outcome`` is the result of a *Succeeded event, else the error of
    a *Failed/TimedOut/Stopped one (ExecutionSucceeded{Result}, CallbackFailed{Error}, ...)."""
    return _record(event_id, event_type, op, at, outcome)


# -- updates ---------------------------------------------------------------------------------------


def for_update(
    event_id: int,
    update: AnyUpdate,
    op: Operation,
    at: datetime,
    attempt: int,
    *,
    resolved: bool = True,
    child_arn: str | None = None,
) -> EventRecord | None:
    """The event an applied update appends to the history, or None (EXECUTION completions are
    recorded when the execution closes, after the invocation's InvocationCompleted)."""
    kind, action = update.type, update.action
    if kind == OperationType.EXECUTION:
        return None
    if action == OperationAction.RETRY:
        # wait_for_condition's "not yet" (a state, no error) succeeded and runs again later; else a failure.
        not_yet = update.error is None and update.payload is not None
        event_type = E.STEP_SUCCEEDED if not_yet else E.STEP_FAILED
    else:
        event_type = UPDATE_EVENTS[OperationType(kind), OperationAction(action)]  # the machines' mapping
    details = _details(event_type, update, op, attempt, resolved, child_arn)
    return _record(event_id, event_type, op, at, *details)


def _details(
    event_type: EventType,
    update: AnyUpdate,
    op: Operation,
    attempt: int,
    resolved: bool,
    child_arn: str | None,
) -> tuple[Any, ...]:
    """The arguments of `event_type`'s details shape for an applied update."""
    if event_type in (E.STEP_STARTED, E.CONTEXT_STARTED):
        return ()
    if event_type in (E.STEP_SUCCEEDED, E.STEP_FAILED):
        delay = update.step_options.next_attempt_delay_seconds if update.step_options else None
        if event_type == E.STEP_FAILED:
            return (update.error, attempt, delay if update.action == OperationAction.RETRY else None)
        if update.action == OperationAction.RETRY:
            return (update.payload, attempt, delay)
        return (update.payload, attempt)
    if event_type == E.CONTEXT_SUCCEEDED:
        return (update.payload,)
    if event_type in (E.CONTEXT_FAILED, E.WAIT_CANCELLED):
        return (update.error,)
    if event_type == E.WAIT_STARTED:
        seconds = update.wait_options.wait_seconds if update.wait_options else None
        end = op.wait_details.scheduled_end_timestamp if op.wait_details else None
        return (seconds, end)
    if event_type == E.CALLBACK_STARTED:
        options = update.callback_options
        callback_id = op.callback_details.callback_id if op.callback_details else None
        timeout = (options.timeout_seconds or None) if options else None
        heartbeat = (options.heartbeat_timeout_seconds or None) if options else None
        return (callback_id, timeout, heartbeat)
    if event_type == E.CHAINED_INVOKE_STARTED:
        invoke = update.chained_invoke_options
        function_name = invoke.function_name if invoke else None
        tenant_id = invoke.tenant_id if invoke else None
        # A target that could not be resolved starts nothing: no input, version or execution is recorded.
        payload = update.payload if resolved else None
        version = EXECUTED_VERSION if resolved else None
        return (function_name, tenant_id, payload, version, child_arn, resolved)
    raise AssertionError(f"no details for {event_type}")  # UPDATE_EVENTS maps to the events above only


# -- building wire events --------------------------------------------------------------------------


# The service marks every payload wrapper with Truncated (false: the local service never truncates).
def _error(error: ErrorObject | None) -> EventError:
    return EventError(payload=error, truncated=False)


def _result(payload: str | None) -> EventResult:
    return EventResult(payload=payload, truncated=False)


_DETAILS: dict[str, Callable[..., EventDetails]] = {
    E.EXECUTION_STARTED: lambda payload, timeout: ExecutionStartedDetails(
        input=EventInput(payload=payload, truncated=False), execution_timeout=timeout
    ),
    E.EXECUTION_SUCCEEDED: lambda result: ExecutionSucceededDetails(result=_result(result)),
    E.EXECUTION_FAILED: lambda error: ExecutionFailedDetails(error=_error(error)),
    E.EXECUTION_TIMED_OUT: lambda error: ExecutionTimedOutDetails(error=_error(error)),
    E.EXECUTION_STOPPED: lambda error: ExecutionStoppedDetails(error=_error(error)),
    E.EXECUTION_PAUSED: lambda at, reason, timeout_paused: ExecutionPausedDetails(
        pause_request_timestamp=at,
        reason=None if reason is None else EventPauseReason(payload=reason, truncated=False),
        execution_timeout_paused=timeout_paused,
    ),
    E.EXECUTION_RESUMED: lambda at, reason: ExecutionResumedDetails(
        resume_request_timestamp=at,
        reason=None if reason is None else EventResumeReason(payload=reason, truncated=False),
    ),
    E.INVOCATION_COMPLETED: lambda start, end, request_id, error: InvocationCompletedDetails(
        start_timestamp=start,
        end_timestamp=end,
        request_id=request_id,
        error=_error(error) if error else None,
    ),
    E.STEP_STARTED: StepStartedDetails,
    E.STEP_SUCCEEDED: lambda payload, attempt, delay=None: StepSucceededDetails(
        result=_result(payload),
        retry_details=RetryDetails(current_attempt=attempt, next_attempt_delay_seconds=delay),
    ),
    E.STEP_FAILED: lambda error, attempt, delay: StepFailedDetails(
        error=_error(error),
        retry_details=RetryDetails(current_attempt=attempt, next_attempt_delay_seconds=delay),
    ),
    E.CONTEXT_STARTED: ContextStartedDetails,
    E.CONTEXT_SUCCEEDED: lambda payload: ContextSucceededDetails(result=_result(payload)),
    E.CONTEXT_FAILED: lambda error: ContextFailedDetails(error=_error(error)),
    E.WAIT_STARTED: lambda duration, end: WaitStartedDetails(duration=duration, scheduled_end_timestamp=end),
    E.WAIT_SUCCEEDED: lambda duration: WaitSucceededDetails(duration=duration),
    E.WAIT_CANCELLED: lambda error: WaitCancelledDetails(error=_error(error)),
    E.CALLBACK_STARTED: lambda callback_id, timeout, heartbeat: CallbackStartedDetails(
        callback_id=callback_id, timeout=timeout, heartbeat_timeout=heartbeat
    ),
    E.CALLBACK_SUCCEEDED: lambda result: CallbackSucceededDetails(result=_result(result)),
    E.CALLBACK_FAILED: lambda error: CallbackFailedDetails(error=_error(error)),
    E.CALLBACK_TIMED_OUT: lambda error: CallbackTimedOutDetails(error=_error(error)),
    E.CHAINED_INVOKE_STARTED: lambda function_name, tenant_id, payload, version, arn, resolved: (
        ChainedInvokeStartedDetails(
            function_name=function_name,
            tenant_id=tenant_id,
            input=EventInput(payload=payload, truncated=False) if resolved else None,
            executed_version=version,
            durable_execution_arn=arn,
        )
    ),
    E.CHAINED_INVOKE_SUCCEEDED: lambda result: ChainedInvokeSucceededDetails(result=_result(result)),
    E.CHAINED_INVOKE_FAILED: lambda error: ChainedInvokeFailedDetails(error=_error(error)),
    E.CHAINED_INVOKE_TIMED_OUT: lambda error: ChainedInvokeTimedOutDetails(error=_error(error)),
    E.CHAINED_INVOKE_STOPPED: lambda error: ChainedInvokeStoppedDetails(error=_error(error)),
}


def to_event(item: HistoryItem) -> Event:
    """The wire `Event` of a history item."""
    if isinstance(item, Event):
        return item
    event_type = EventType(item.event_type)
    details = _DETAILS[event_type](*item.details)
    return Event(
        event_type=event_type,
        event_id=item.event_id,
        sub_type=item.sub_type,
        id=item.op_id,
        name=item.name,
        parent_id=item.parent_id,
        event_timestamp=item.at,
        **{DETAILS_FIELD_BY_EVENT_TYPE[event_type]: details},
    )


def timestamp(item: HistoryItem) -> datetime:
    """When a history item happened."""
    if isinstance(item, Event):
        assert item.event_timestamp is not None
        return item.event_timestamp
    return item.at
