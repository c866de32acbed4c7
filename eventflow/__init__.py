"""eventflow: AWS Lambda durable functions as event-sourced state machines.

    from eventflow import durable_execution, DurableContext

    @durable_execution
    def handler(event, ctx: DurableContext):
        order = ctx.step(lambda _: reserve(event["id"]), name="reserve")
        ctx.wait(minutes=5)
        return ctx.step(lambda _: charge(order), name="charge")

`import eventflow` does not import boto3; the AWS backend loads it on first use.
"""

from typing import TYPE_CHECKING

from eventflow import retry, waits
from eventflow.batch import (
    BatchItem,
    BatchItemStatus,
    BatchResult,
    CompletionConfig,
    CompletionReason,
    MapConfig,
    NestingType,
    ParallelBranch,
    ParallelConfig,
)
from eventflow.config import ChildConfig, StepConfig, StepSemantics
from eventflow.context import DurableContext
from eventflow.core.error_names import ErrorTypes
from eventflow.core.names import durable_step, durable_wait_for_callback, durable_with_child_context
from eventflow.core.operations.callback import AsyncCallback, Callback
from eventflow.core.operations.compensation import CompensationSummary
from eventflow.core.operations.step import StepContext
from eventflow.envelope import EnvelopeSerDes
from eventflow.errors import (
    BatchCompletionError,
    CallbackError,
    CallbackSubmitterError,
    CallbackTimeoutError,
    CheckpointError,
    ChildContextError,
    CompensationError,
    DurableCallInStepError,
    DurableError,
    InvalidInputError,
    InvokeError,
    InvokeStoppedError,
    InvokeTimeoutError,
    NonDeterministicExecutionError,
    OperationError,
    SerDesError,
    StepError,
    StepInterruptedError,
    TerminalError,
    WaitAttemptsExhaustedError,
    WaitForConditionError,
)
from eventflow.handler import DurableHandler, durable_execution
from eventflow.log import DurableLogger, JsonFormatter, configure_json_logging
from eventflow.plugins import BasePlugin, Plugin
from eventflow.retry import Jitter, RetryDecision, RetryPresets
from eventflow.serdes import JsonSerDes, PydanticSerDes, SerDes, SerDesContext
from eventflow.waits import WaitDecision

if TYPE_CHECKING:
    from eventflow.aio import AsyncDurableContext

__all__ = [
    "AsyncCallback",
    "AsyncDurableContext",
    "BasePlugin",
    "BatchCompletionError",
    "BatchItem",
    "BatchItemStatus",
    "BatchResult",
    "Callback",
    "CallbackError",
    "CallbackSubmitterError",
    "CallbackTimeoutError",
    "CheckpointError",
    "ChildConfig",
    "ChildContextError",
    "CompensationError",
    "CompensationSummary",
    "CompletionConfig",
    "CompletionReason",
    "DurableCallInStepError",
    "DurableContext",
    "DurableError",
    "DurableHandler",
    "DurableLogger",
    "EnvelopeSerDes",
    "ErrorTypes",
    "InvalidInputError",
    "InvokeError",
    "InvokeStoppedError",
    "InvokeTimeoutError",
    "Jitter",
    "JsonFormatter",
    "JsonSerDes",
    "MapConfig",
    "NestingType",
    "NonDeterministicExecutionError",
    "OperationError",
    "ParallelBranch",
    "ParallelConfig",
    "Plugin",
    "PydanticSerDes",
    "RetryDecision",
    "RetryPresets",
    "SerDes",
    "SerDesContext",
    "SerDesError",
    "StepConfig",
    "StepContext",
    "StepError",
    "StepInterruptedError",
    "StepSemantics",
    "TerminalError",
    "WaitAttemptsExhaustedError",
    "WaitDecision",
    "WaitForConditionError",
    "configure_json_logging",
    "durable_execution",
    "durable_step",
    "durable_wait_for_callback",
    "durable_with_child_context",
    "retry",
    "waits",
]


def __getattr__(name: str) -> object:
    # The asyncio front-end loads on first use, so sync handlers do not import asyncio at cold start.
    if name == "AsyncDurableContext":
        from eventflow.aio import AsyncDurableContext

        return AsyncDurableContext
    raise AttributeError(f"module 'eventflow' has no attribute {name!r}")
