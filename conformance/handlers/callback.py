"""Callback requirements (4-x): create_callback, handed to an external system, answered through the API."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from conformance.registry import covers
from eventflow import CallbackError, DurableContext, SerDesContext, StepContext, durable_execution


@covers("4-1")
@durable_execution
def callback_basic(event: Any, ctx: DurableContext) -> Any:
    callback = ctx.create_callback(event)
    return callback.result()


@covers("4-2")
@durable_execution
def callback_named(event: Any, ctx: DurableContext) -> Any:
    callback = ctx.create_callback("approval")
    return callback.result()


@covers("4-3")
@durable_execution
def callback_timeout(event: Any, ctx: DurableContext) -> Any:
    callback = ctx.create_callback(event, timeout=5)
    return callback.result()


@covers("4-4")
@durable_execution
def callback_heartbeat_timeout(event: Any, ctx: DurableContext) -> Any:
    callback = ctx.create_callback(event, heartbeat_timeout=5)
    return callback.result()


@covers("4-5")
@durable_execution
def callback_heartbeat_then_success(event: Any, ctx: DurableContext) -> Any:
    callback = ctx.create_callback(event, heartbeat_timeout=10)
    return callback.result()


@covers("4-6")
@durable_execution
def callback_failure(event: Any, ctx: DurableContext) -> Any:
    callback = ctx.create_callback(event)
    return callback.result()


def _prepare(_: StepContext) -> str:
    return "prepared"


@covers("4-7")
@durable_execution
def callback_step_then_failure(event: Any, ctx: DurableContext) -> Any:
    callback = ctx.create_callback(event)
    ctx.step(_prepare)
    return callback.result()


@covers("4-8")
@durable_execution
def callback_step_then_timeout(event: Any, ctx: DurableContext) -> Any:
    callback = ctx.create_callback(event, timeout=5)
    ctx.step(_prepare)
    return callback.result()


@covers("4-9")
@durable_execution
def callback_wait_then_success(event: Any, ctx: DurableContext) -> Any:
    callback = ctx.create_callback(event)
    ctx.wait(seconds=5)
    return callback.result()


@covers("4-10")
@durable_execution
def callback_wait_then_failure(event: Any, ctx: DurableContext) -> Any:
    callback = ctx.create_callback(event)
    ctx.wait(seconds=5)
    return callback.result()


@covers("4-11")
@durable_execution
def callback_times_out_during_wait(event: Any, ctx: DurableContext) -> Any:
    callback = ctx.create_callback(event, timeout=3)
    ctx.wait(seconds=6)
    return callback.result()


@covers("4-12")
@durable_execution
def callback_success_then_wait(event: Any, ctx: DurableContext) -> Any:
    result = ctx.create_callback(event).result()
    ctx.wait(seconds=2)
    return result


@covers("4-13")
@durable_execution
def callback_failure_caught_then_wait(event: Any, ctx: DurableContext) -> Any:
    try:
        message = ctx.create_callback(event).result()
    except CallbackError as error:
        message = f"callback failed: {error}"
    ctx.wait(seconds=2)
    return message


@covers("4-14")
@durable_execution
def callback_timeout_caught_then_wait(event: Any, ctx: DurableContext) -> Any:
    try:
        message = ctx.create_callback(event, timeout=3).result()
    except CallbackError as error:
        message = f"callback timed out: {error}"
    ctx.wait(seconds=2)
    return message


class _Receipt:
    """Reads the sender's JSON into a receipt whose ISO timestamp becomes epoch seconds."""

    def serialize(self, value: Any, context: SerDesContext) -> str:
        return json.dumps(value)

    def deserialize(self, data: str, context: SerDesContext) -> Any:
        receipt = json.loads(data)
        when = datetime.fromisoformat(receipt["timestamp"].replace("Z", "+00:00"))
        return {"id": receipt["id"], "message": receipt["message"], "timestamp": int(when.timestamp())}


@covers("4-15")
@durable_execution
def callback_custom_serdes(event: Any, ctx: DurableContext) -> Any:
    received = ctx.create_callback(event, serdes=_Receipt()).result()
    return {"received": received}


class _Number:
    """Reads the sender's payload as a number."""

    def serialize(self, value: Any, context: SerDesContext) -> str:
        return json.dumps(value)

    def deserialize(self, data: str, context: SerDesContext) -> Any:
        return float(data) if "." in data else int(data)


@covers("4-16")
@durable_execution
def callback_numeric_serdes(event: Any, ctx: DurableContext) -> Any:
    count = ctx.create_callback(event, serdes=_Number()).result()
    return {"count": count, "doubled": count * 2}


@covers("4-17")
@durable_execution
def callback_two_sequential(event: Any, ctx: DurableContext) -> Any:
    first = ctx.create_callback(event[0]).result()
    second = ctx.create_callback(event[1]).result()
    return [first, second]


@covers("4-18")
@durable_execution
def callback_two_in_order(event: Any, ctx: DurableContext) -> Any:
    a = ctx.create_callback(event[0])
    b = ctx.create_callback(event[1])
    first = a.result()
    second = b.result()
    return [first, second]


@covers("4-19")
@durable_execution
def callback_two_reverse_order(event: Any, ctx: DurableContext) -> Any:
    a = ctx.create_callback(event[0])
    b = ctx.create_callback(event[1])
    second = b.result()
    first = a.result()
    return [first, second]
