"""Invoke requirements (5-x): ctx.invoke of another durable function (the targets in `targets.py`)."""

from __future__ import annotations

import json
from typing import Any

from conformance.handlers.support import UppercaseSerDes
from conformance.handlers.targets import ECHO, FAILING, MEASURE
from conformance.registry import covers
from eventflow import DurableContext, InvokeError, SerDesContext, durable_execution


@covers("5-1")
@durable_execution
def invoke_basic(event: Any, ctx: DurableContext) -> Any:
    return ctx.invoke(ECHO, event)


@covers("5-2")
@durable_execution
def invoke_named(event: Any, ctx: DurableContext) -> Any:
    return ctx.invoke(ECHO, event["payload"], name=event["name"])


@covers("5-3")
@durable_execution
def invoke_complex(event: Any, ctx: DurableContext) -> Any:
    return ctx.invoke(ECHO, event)


@covers("5-4")
@durable_execution
def invoke_null(event: Any, ctx: DurableContext) -> Any:
    return ctx.invoke(ECHO, None)


@covers("5-5")
@durable_execution
def invoke_target_fails(event: Any, ctx: DurableContext) -> Any:
    return ctx.invoke(FAILING)


@covers("5-6")
@durable_execution
def invoke_target_fails_caught(event: Any, ctx: DurableContext) -> Any:
    try:
        return ctx.invoke(FAILING)
    except InvokeError:
        return "fallback"


@covers("5-7")
@durable_execution
def invoke_large_payload(event: Any, ctx: DurableContext) -> Any:
    payload = {"data": "x" * (200 * 1024)}  # near the 256 KiB checkpoint payload limit
    return ctx.invoke(MEASURE, payload)


@covers("5-8")
@durable_execution
def invoke_tenant(event: Any, ctx: DurableContext) -> Any:
    return ctx.invoke(ECHO, event["payload"], tenant_id=event["tenantId"])


@covers("5-9")
@durable_execution
def invoke_replay_cached(event: Any, ctx: DurableContext) -> Any:
    result = ctx.invoke(ECHO, "cached")
    ctx.wait(seconds=1)
    return result


@covers("5-10")
@durable_execution
def invoke_replay_rethrows(event: Any, ctx: DurableContext) -> Any:
    try:
        result = ctx.invoke(FAILING)
    except InvokeError:
        result = "caught"
    ctx.wait(seconds=1)
    return result


@covers("5-11")
@durable_execution
def invoke_after_step(event: Any, ctx: DurableContext) -> Any:
    value = ctx.step(lambda _: "from-step", name="prepare")
    return ctx.invoke(ECHO, value)


@covers("5-12")
@durable_execution
def invoke_then_step(event: Any, ctx: DurableContext) -> Any:
    result = ctx.invoke(ECHO, "from-invoke")
    return ctx.step(lambda _: f"processed {result}", name="process")


@covers("5-13")
@durable_execution
def invoke_in_child(event: Any, ctx: DurableContext) -> Any:
    def body(child: DurableContext) -> Any:
        return child.invoke(ECHO, "from-child")

    return ctx.child_context(body)


@covers("5-14")
@durable_execution
def invoke_sequential(event: Any, ctx: DurableContext) -> Any:
    first = ctx.invoke(ECHO, "first")
    second = ctx.invoke(MEASURE, first)
    return [first, second]


@covers("5-15")
@durable_execution
def invoke_payload_serdes(event: Any, ctx: DurableContext) -> Any:
    return ctx.invoke(ECHO, event, serdes=UppercaseSerDes())


class _UppercaseResult:
    """Sends the payload as JSON; reads the target's result text upper-cased."""

    def serialize(self, value: Any, context: SerDesContext) -> str:
        return json.dumps(value)

    def deserialize(self, data: str, context: SerDesContext) -> Any:
        return data.upper()


@covers("5-16")
@durable_execution
def invoke_result_serdes(event: Any, ctx: DurableContext) -> Any:
    return ctx.invoke(ECHO, event, serdes=_UppercaseResult())
