"""Wait requirements (2-x)."""

from __future__ import annotations

from typing import Any

from conformance.registry import covers
from eventflow import DurableContext, durable_execution


@covers("2-1")
@durable_execution
def wait_basic(event: Any, ctx: DurableContext) -> Any:
    ctx.wait(seconds=2)


@covers("2-2")
@durable_execution
def wait_named(event: Any, ctx: DurableContext) -> Any:
    ctx.wait(seconds=2, name="custom_wait_name")


@covers("2-3")
@durable_execution
def wait_sequential(event: Any, ctx: DurableContext) -> Any:
    ctx.wait(seconds=2, name="wait-1")
    ctx.wait(seconds=2, name="wait-2")
    return {"completedWaits": 2}


@covers("2-4")
@durable_execution
def wait_minutes(event: Any, ctx: DurableContext) -> Any:
    ctx.wait(minutes=1)


@covers("2-5")
@durable_execution
def wait_hours(event: Any, ctx: DurableContext) -> Any:
    ctx.wait(hours=1)
