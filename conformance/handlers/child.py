"""Child-context requirements (3-x)."""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any

from conformance.handlers.support import OnceMarker
from conformance.registry import covers
from eventflow import (
    ChildConfig,
    ChildContextError,
    DurableContext,
    SerDesContext,
    StepContext,
    durable_execution,
    retry,
)
from eventflow.core.scheduler import START_LINGER_SECONDS

_ONE_SECOND = retry.exponential(max_attempts=2, initial_delay=1, backoff_rate=1, jitter=retry.Jitter.NONE)


@covers("3-1")
@durable_execution
def child_basic(event: Any, ctx: DurableContext) -> Any:
    def body(child: DurableContext) -> Any:
        return child.step(lambda _: event, name="echo")

    return ctx.child_context(body)


@covers("3-2")
@durable_execution
def child_named(event: Any, ctx: DurableContext) -> Any:
    def body(child: DurableContext) -> Any:
        return child.step(lambda _: event["value"], name="value")

    return ctx.child_context(body, name=event["name"])


@covers("3-3")
@durable_execution
def child_sequential_steps(event: Any, ctx: DurableContext) -> Any:
    def body(child: DurableContext) -> Any:
        first = child.step(lambda _: event, name="first")
        return child.step(lambda _: first, name="second")

    return ctx.child_context(body, name="body")


@covers("3-4")
@durable_execution
def child_error(event: Any, ctx: DurableContext) -> Any:
    def failing(_: StepContext) -> None:
        raise RuntimeError("step inside the child failed")

    def body(child: DurableContext) -> Any:
        return child.step(failing, retry=retry.no_retry)

    return ctx.child_context(body, name="body")


@covers("3-5")
@durable_execution
def child_error_caught(event: Any, ctx: DurableContext) -> Any:
    def failing(_: StepContext) -> None:
        raise RuntimeError("step inside the child failed")

    def body(child: DurableContext) -> Any:
        return child.step(failing, retry=retry.no_retry)

    with contextlib.suppress(ChildContextError):
        ctx.child_context(body)
    return ctx.step(lambda _: event, name="recover")


@covers("3-6")
@durable_execution
def child_nested(event: Any, ctx: DurableContext) -> Any:
    def inner(child: DurableContext) -> Any:
        return child.step(lambda _: event, name="inner_step")

    def outer(child: DurableContext) -> Any:
        child.step(lambda _: event, name="outer_step")
        return child.child_context(inner, name="inner")

    return ctx.child_context(outer, name="outer")


@covers("3-7")
@durable_execution
def child_step_retry(event: Any, ctx: DurableContext) -> Any:
    def flaky(step: StepContext) -> Any:
        if step.attempt == 1:
            raise RuntimeError("first attempt fails")
        return event

    def body(child: DurableContext) -> Any:
        return child.step(flaky, retry=_ONE_SECOND)

    return ctx.child_context(body, name="body")


@covers("3-8")
@durable_execution
def child_step_retry_exhausted(event: Any, ctx: DurableContext) -> Any:
    def always_fail(_: StepContext) -> None:
        raise RuntimeError("always fails")

    def body(child: DurableContext) -> Any:
        return child.step(always_fail, retry=_ONE_SECOND)

    return ctx.child_context(body, name="body")


@covers("3-9")
@durable_execution
def child_replay_cached(event: Any, ctx: DurableContext) -> Any:
    def body(child: DurableContext) -> Any:
        return child.step(lambda _: event, name="echo")

    value = ctx.child_context(body)
    ctx.wait(seconds=1)
    return value


@covers("3-10")
@durable_execution
def child_step_and_wait(event: Any, ctx: DurableContext) -> Any:
    def body(child: DurableContext) -> Any:
        value = child.step(lambda _: event, name="echo")
        child.wait(seconds=1)
        return value

    return ctx.child_context(body, name="body")


@covers("3-11")
@durable_execution(log_replay=True)
def child_large_result(event: Any, ctx: DurableContext) -> Any:
    def body(child: DurableContext) -> Any:
        child.logger.info(f"building a large result for {event}")
        seed = child.step(lambda _: "x", name="seed")
        return seed * (300 * 1024)  # over the 256 KiB checkpoint limit: checkpointed with ReplayChildren

    large = ctx.child_context(body, name="body")
    ctx.wait(seconds=1)
    return {"length": len(large)}


_CRASHED = OnceMarker("3-12")


@covers("3-12", sandbox=True)
@durable_execution
def child_interrupted(event: Any, ctx: DurableContext) -> Any:
    def crash_once(_: StepContext) -> Any:
        if _CRASHED.first_time(str(event)):
            # The requirement's crash comes after StepStarted is checkpointed: an at-least-once START
            # goes out once the code has run past the linger, so the attempt runs that long first.
            time.sleep(START_LINGER_SECONDS * 4)
            os._exit(1)  # the Lambda sandbox dies after the child and the step started
        return event

    def body(child: DurableContext) -> Any:
        return child.step(crash_once, name="crash_once")

    return ctx.child_context(body)


@covers("3-13")
@durable_execution
def child_wait_only(event: Any, ctx: DurableContext) -> Any:
    def body(child: DurableContext) -> Any:
        child.wait(seconds=1)
        return event

    value = ctx.child_context(body, name="body")
    return ctx.step(lambda _: value, name="after_child")


class _UppercaseText:
    """Writes a string result upper-cased as the raw payload, reads the payload back as it is."""

    def serialize(self, value: Any, context: SerDesContext) -> str:
        return str(value).upper()

    def deserialize(self, data: str, context: SerDesContext) -> Any:
        return data


@covers("3-14")
@durable_execution
def child_custom_serdes(event: Any, ctx: DurableContext) -> Any:
    def body(child: DurableContext) -> Any:
        return child.step(lambda _: event, name="echo")

    return ctx.child_context(body, name="body", config=ChildConfig(serdes=_UppercaseText()))


@covers("3-15")
@durable_execution
def child_error_without_step(event: Any, ctx: DurableContext) -> Any:
    def body(child: DurableContext) -> Any:
        raise ValueError("the child failed before any durable operation")

    return ctx.child_context(body, name="body")


@covers("3-16")
@durable_execution
def child_returns_none(event: Any, ctx: DurableContext) -> Any:
    def body(child: DurableContext) -> None:
        return None

    return ctx.child_context(body, name="body")


@covers("3-17")
@durable_execution(log_replay=True)
def child_logger_only(event: Any, ctx: DurableContext) -> Any:
    def body(child: DurableContext) -> Any:
        child.logger.info(f"child context ran for {event}")
        return event

    value = ctx.child_context(body, name="body")
    ctx.wait(seconds=1)
    return value


@covers("3-18")
@durable_execution
def child_then_top_level(event: Any, ctx: DurableContext) -> Any:
    def body(child: DurableContext) -> Any:
        value = child.step(lambda _: event, name="inner")
        child.wait(seconds=1)
        return value

    value = ctx.child_context(body, name="body")
    result = ctx.step(lambda _: value, name="outer")
    ctx.wait(seconds=1)
    return result
