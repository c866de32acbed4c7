"""What Lambda passes to a durable handler, and what the handler returns.

These are *not* botocore shapes: they are the event and response of the durable function's own Lambda
invocation, documented only through the official SDK (`aws_durable_execution_sdk_python.execution` and
`lambda_service.DurableExecutionInvocationOutput`). The members below are the ones that SDK reads and writes.

Timestamps inside `InitialExecutionState.Operations` arrive as integer epoch milliseconds; `Timestamp` parses
them (and `to_wire` renders them the same way), see `eventflow.events._base`.
"""

from __future__ import annotations

from pydantic import Field

from eventflow.events._base import WireModel
from eventflow.events.enums import InvocationStatus
from eventflow.events.wire import ErrorObject, Operation

__all__ = [
    "DurableExecutionInvocationInput",
    "DurableExecutionInvocationOutput",
    "InitialExecutionState",
]


class InitialExecutionState(WireModel):
    """The first page of the execution's operations; if `NextMarker` is non-empty, page on with
    GetDurableExecutionState. The service may send an empty string for "no more pages"."""

    operations: list[Operation] = Field(default_factory=list)
    next_marker: str | None = None

    @property
    def has_more(self) -> bool:
        """True when further operations must be fetched (an empty `NextMarker` means none)."""
        return bool(self.next_marker)


class DurableExecutionInvocationInput(WireModel):
    """The event of a durable handler's invocation.

    `InitialExecutionState` defaults to empty and `UpdatedOperationIds` (ids whose state changed since the
    previous invocation) to an empty list, as the official SDK reads them with defaults.
    """

    durable_execution_arn: str
    checkpoint_token: str
    initial_execution_state: InitialExecutionState = Field(default_factory=InitialExecutionState)
    updated_operation_ids: list[str] = Field(default_factory=list)


class DurableExecutionInvocationOutput(WireModel):
    """The handler's response: SUCCEEDED with `Result`, FAILED with `Error`, or PENDING with neither.

    `Result` is an empty string when the result was too large for the response and was checkpointed instead.
    """

    status: InvocationStatus
    result: str | None = None
    error: ErrorObject | None = None
