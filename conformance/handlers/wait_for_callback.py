"""Wait-for-callback requirements (7-x): a callback plus a submitter step that hands its id out."""

from __future__ import annotations

from typing import Any

from conformance.registry import covers
from eventflow import CallbackError, DurableContext, JsonSerDes, StepContext, durable_execution, retry

SUBMITTED: list[str] = []  # stands in for the external system the submitters notify


def submit(callback_id: str, _: StepContext) -> None:
    """Hand the callback id to the external system (here: remember it)."""
    SUBMITTED.append(callback_id)


@covers("7-1")
@durable_execution
def wfc_basic(event: Any, ctx: DurableContext) -> Any:
    return ctx.wait_for_callback(submit, event)


@covers("7-2")
@durable_execution
def wfc_static_name(event: Any, ctx: DurableContext) -> Any:
    return ctx.wait_for_callback(submit, "approval")


@covers("7-3")
@durable_execution
def wfc_anonymous(event: Any, ctx: DurableContext) -> Any:
    return ctx.wait_for_callback(lambda callback_id, _: SUBMITTED.append(callback_id))


@covers("7-4")
@durable_execution
def wfc_failure(event: Any, ctx: DurableContext) -> Any:
    return ctx.wait_for_callback(submit, event)


@covers("7-5")
@durable_execution
def wfc_timeout(event: Any, ctx: DurableContext) -> Any:
    return ctx.wait_for_callback(submit, event, timeout=3)


@covers("7-6")
@durable_execution
def wfc_failure_caught(event: Any, ctx: DurableContext) -> Any:
    try:
        return ctx.wait_for_callback(submit, event)
    except CallbackError:
        return "recovered"


def _unreachable(callback_id: str, _: StepContext) -> None:
    raise ConnectionError("the approval system is unreachable")


@covers("7-7")
@durable_execution
def wfc_submitter_exhausted(event: Any, ctx: DurableContext) -> Any:
    strategy = retry.exponential(max_attempts=2, initial_delay=1, backoff_rate=1, jitter=retry.Jitter.NONE)
    return ctx.wait_for_callback(_unreachable, event, retry=strategy)


@covers("7-8")
@durable_execution
def wfc_in_child(event: Any, ctx: DurableContext) -> Any:
    def wrapper(child: DurableContext) -> Any:
        return child.wait_for_callback(submit, event)

    return ctx.child_context(wrapper, name="wrapper")


@covers("7-9")
@durable_execution
def wfc_sequential(event: Any, ctx: DurableContext) -> Any:
    ctx.wait_for_callback(submit, "first")
    return ctx.wait_for_callback(submit, "second")


@covers("7-10")
@durable_execution
def wfc_after_wait_and_step(event: Any, ctx: DurableContext) -> Any:
    ctx.wait(seconds=1)
    ctx.step(lambda _: {"prepared": True}, name="prepare")
    return ctx.wait_for_callback(submit, event)


@covers("7-11")
@durable_execution
def wfc_json_result(event: Any, ctx: DurableContext) -> Any:
    decision = ctx.wait_for_callback(submit, event, serdes=JsonSerDes())
    return decision["status"]


@covers("7-12")
@durable_execution
def wfc_heartbeat_timeout(event: Any, ctx: DurableContext) -> Any:
    return ctx.wait_for_callback(submit, event, heartbeat_timeout=5)


@covers("7-13")
@durable_execution
def wfc_heartbeat_then_success(event: Any, ctx: DurableContext) -> Any:
    return ctx.wait_for_callback(submit, event, heartbeat_timeout=10)


@covers("7-14")
@durable_execution
def wfc_timeout_caught(event: Any, ctx: DurableContext) -> Any:
    try:
        return ctx.wait_for_callback(submit, event, timeout=3)
    except CallbackError:
        return "timed-out-handled"


@covers("7-15")
@durable_execution
def wfc_empty_result(event: Any, ctx: DurableContext) -> Any:
    return ctx.wait_for_callback(submit, event)
