"""One eventflow handler per scenario of the OpenTelemetry suite, written from the requirements' prose.

The suite's requirements name a ``scenario`` in their input; `SCENARIOS` maps each one covered here to
its handler. The runner wraps a handler with `eventflow.otel.OtelPlugin` at deploy time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from eventflow import ChildConfig, DurableContext, MapConfig, ParallelBranch, StepContext, retry, waits

Handler = Callable[[Any, DurableContext], Any]
SCENARIOS: dict[str, Handler] = {}


def scenario(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        SCENARIOS[name] = handler
        return handler

    return register


_ONE_RETRY = retry.exponential(max_attempts=2, initial_delay=1, backoff_rate=1, jitter=retry.Jitter.NONE)


@scenario("success")
def success(event: Any, ctx: DurableContext) -> Any:
    return ctx.step(lambda s: "ok", name="otel-success")


@scenario("wait-resume")
def wait_resume(event: Any, ctx: DurableContext) -> Any:
    ctx.wait(seconds=1, name="otel-wait")
    return ctx.step(lambda s: "resumed", name="otel-after-resume")


def _fails_first_attempt(step: StepContext) -> str:
    if step.attempt == 1:
        raise RuntimeError("first attempt fails")
    return "recovered"


@scenario("retry")
def retry_once(event: Any, ctx: DurableContext) -> Any:
    return ctx.step(_fails_first_attempt, name="otel-retry", retry=_ONE_RETRY)


@scenario("long-retry")
def long_retry(event: Any, ctx: DurableContext) -> Any:
    delay = int(event.get("delay_seconds", 1))
    strategy = retry.exponential(
        max_attempts=2, initial_delay=delay, backoff_rate=1, jitter=retry.Jitter.NONE
    )
    return ctx.step(_fails_first_attempt, name="otel-long-retry", retry=strategy)


def _always_fails(step: StepContext) -> Any:
    raise RuntimeError("Intentional failure")


@scenario("terminal-failure")
def terminal_failure(event: Any, ctx: DurableContext) -> Any:
    return ctx.step(_always_fails, name="otel-terminal-failure", retry=retry.no_retry)


@scenario("child-context")
def child_context(event: Any, ctx: DurableContext) -> Any:
    return ctx.child_context(lambda child: child.step(lambda s: "child", name="otel-child-step"),
                             name="otel-child-context")


@scenario("child-context-failure")
def child_context_failure(event: Any, ctx: DurableContext) -> Any:
    def body(child: DurableContext) -> Any:
        raise RuntimeError("Intentional child context failure")

    return ctx.child_context(body, name="otel-failed-child-context")


@scenario("handled-failure")
def handled_failure(event: Any, ctx: DurableContext) -> Any:
    with contextlib.suppress(Exception):
        ctx.step(_always_fails, name="otel-handled-failure", retry=retry.no_retry)
    return ctx.step(lambda s: "recovered", name="otel-recovery-step")


@scenario("execution-failure")
def execution_failure(event: Any, ctx: DurableContext) -> Any:
    raise RuntimeError("Intentional execution failure")


@scenario("virtual-context")
def virtual_context(event: Any, ctx: DurableContext) -> Any:
    return ctx.child_context(lambda child: "virtual-complete", name="otel-virtual-context",
                             config=ChildConfig(is_virtual=True))


@scenario("long-wait")
def long_wait(event: Any, ctx: DurableContext) -> Any:
    ctx.wait(seconds=int(event.get("delay_seconds", 1)), name="otel-long-wait")
    return ctx.step(lambda s: "done", name="otel-after-long-wait")


@scenario("parallel-hierarchy")
def parallel_hierarchy(event: Any, ctx: DurableContext) -> Any:
    def branch(letter: str) -> ParallelBranch[Any]:
        return ParallelBranch(
            lambda b: b.step(lambda s: letter, name=f"otel-parallel-step-{letter}"),
            name=f"otel-parallel-branch-{letter}",
        )

    return ctx.parallel([branch("a"), branch("b")], name="otel-parallel").get_results()


@scenario("map-hierarchy")
def map_hierarchy(event: Any, ctx: DurableContext) -> Any:
    def item(item_ctx: DurableContext, value: int, index: int, items: Any) -> Any:
        return item_ctx.step(lambda s: value * 2, name=f"otel-map-step-{index}")

    config: MapConfig[int] = MapConfig(item_namer=lambda value, index: f"otel-map-iteration-{index}")
    return ctx.map([1, 2], item, name="otel-map", config=config).get_results()


@scenario("parallel-failure")
def parallel_failure(event: Any, ctx: DurableContext) -> Any:
    def failing(branch_ctx: DurableContext) -> Any:
        raise RuntimeError("Intentional parallel branch failure")

    branches = [ParallelBranch(failing, name="otel-failed-parallel-branch")]
    return ctx.parallel(branches, name="otel-failed-parallel").throw_if_error()


@scenario("map-failure")
def map_failure(event: Any, ctx: DurableContext) -> Any:
    def failing(item_ctx: DurableContext, value: int, index: int, items: Any) -> Any:
        raise RuntimeError("Intentional map iteration failure")

    config: MapConfig[int] = MapConfig(item_namer=lambda value, index: f"otel-failed-map-iteration-{index}")
    return ctx.map([1], failing, name="otel-failed-map", config=config).throw_if_error()


def _increment(state: int, step: StepContext) -> int:
    return state + 1


@scenario("wait-for-condition")
def wait_for_condition(event: Any, ctx: DurableContext) -> Any:
    strategy = waits.fixed(1, until=lambda n: n >= 2)
    return ctx.wait_for_condition(_increment, 0, strategy, name="otel-condition")


def _condition_fails(state: int, step: StepContext) -> int:
    raise RuntimeError("Intentional condition failure")


@scenario("wait-for-condition-failure")
def wait_for_condition_failure(event: Any, ctx: DurableContext) -> Any:
    return ctx.wait_for_condition(
        _condition_fails, 0, waits.fixed(1, until=lambda n: n >= 2), name="otel-failed-condition"
    )


@scenario("wait-for-callback")
def wait_for_callback(event: Any, ctx: DurableContext) -> Any:
    return ctx.wait_for_callback(lambda callback_id, step: None, name="otel-callback")


@scenario("wait-for-callback-failure")
def wait_for_callback_failure(event: Any, ctx: DurableContext) -> Any:
    return ctx.wait_for_callback(lambda callback_id, step: None, name="otel-failed-callback")


@scenario("long-callback")
def long_callback(event: Any, ctx: DurableContext) -> Any:
    return ctx.wait_for_callback(lambda callback_id, step: None, name="otel-long-callback")
