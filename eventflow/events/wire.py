"""Models of the durable-execution shapes of botocore's `lambda` service model (API 2025-12-01).

Each class is named after, and mirrors member for member, the botocore shape of the same name;
`tests/test_wire_models.py` fails if they drift apart. They are deliberately plain (no validators beyond
types) because operations and updates are built and parsed on every checkpoint.

Where botocore marks a member required but the model leaves it optional, the reason is noted on the field and
recorded in the drift test's allow-list. The model never requires a member botocore leaves optional.
"""

from __future__ import annotations

from pydantic import Field

from eventflow.events._base import Timestamp, WireModel
from eventflow.events.enums import ExecutionStatus, OperationAction, OperationStatus, OperationType

__all__ = [
    "CallbackDetails",
    "CallbackOptions",
    "ChainedInvokeDetails",
    "ChainedInvokeOptions",
    "CheckpointDurableExecutionRequest",
    "CheckpointDurableExecutionResponse",
    "CheckpointUpdatedExecutionState",
    "ContextDetails",
    "ContextOptions",
    "DeleteDurableExecutionRequest",
    "DeleteDurableExecutionResponse",
    "DurableConfig",
    "ErrorObject",
    "Execution",
    "ExecutionDetails",
    "GetDurableExecutionRequest",
    "GetDurableExecutionResponse",
    "GetDurableExecutionStateRequest",
    "GetDurableExecutionStateResponse",
    "ListDurableExecutionsByFunctionRequest",
    "ListDurableExecutionsByFunctionResponse",
    "Operation",
    "OperationUpdate",
    "PauseDetails",
    "PauseDurableExecutionRequest",
    "PauseDurableExecutionResponse",
    "ResumeDurableExecutionRequest",
    "ResumeDurableExecutionResponse",
    "SendDurableExecutionCallbackFailureRequest",
    "SendDurableExecutionCallbackHeartbeatRequest",
    "SendDurableExecutionCallbackSuccessRequest",
    "StepDetails",
    "StepOptions",
    "StopDurableExecutionRequest",
    "StopDurableExecutionResponse",
    "TraceHeader",
    "WaitDetails",
    "WaitOptions",
]


class ErrorObject(WireModel):
    """An error as the service stores it: every member is optional on the wire."""

    error_message: str | None = None
    error_type: str | None = None
    error_data: str | None = None
    stack_trace: list[str] | None = None


# --- Operation and its details ------------------------------------------------------------------------------


class ExecutionDetails(WireModel):
    """Details of the EXECUTION operation; `InputPayload` is the user's event as a JSON string."""

    input_payload: str | None = None


class ContextDetails(WireModel):
    """Details of a CONTEXT operation; `ReplayChildren`: rebuild the result by replaying the children."""

    replay_children: bool | None = None
    result: str | None = None
    error: ErrorObject | None = None


class StepDetails(WireModel):
    """Details of a STEP operation: attempt count, the time of the next retry, and outcome."""

    attempt: int | None = None
    next_attempt_timestamp: Timestamp | None = None
    result: str | None = None
    error: ErrorObject | None = None


class WaitDetails(WireModel):
    """Details of a WAIT operation: when the service will complete it."""

    scheduled_end_timestamp: Timestamp | None = None


class CallbackDetails(WireModel):
    """Details of a CALLBACK operation; the service assigns `CallbackId` when the callback starts."""

    callback_id: str | None = None
    result: str | None = None
    error: ErrorObject | None = None


class ChainedInvokeDetails(WireModel):
    """Details of a CHAINED_INVOKE operation: the invoked execution's outcome."""

    result: str | None = None
    error: ErrorObject | None = None


class Operation(WireModel):
    """One operation of an execution, as checkpointed state returns it.

    `StartTimestamp` is required by botocore but optional here: the official SDK treats it as optional and
    eventflow never needs it to replay, so hand-built or emulator state without it still parses.
    """

    id: str
    parent_id: str | None = None
    name: str | None = None
    type: OperationType
    sub_type: str | None = None
    start_timestamp: Timestamp | None = None
    end_timestamp: Timestamp | None = None
    status: OperationStatus
    execution_details: ExecutionDetails | None = None
    context_details: ContextDetails | None = None
    step_details: StepDetails | None = None
    wait_details: WaitDetails | None = None
    callback_details: CallbackDetails | None = None
    chained_invoke_details: ChainedInvokeDetails | None = None


# --- OperationUpdate and its options ------------------------------------------------------------------------


class ContextOptions(WireModel):
    """Options of a CONTEXT update; `ReplayChildren` marks a result too large to checkpoint whole."""

    replay_children: bool | None = None


class StepOptions(WireModel):
    """Options of a STEP RETRY update: how long the service waits before re-invoking (1..31622400 s)."""

    next_attempt_delay_seconds: int | None = None


class WaitOptions(WireModel):
    """Options of a WAIT START update (1..31622400 s)."""

    wait_seconds: int | None = None


class CallbackOptions(WireModel):
    """Options of a CALLBACK START update; 0 means no timeout."""

    timeout_seconds: int | None = None
    heartbeat_timeout_seconds: int | None = None


class ChainedInvokeOptions(WireModel):
    """Options of a CHAINED_INVOKE START update: the function to invoke, and optionally tenant and trace."""

    function_name: str
    tenant_id: str | None = None
    x_amzn_trace_id: str | None = None


class OperationUpdate(WireModel):
    """One change to one operation, sent in a CheckpointDurableExecution batch.

    Hot path: eventflow builds these with `model_construct` and renders them with `to_wire`.
    """

    id: str
    parent_id: str | None = None
    name: str | None = None
    type: OperationType
    sub_type: str | None = None
    action: OperationAction
    payload: str | None = None
    error: ErrorObject | None = None
    context_options: ContextOptions | None = None
    step_options: StepOptions | None = None
    wait_options: WaitOptions | None = None
    callback_options: CallbackOptions | None = None
    chained_invoke_options: ChainedInvokeOptions | None = None


# --- CheckpointDurableExecution / GetDurableExecutionState --------------------------------------------------


class CheckpointUpdatedExecutionState(WireModel):
    """Operations changed since the last checkpoint (`NewExecutionState`); page on with `NextMarker`."""

    operations: list[Operation] = Field(default_factory=list)
    next_marker: str | None = None


class CheckpointDurableExecutionRequest(WireModel):
    """Input of CheckpointDurableExecution. `DurableExecutionArn` travels in the URI."""

    durable_execution_arn: str
    checkpoint_token: str
    updates: list[OperationUpdate] | None = None
    client_token: str | None = None


class CheckpointDurableExecutionResponse(WireModel):
    """Output of CheckpointDurableExecution.

    `CheckpointToken` is absent on the checkpoint that ends the execution. `NewExecutionState` is required by
    botocore but defaults to empty here, as the official SDK does.
    """

    checkpoint_token: str | None = None
    new_execution_state: CheckpointUpdatedExecutionState = Field(
        default_factory=CheckpointUpdatedExecutionState
    )


class GetDurableExecutionStateRequest(WireModel):
    """Input of GetDurableExecutionState (ARN in the URI, the rest in the query string)."""

    durable_execution_arn: str
    checkpoint_token: str
    marker: str | None = None
    max_items: int | None = None


class GetDurableExecutionStateResponse(WireModel):
    """A page of operations. `Operations` is required by botocore but defaults to empty, as in the SDK."""

    operations: list[Operation] = Field(default_factory=list)
    next_marker: str | None = None


# --- GetDurableExecution / ListDurableExecutionsByFunction / StopDurableExecution ---------------------------


class TraceHeader(WireModel):
    """X-Ray trace header of an execution."""

    x_amzn_trace_id: str | None = None


class DurableConfig(WireModel):
    """A function's durable configuration. The service spells the key id `KMSKeyArn`, not PascalCase."""

    kms_key_arn: str | None = Field(default=None, alias="KMSKeyArn")
    retention_period_in_days: int | None = None
    execution_timeout: int | None = None


class PauseDetails(WireModel):
    """Why and since when an execution is paused."""

    pause_request_timestamp: Timestamp
    reason: str | None = None
    execution_timeout_paused: bool


class GetDurableExecutionRequest(WireModel):
    """Input of GetDurableExecution."""

    durable_execution_arn: str
    include_execution_data: bool | None = None


class GetDurableExecutionResponse(WireModel):
    """Output of GetDurableExecution: one execution's status, input and outcome."""

    durable_execution_arn: str
    durable_execution_name: str
    function_arn: str
    input_payload: str | None = None
    result: str | None = None
    error: ErrorObject | None = None
    start_timestamp: Timestamp
    status: ExecutionStatus
    end_timestamp: Timestamp | None = None
    version: str | None = None
    trace_header: TraceHeader | None = None
    execution_data_included: bool | None = None
    durable_config: DurableConfig | None = None
    pause_details: PauseDetails | None = None
    expected_execution_timeout_timestamp: Timestamp | None = None


class Execution(WireModel):
    """One item of ListDurableExecutionsByFunction: an execution summary."""

    durable_execution_arn: str
    durable_execution_name: str
    function_arn: str
    status: ExecutionStatus
    start_timestamp: Timestamp
    end_timestamp: Timestamp | None = None
    kms_key_arn: str | None = Field(default=None, alias="KMSKeyArn")


class ListDurableExecutionsByFunctionRequest(WireModel):
    """Input of ListDurableExecutionsByFunction (function in the URI, filters in the query string)."""

    function_name: str
    qualifier: str | None = None
    durable_execution_name: str | None = None
    statuses: list[ExecutionStatus] | None = None
    started_after: Timestamp | None = None
    started_before: Timestamp | None = None
    reverse_order: bool | None = None
    marker: str | None = None
    max_items: int | None = None


class ListDurableExecutionsByFunctionResponse(WireModel):
    """A page of execution summaries."""

    durable_executions: list[Execution] | None = None
    next_marker: str | None = None


class StopDurableExecutionRequest(WireModel):
    """Input of StopDurableExecution; `Error` is recorded as the reason."""

    durable_execution_arn: str
    error: ErrorObject | None = None


class StopDurableExecutionResponse(WireModel):
    """Output of StopDurableExecution."""

    stop_timestamp: Timestamp


# --- PauseDurableExecution / ResumeDurableExecution / DeleteDurableExecution --------------------------------


class PauseDurableExecutionRequest(WireModel):
    """Input of PauseDurableExecution: the execution runs no code until resumed. `ExecutionTimeoutPaused`
    (default true) stops its execution timeout meanwhile; `ClientToken` makes the call idempotent."""

    durable_execution_arn: str
    client_token: str | None = None
    reason: str | None = None
    execution_timeout_paused: bool | None = None


class PauseDurableExecutionResponse(WireModel):
    """Output of PauseDurableExecution (HTTP 202, empty)."""


class ResumeDurableExecutionRequest(WireModel):
    """Input of ResumeDurableExecution: a paused execution continues from its last checkpoint."""

    durable_execution_arn: str
    client_token: str | None = None
    reason: str | None = None


class ResumeDurableExecutionResponse(WireModel):
    """Output of ResumeDurableExecution (HTTP 202, empty)."""


class DeleteDurableExecutionRequest(WireModel):
    """Input of DeleteDurableExecution: only an ended execution can be deleted."""

    durable_execution_arn: str


class DeleteDurableExecutionResponse(WireModel):
    """Output of DeleteDurableExecution (HTTP 202)."""

    deletion_request_timestamp: Timestamp


# --- SendDurableExecutionCallback* --------------------------------------------------------------------------


class SendDurableExecutionCallbackSuccessRequest(WireModel):
    """Completes a callback. `Result` is a blob sent as the raw HTTP body, so it is `bytes` here.

    `to_wire` renders it as UTF-8 text; `to_boto_params` keeps the bytes.
    """

    callback_id: str
    result: bytes | None = None


class SendDurableExecutionCallbackFailureRequest(WireModel):
    """Fails a callback with an error."""

    callback_id: str
    error: ErrorObject | None = None


class SendDurableExecutionCallbackHeartbeatRequest(WireModel):
    """Keeps a callback with a heartbeat timeout alive."""

    callback_id: str
