"""eventflow: AWS Lambda durable functions as event-sourced state machines.

    from eventflow import durable_execution, DurableContext

    @durable_execution
    def handler(event, ctx: DurableContext):
        order = ctx.step(lambda _: reserve(event["id"]), name="reserve")
        ctx.wait(minutes=5)
        return ctx.step(lambda _: charge(order), name="charge")

`import eventflow` does not import boto3; the AWS backend loads it on first use.
"""

from eventflow.aio import AsyncDurableContext
from eventflow.config import ChildConfig, StepConfig, StepSemantics
from eventflow.context import DurableContext
from eventflow.core.operations.step import StepContext
from eventflow.errors import (
    CheckpointError,
    ChildContextError,
    DurableError,
    InvalidInputError,
    NonDeterministicExecutionError,
    OperationError,
    SerDesError,
    StepError,
    StepInterruptedError,
    TerminalError,
)
from eventflow.handler import DurableHandler, durable_execution
from eventflow import retry
from eventflow.retry import Jitter, RetryDecision, RetryPresets
from eventflow.serdes import JsonSerDes, SerDes, SerDesContext

__all__ = [
    "AsyncDurableContext",
    "CheckpointError",
    "ChildConfig",
    "ChildContextError",
    "DurableContext",
    "DurableError",
    "DurableHandler",
    "InvalidInputError",
    "Jitter",
    "JsonSerDes",
    "NonDeterministicExecutionError",
    "OperationError",
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
    "durable_execution",
]
