"""Step requirements (1-x), each handler written from the requirement's prose."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from conformance.handlers.support import TransientError, UppercaseSerDes
from conformance.registry import covers
from eventflow import (
    DurableContext,
    RetryDecision,
    RetryPresets,
    StepContext,
    StepError,
    StepSemantics,
    durable_execution,
    retry,
)


@covers("1-1")
@durable_execution
def step_basic(event: Any, ctx: DurableContext) -> Any:
    def greet(_: StepContext) -> str:
        return f"Hello, {event}!"

    return ctx.step(greet)


@covers("1-2")
@durable_execution
def step_named(event: Any, ctx: DurableContext) -> Any:
    return ctx.step(lambda _: f"Hello, {event}!", name="custom_step_name")


@covers("1-3")
@durable_execution
def step_sequential(event: Any, ctx: DurableContext) -> Any:
    def step_one(_: StepContext) -> str:
        return "first"

    first = ctx.step(step_one)

    def step_two(_: StepContext) -> str:
        return f"{first}_second"

    return ctx.step(step_two)


@covers("1-4")
@durable_execution
def step_complex_result(event: Any, ctx: DurableContext) -> Any:
    def build_response(_: StepContext) -> dict[str, Any]:
        return {"user": {"name": event["name"], "tags": list(event["tags"])}, "count": len(event["tags"])}

    return ctx.step(build_response)


@covers("1-5")
@durable_execution
def step_none_result(event: Any, ctx: DurableContext) -> Any:
    def do_nothing(_: StepContext) -> None:
        return None

    return ctx.step(do_nothing)


@covers("1-6")
@durable_execution
def step_custom_serdes(event: Any, ctx: DurableContext) -> Any:
    def return_input(_: StepContext) -> Any:
        return event

    return ctx.step(return_input, serdes=UppercaseSerDes())


@covers("1-7")
@durable_execution
def step_logger(event: Any, ctx: DurableContext) -> Any:
    def greet(step: StepContext) -> str:
        step.logger.info(f"Greeting step started for: {event}")
        greeting = f"Hello, {event}!"
        step.logger.info(f"Greeting step completed with: {greeting}")
        return greeting

    return ctx.step(greet)


@covers("1-8")
@durable_execution
def step_then_wait(event: Any, ctx: DurableContext) -> Any:
    def compute(_: StepContext) -> str:
        return "computed"

    value = ctx.step(compute)
    ctx.wait(seconds=2)
    return value


@covers("1-9")
@durable_execution
def step_replay_skips(event: Any, ctx: DurableContext) -> Any:
    def fetch(step: StepContext) -> str:
        step.logger.info("step executed")
        return "cached_value"

    value = ctx.step(fetch)
    ctx.wait(seconds=1)
    return value


@covers("1-10")
@durable_execution
def step_replay_rethrows(event: Any, ctx: DurableContext) -> Any:
    def fail(step: StepContext) -> None:
        step.logger.info("step executed")
        raise RuntimeError("permanent failure")

    with contextlib.suppress(StepError):
        ctx.step(fail, retry=retry.no_retry)
    ctx.wait(seconds=1)
    return "handled"


@covers("1-11")
@durable_execution
def step_retry_then_succeed(event: Any, ctx: DurableContext) -> Any:
    def unreliable(step: StepContext) -> str:
        if step.attempt == 1:
            raise RuntimeError("transient failure")
        return "Operation succeeded"

    strategy = retry.exponential(max_attempts=3, initial_delay=1, backoff_rate=1, jitter=retry.Jitter.NONE)
    return ctx.step(unreliable, retry=strategy)


@covers("1-12")
@durable_execution
def step_retry_exhausted(event: Any, ctx: DurableContext) -> Any:
    def always_fail(_: StepContext) -> None:
        raise RuntimeError("always fails")

    strategy = retry.exponential(max_attempts=4, initial_delay=1, backoff_rate=1, jitter=retry.Jitter.NONE)
    return ctx.step(always_fail, retry=strategy)


@covers("1-13")
@durable_execution
def step_default_retry(event: Any, ctx: DurableContext) -> Any:
    def unreliable(step: StepContext) -> str:
        if step.attempt <= 2:
            raise RuntimeError(f"failure on attempt {step.attempt}")
        return "succeeded on third attempt"

    return ctx.step(unreliable)


@covers("1-14")
@durable_execution
def step_custom_backoff(event: Any, ctx: DurableContext) -> Any:
    def unreliable(step: StepContext) -> str:
        if step.attempt <= 2:
            raise RuntimeError(f"failure on attempt {step.attempt}")
        return "succeeded"

    strategy = retry.exponential(max_attempts=5, initial_delay=2, backoff_rate=3, jitter=retry.Jitter.NONE)
    return ctx.step(unreliable, retry=strategy)


def _retry_on_transient(error: BaseException, attempt: int) -> RetryDecision:
    if isinstance(error, TransientError) and attempt < 3:
        return RetryDecision.after(1)
    return RetryDecision.stop()


@covers("1-15")
@durable_execution
def step_retry_specific_error(event: Any, ctx: DurableContext) -> Any:
    def flaky(step: StepContext) -> str:
        if step.attempt == 1:
            raise TransientError("temporarily unavailable")
        return "recovered"

    return ctx.step(flaky, retry=_retry_on_transient)


def _no_retry_on_transient(error: BaseException, attempt: int) -> RetryDecision:
    if isinstance(error, TransientError):
        return RetryDecision.stop()
    return RetryDecision.after(1)


@covers("1-16")
@durable_execution
def step_non_retryable_error(event: Any, ctx: DurableContext) -> Any:
    def flaky(_: StepContext) -> str:
        raise TransientError("not retried by this strategy")

    return ctx.step(flaky, retry=_no_retry_on_transient)


@covers("1-17", sandbox=True)
@durable_execution
def step_at_most_once_crash(event: Any, ctx: DurableContext) -> Any:
    def at_most_once_flaky_step(step: StepContext) -> str:
        step.logger.info(f"processing {event}")
        os._exit(1)  # the Lambda sandbox dies mid-step

    return ctx.step(
        at_most_once_flaky_step,
        name="at_most_once_flaky_step",
        semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY,
        retry=retry.no_retry,
    )


@covers("1-18", sandbox=True)
@durable_execution
def step_at_most_once_retry(event: Any, ctx: DurableContext) -> Any:
    def flaky(step: StepContext) -> str:
        step.logger.info(f"processing {event}")
        if step.attempt == 1:
            os._exit(1)  # the Lambda sandbox dies in the first attempt
        return "succeeded on second attempt"

    strategy = retry.exponential(max_attempts=3, initial_delay=1, backoff_rate=1, jitter=retry.Jitter.NONE)
    return ctx.step(flaky, semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY, retry=strategy)


@covers("1-19")
@durable_execution
def step_fails(event: Any, ctx: DurableContext) -> Any:
    def failing(_: StepContext) -> None:
        raise RuntimeError("step failed")

    return ctx.step(failing, retry=RetryPresets.none)


@covers("1-20")
@durable_execution
def step_error_caught(event: Any, ctx: DurableContext) -> Any:
    def failing(_: StepContext) -> None:
        raise RuntimeError("step failed")

    try:
        fallback = ctx.step(failing, retry=retry.no_retry)
    except StepError:
        fallback = "fallback_result"

    def use_fallback(_: StepContext) -> Any:
        return fallback

    return ctx.step(use_fallback)
