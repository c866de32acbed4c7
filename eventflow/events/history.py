"""Models of an execution's history, as GetDurableExecutionHistory returns it (botocore `lambda`, 2025-12-01).

Each class mirrors the botocore shape of the same name. Unlike `wire.py`, every member of the event shapes is
optional, even those botocore marks required (e.g. `StepSucceededDetails.RetryDetails`,
`ExecutionStartedDetails.Input`): history is read-only audit data, the official testing library's emulator
omits some of those members, and a history reader should show a partial event rather than reject the whole
page. (botocore itself marks no member of `Event` required.) The drift test records this relaxation.
"""

from __future__ import annotations

from pydantic import Field
from pydantic.alias_generators import to_snake

from eventflow.events._base import Timestamp, WireModel
from eventflow.events.enums import EventType
from eventflow.events.wire import ErrorObject

__all__ = [
    "CallbackFailedDetails",
    "CallbackStartedDetails",
    "CallbackSucceededDetails",
    "CallbackTimedOutDetails",
    "ChainedInvokeFailedDetails",
    "ChainedInvokeStartedDetails",
    "ChainedInvokeStoppedDetails",
    "ChainedInvokeSucceededDetails",
    "ChainedInvokeTimedOutDetails",
    "ContextFailedDetails",
    "ContextStartedDetails",
    "ContextSucceededDetails",
    "Event",
    "EventDetails",
    "EventError",
    "EventInput",
    "EventPauseReason",
    "EventResult",
    "EventResumeReason",
    "ExecutionFailedDetails",
    "ExecutionPausedDetails",
    "ExecutionResumedDetails",
    "ExecutionStartedDetails",
    "ExecutionStoppedDetails",
    "ExecutionSucceededDetails",
    "ExecutionTimedOutDetails",
    "GetDurableExecutionHistoryRequest",
    "GetDurableExecutionHistoryResponse",
    "InvocationCompletedDetails",
    "RetryDetails",
    "StepFailedDetails",
    "StepStartedDetails",
    "StepSucceededDetails",
    "WaitCancelledDetails",
    "WaitStartedDetails",
    "WaitSucceededDetails",
]


# --- Payload wrappers: the service may truncate large data unless IncludeExecutionData is set ---------------


class EventInput(WireModel):
    """An input payload in history; `Truncated` means the payload was left out."""

    payload: str | None = None
    truncated: bool | None = None


class EventResult(WireModel):
    """A result payload in history; `Truncated` means the payload was left out."""

    payload: str | None = None
    truncated: bool | None = None


class EventError(WireModel):
    """An error in history; `Truncated` means the error was left out."""

    payload: ErrorObject | None = None
    truncated: bool | None = None


class EventPauseReason(WireModel):
    """Why an execution was paused, possibly truncated."""

    payload: str | None = None
    truncated: bool | None = None


class EventResumeReason(WireModel):
    """Why an execution was resumed, possibly truncated."""

    payload: str | None = None
    truncated: bool | None = None


class RetryDetails(WireModel):
    """Which attempt a step event belongs to and, on failure, the delay before the next one."""

    current_attempt: int | None = None
    next_attempt_delay_seconds: int | None = None


# --- Execution ----------------------------------------------------------------------------------------------


class ExecutionStartedDetails(WireModel):
    """The execution started with this input and timeout (seconds)."""

    input: EventInput | None = None
    execution_timeout: int | None = None


class ExecutionSucceededDetails(WireModel):
    """The execution ended with this result."""

    result: EventResult | None = None


class ExecutionFailedDetails(WireModel):
    """The execution ended with this error."""

    error: EventError | None = None


class ExecutionTimedOutDetails(WireModel):
    """The execution ran out of time."""

    error: EventError | None = None


class ExecutionStoppedDetails(WireModel):
    """The execution was stopped through StopDurableExecution."""

    error: EventError | None = None


class ExecutionPausedDetails(WireModel):
    """The execution was paused (PauseDurableExecution)."""

    pause_request_timestamp: Timestamp | None = None
    reason: EventPauseReason | None = None
    execution_timeout_paused: bool | None = None


class ExecutionResumedDetails(WireModel):
    """The execution was resumed (ResumeDurableExecution)."""

    resume_request_timestamp: Timestamp | None = None
    reason: EventResumeReason | None = None


# --- Context ------------------------------------------------------------------------------------------------


class ContextStartedDetails(WireModel):
    """A child context started; the shape has no members."""


class ContextSucceededDetails(WireModel):
    """A child context ended with this result."""

    result: EventResult | None = None


class ContextFailedDetails(WireModel):
    """A child context ended with this error."""

    error: EventError | None = None


# --- Wait ---------------------------------------------------------------------------------------------------


class WaitStartedDetails(WireModel):
    """A wait of `Duration` seconds started; the service completes it at `ScheduledEndTimestamp`."""

    duration: int | None = None
    scheduled_end_timestamp: Timestamp | None = None


class WaitSucceededDetails(WireModel):
    """A wait elapsed."""

    duration: int | None = None


class WaitCancelledDetails(WireModel):
    """A wait was cancelled."""

    error: EventError | None = None


# --- Step ---------------------------------------------------------------------------------------------------


class StepStartedDetails(WireModel):
    """A step attempt started; the shape has no members."""


class StepSucceededDetails(WireModel):
    """A step attempt succeeded."""

    result: EventResult | None = None
    retry_details: RetryDetails | None = None


class StepFailedDetails(WireModel):
    """A step attempt failed; `RetryDetails.NextAttemptDelaySeconds` is set when it will be retried."""

    error: EventError | None = None
    retry_details: RetryDetails | None = None


# --- Chained invoke -----------------------------------------------------------------------------------------


class ChainedInvokeStartedDetails(WireModel):
    """A chained invoke started another durable execution."""

    function_name: str | None = None
    tenant_id: str | None = None
    input: EventInput | None = None
    executed_version: str | None = None
    durable_execution_arn: str | None = None


class ChainedInvokeSucceededDetails(WireModel):
    """The invoked execution succeeded."""

    result: EventResult | None = None


class ChainedInvokeFailedDetails(WireModel):
    """The invoked execution failed."""

    error: EventError | None = None


class ChainedInvokeTimedOutDetails(WireModel):
    """The invoked execution timed out."""

    error: EventError | None = None


class ChainedInvokeStoppedDetails(WireModel):
    """The invoked execution was stopped."""

    error: EventError | None = None


# --- Callback -----------------------------------------------------------------------------------------------


class CallbackStartedDetails(WireModel):
    """A callback started; `Timeout` and `HeartbeatTimeout` are in seconds."""

    callback_id: str | None = None
    heartbeat_timeout: int | None = None
    timeout: int | None = None


class CallbackSucceededDetails(WireModel):
    """A callback was completed with this result (the raw string the sender sent)."""

    result: EventResult | None = None


class CallbackFailedDetails(WireModel):
    """A callback was failed by the sender."""

    error: EventError | None = None


class CallbackTimedOutDetails(WireModel):
    """A callback (or its heartbeat) timed out."""

    error: EventError | None = None


# --- Invocation ---------------------------------------------------------------------------------------------


class InvocationCompletedDetails(WireModel):
    """One Lambda invocation of the handler ended; `Error` is set when it was killed (`Runtime.ExitError`)."""

    start_timestamp: Timestamp | None = None
    end_timestamp: Timestamp | None = None
    request_id: str | None = None
    error: EventError | None = None


EventDetails = (
    ExecutionStartedDetails
    | ExecutionSucceededDetails
    | ExecutionFailedDetails
    | ExecutionTimedOutDetails
    | ExecutionStoppedDetails
    | ContextStartedDetails
    | ContextSucceededDetails
    | ContextFailedDetails
    | WaitStartedDetails
    | WaitSucceededDetails
    | WaitCancelledDetails
    | StepStartedDetails
    | StepSucceededDetails
    | StepFailedDetails
    | ChainedInvokeStartedDetails
    | ChainedInvokeSucceededDetails
    | ChainedInvokeFailedDetails
    | ChainedInvokeTimedOutDetails
    | ChainedInvokeStoppedDetails
    | CallbackStartedDetails
    | CallbackSucceededDetails
    | CallbackFailedDetails
    | CallbackTimedOutDetails
    | InvocationCompletedDetails
    | ExecutionPausedDetails
    | ExecutionResumedDetails
)
"""Any of the 26 `<EventType>Details` shapes."""


class Event(WireModel):
    """One history event: common members plus exactly one `<EventType>Details` member (see `details`)."""

    event_type: EventType | None = None
    sub_type: str | None = None
    event_id: int | None = None
    id: str | None = None
    name: str | None = None
    event_timestamp: Timestamp | None = None
    parent_id: str | None = None
    execution_started_details: ExecutionStartedDetails | None = None
    execution_succeeded_details: ExecutionSucceededDetails | None = None
    execution_failed_details: ExecutionFailedDetails | None = None
    execution_timed_out_details: ExecutionTimedOutDetails | None = None
    execution_stopped_details: ExecutionStoppedDetails | None = None
    context_started_details: ContextStartedDetails | None = None
    context_succeeded_details: ContextSucceededDetails | None = None
    context_failed_details: ContextFailedDetails | None = None
    wait_started_details: WaitStartedDetails | None = None
    wait_succeeded_details: WaitSucceededDetails | None = None
    wait_cancelled_details: WaitCancelledDetails | None = None
    step_started_details: StepStartedDetails | None = None
    step_succeeded_details: StepSucceededDetails | None = None
    step_failed_details: StepFailedDetails | None = None
    chained_invoke_started_details: ChainedInvokeStartedDetails | None = None
    chained_invoke_succeeded_details: ChainedInvokeSucceededDetails | None = None
    chained_invoke_failed_details: ChainedInvokeFailedDetails | None = None
    chained_invoke_timed_out_details: ChainedInvokeTimedOutDetails | None = None
    chained_invoke_stopped_details: ChainedInvokeStoppedDetails | None = None
    callback_started_details: CallbackStartedDetails | None = None
    callback_succeeded_details: CallbackSucceededDetails | None = None
    callback_failed_details: CallbackFailedDetails | None = None
    callback_timed_out_details: CallbackTimedOutDetails | None = None
    invocation_completed_details: InvocationCompletedDetails | None = None
    execution_paused_details: ExecutionPausedDetails | None = None
    execution_resumed_details: ExecutionResumedDetails | None = None

    @property
    def details(self) -> EventDetails | None:
        """The details member that is set: the one named after `EventType` first, else the first one present.

        None when the event carries no details member at all.
        """
        if self.event_type is not None:
            named: EventDetails | None = getattr(self, DETAILS_FIELD_BY_EVENT_TYPE[self.event_type])
            if named is not None:
                return named
        for field_name in DETAILS_FIELD_BY_EVENT_TYPE.values():
            value: EventDetails | None = getattr(self, field_name)
            if value is not None:
                return value
        return None


DETAILS_FIELD_BY_EVENT_TYPE: dict[EventType, str] = {
    event_type: f"{to_snake(event_type.value)}_details" for event_type in EventType
}
"""`Event` attribute holding the details of each event type, e.g. StepFailed -> `step_failed_details`."""


class GetDurableExecutionHistoryRequest(WireModel):
    """Input of GetDurableExecutionHistory (ARN in the URI, the rest in the query string)."""

    durable_execution_arn: str
    include_execution_data: bool | None = None
    max_items: int | None = None
    marker: str | None = None
    reverse_order: bool | None = None


class GetDurableExecutionHistoryResponse(WireModel):
    """A page of history events, oldest first unless `ReverseOrder` was asked for."""

    events: list[Event] = Field(default_factory=list)
    next_marker: str | None = None
