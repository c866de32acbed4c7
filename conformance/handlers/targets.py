"""The functions the invoke requirements call: durable functions deployed next to every handler."""

from __future__ import annotations

from typing import Any

from conformance.aws import Function
from conformance.registry import target
from eventflow import DurableContext, durable_execution

ECHO = Function("echo-target").physical_name
FAILING = Function("failing-target").physical_name
MEASURE = Function("measure-target").physical_name


@target("echo-target")
@durable_execution
def echo_target(event: Any, ctx: DurableContext) -> Any:
    """Returns whatever it receives."""
    return event


class TargetFailure(Exception):
    """What the failing target raises."""


@target("failing-target")
@durable_execution
def failing_target(event: Any, ctx: DurableContext) -> Any:
    """Always fails."""
    raise TargetFailure("the invoked function failed")


@target("measure-target")
@durable_execution
def measure_target(event: Any, ctx: DurableContext) -> Any:
    """Receives a large payload and answers with its size."""
    return {"receivedBytes": len(str(event))}
