"""The same workflow written twice, once per SDK, for every durable construct.

Each pair records the same operations (ids, types, sub-types, names) when both run their own code, so a
history either one wrote replays in the other. Names follow the official SDK's rule: given, or carried
by the SDK's decorator; an unnamed plain function records none in both.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_durable_execution_sdk_python import DurableContext as OfficialContext
from aws_durable_execution_sdk_python import durable_step as official_durable_step
from aws_durable_execution_sdk_python.config import (
    CallbackConfig,
    Duration,
    JitterStrategy,
    StepConfig,
    WaitForCallbackConfig,
)
from aws_durable_execution_sdk_python.config import (
    CompletionConfig as OfficialCompletionConfig,
)
from aws_durable_execution_sdk_python.config import (
    ParallelConfig as OfficialParallelConfig,
)
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy
from aws_durable_execution_sdk_python.waits import (
    WaitForConditionConfig,
    WaitStrategyConfig,
    create_wait_strategy,
)

import eventflow
from eventflow import CompletionConfig, DurableContext, ParallelConfig, durable_step, retry, waits
from eventflow.local import LocalService


class World:
    """What the workflows reach outside themselves: the service that answers their callbacks."""

    service: LocalService | None = None

    @classmethod
    def answer_later(cls, callback_id: str, result: str) -> None:
        service = cls.service
        assert service is not None
        service.at(5, lambda: service.send_callback_success(callback_id, result))


@dataclass(frozen=True)
class Case:
    name: str
    official: Callable[[Any, Any], Any]
    eventflow: Callable[[Any, Any], Any]
    event: Any = None
    expected: str | None = None  # the execution's Result (JSON text) both must reach
    fails: bool = False
    targets: dict[str, Callable[[Any, Any], Any]] = field(default_factory=dict)


# -- step ----------------------------------------------------------------------------------------------


def greet(step: Any, who: str) -> dict[str, Any]:
    return {"hello": who, "n": [1, 2]}


o_greet = official_durable_step(greet)  # both record the Name "greet"
e_greet = durable_step(greet)


def o_named(event: Any, ctx: OfficialContext) -> Any:
    first = ctx.step(lambda _: {"a": 1}, name="first")
    return [first, ctx.step(o_greet("bob"))]


def e_named(event: Any, ctx: DurableContext) -> Any:
    first = ctx.step(lambda _: {"a": 1}, name="first")
    return [first, ctx.step(e_greet("bob"))]


def _plain(step: Any) -> str:
    return "plain"


def o_unnamed(event: Any, ctx: OfficialContext) -> Any:
    return [ctx.step(_plain), ctx.step(lambda _: {"k": "v"})]


def e_unnamed(event: Any, ctx: DurableContext) -> Any:
    return [ctx.step(_plain), ctx.step(lambda _: {"k": "v"})]


def _flaky(step: Any) -> str:
    if step.attempt < 3:
        raise ConnectionError(f"attempt {step.attempt} failed")
    return f"ok after {step.attempt}"


_O_RETRY = StepConfig(
    retry_strategy=create_retry_strategy(
        RetryStrategyConfig(max_attempts=3, initial_delay=Duration.from_seconds(1),
                            jitter_strategy=JitterStrategy.NONE)
    )
)
_E_RETRY = retry.exponential(max_attempts=3, initial_delay=1, jitter=retry.Jitter.NONE)


def o_retries(event: Any, ctx: OfficialContext) -> Any:
    return ctx.step(_flaky, name="flaky", config=_O_RETRY)


def e_retries(event: Any, ctx: DurableContext) -> Any:
    return ctx.step(_flaky, name="flaky", retry=_E_RETRY)


def _doomed(step: Any) -> None:
    raise ValueError(f"attempt {step.attempt} is doomed")


def o_exhausted(event: Any, ctx: OfficialContext) -> Any:
    return ctx.step(_doomed, name="doomed", config=_O_RETRY)


def e_exhausted(event: Any, ctx: DurableContext) -> Any:
    return ctx.step(_doomed, name="doomed", retry=_E_RETRY)


# -- wait, child context --------------------------------------------------------------------------------


def o_wait(event: Any, ctx: OfficialContext) -> Any:
    ctx.wait(Duration.from_seconds(30), name="pause")
    ctx.wait(Duration.from_seconds(2))
    return "waited"


def e_wait(event: Any, ctx: DurableContext) -> Any:
    ctx.wait(seconds=30, name="pause")
    ctx.wait(seconds=2)
    return "waited"


def o_child(event: Any, ctx: OfficialContext) -> Any:
    def box(child: OfficialContext) -> Any:
        return {"inner": child.step(lambda _: 20, name="inner")}

    named = ctx.run_in_child_context(box, name="box")
    unnamed = ctx.run_in_child_context(box)
    return [named, unnamed]


def e_child(event: Any, ctx: DurableContext) -> Any:
    def box(child: DurableContext) -> Any:
        return {"inner": child.step(lambda _: 20, name="inner")}

    named = ctx.child_context(box, name="box")
    unnamed = ctx.child_context(box)
    return [named, unnamed]


# -- callbacks ------------------------------------------------------------------------------------------


def o_callback(event: Any, ctx: OfficialContext) -> Any:
    callback = ctx.create_callback(name="approval", config=CallbackConfig(timeout=Duration.from_hours(1)))
    ctx.step(lambda _: World.answer_later(callback.callback_id, '{"approved": true}'), name="ask")
    return callback.result()


def e_callback(event: Any, ctx: DurableContext) -> Any:
    callback = ctx.create_callback(name="approval", timeout=3600)
    ctx.step(lambda _: World.answer_later(callback.callback_id, '{"approved": true}'), name="ask")
    return callback.result()


def o_wait_for_callback(event: Any, ctx: OfficialContext) -> Any:
    config = WaitForCallbackConfig(timeout=Duration.from_hours(1))
    submit = lambda cid, _: World.answer_later(cid, '"yes"')  # noqa: E731
    return ctx.wait_for_callback(submit, name="manager", config=config)


def e_wait_for_callback(event: Any, ctx: DurableContext) -> Any:
    return ctx.wait_for_callback(
        lambda cid, _: World.answer_later(cid, '"yes"'), name="manager", timeout=3600
    )


# -- invoke ----------------------------------------------------------------------------------------------


@eventflow.durable_execution
def tax(event: Any, ctx: DurableContext) -> Any:
    return ctx.step(lambda _: round(event["amount"] * 0.2, 2), name="compute")


def o_invoke(event: Any, ctx: OfficialContext) -> Any:
    return ctx.invoke("tax", {"amount": 50}, name="tax")


def e_invoke(event: Any, ctx: DurableContext) -> Any:
    return ctx.invoke("tax", {"amount": 50}, name="tax")


# -- map, parallel ---------------------------------------------------------------------------------------


def _double(ctx: Any, item: int, index: int, items: Any) -> Any:
    return {"item": item, "double": ctx.step(lambda _: item * 2, name="double")}


def o_map(event: Any, ctx: OfficialContext) -> Any:
    return ctx.map([1, 2, 3], _double, name="doubles").get_results()


def e_map(event: Any, ctx: DurableContext) -> Any:
    return ctx.map([1, 2, 3], _double, name="doubles").get_results()


def _branches() -> list[Callable[[Any], Any]]:
    return [
        lambda c: c.step(lambda _: "audit", name="audit"),
        lambda c: {"sent": c.step(lambda _: True, name="notify")},
    ]


def o_parallel(event: Any, ctx: OfficialContext) -> Any:
    return ctx.parallel(_branches(), name="after").get_results()


def e_parallel(event: Any, ctx: DurableContext) -> Any:
    return ctx.parallel(_branches(), name="after").get_results()


def _fail_fast_branches() -> list[Callable[[Any], Any]]:
    def refuse(c: Any) -> Any:
        sdk = type(c).__module__
        return c.step(_doomed, name="refuse", **{_RETRY_KEY[sdk]: _NO_RETRY[sdk]})

    return [lambda c: c.step(lambda _: "first", name="first"), refuse, lambda c: "never started"]


_RETRY_KEY = {"aws_durable_execution_sdk_python.context": "config", "eventflow.context": "retry"}
_NO_RETRY: dict[str, Any] = {
    "aws_durable_execution_sdk_python.context": StepConfig(
        retry_strategy=create_retry_strategy(RetryStrategyConfig(max_attempts=1))
    ),
    "eventflow.context": retry.no_retry,
}


def _batch_summary(batch: Any) -> Any:
    return [batch.success_count, batch.failure_count, len(batch.all), batch.completion_reason.value]


def o_fail_fast(event: Any, ctx: OfficialContext) -> Any:
    config = OfficialParallelConfig(max_concurrency=1,
                                    completion_config=OfficialCompletionConfig(tolerated_failure_count=0))
    return _batch_summary(ctx.parallel(_fail_fast_branches(), name="fail-fast", config=config))


def e_fail_fast(event: Any, ctx: DurableContext) -> Any:
    config = ParallelConfig(max_concurrency=1, completion_config=CompletionConfig(tolerated_failure_count=0))
    return _batch_summary(ctx.parallel(_fail_fast_branches(), name="fail-fast", config=config))


# -- wait_for_condition -----------------------------------------------------------------------------------


def _check(state: dict[str, int], _: Any) -> dict[str, int]:
    return {"polls": state["polls"] + 1}


def o_condition(event: Any, ctx: OfficialContext) -> Any:
    strategy = create_wait_strategy(
        WaitStrategyConfig(should_continue_polling=lambda s: s["polls"] < 3, max_attempts=10,
                           initial_delay=Duration.from_seconds(10), jitter_strategy=JitterStrategy.NONE)
    )
    config = WaitForConditionConfig(wait_strategy=strategy, initial_state={"polls": 0})
    return ctx.wait_for_condition(_check, config=config, name="job")


def e_condition(event: Any, ctx: DurableContext) -> Any:
    strategy = waits.fixed(10, until=lambda s: s["polls"] >= 3, max_attempts=10)
    return ctx.wait_for_condition(_check, {"polls": 0}, strategy, name="job")


CASES = [
    Case("step named", o_named, e_named, expected='[{"a": 1}, {"hello": "bob", "n": [1, 2]}]'),
    Case("step unnamed", o_unnamed, e_unnamed, expected='["plain", {"k": "v"}]'),
    Case("step retries", o_retries, e_retries, expected='"ok after 3"'),
    Case("step retries exhausted", o_exhausted, e_exhausted, fails=True),
    Case("wait", o_wait, e_wait, expected='"waited"'),
    Case("child context", o_child, e_child, expected='[{"inner": 20}, {"inner": 20}]'),
    # Both SDKs hand back a callback's answer as the raw string the sender sent.
    Case("callback", o_callback, e_callback, expected=json.dumps('{"approved": true}')),
    Case("wait_for_callback", o_wait_for_callback, e_wait_for_callback, expected=json.dumps('"yes"')),
    Case("invoke", o_invoke, e_invoke, expected="10.0", targets={"tax": tax}),
    Case("map", o_map, e_map,
         expected='[{"item": 1, "double": 2}, {"item": 2, "double": 4}, {"item": 3, "double": 6}]'),
    Case("parallel", o_parallel, e_parallel, expected='["audit", {"sent": true}]'),
    # Branch 3 never starts: the recorded result holds two items (totalCount 2).
    Case("parallel fail-fast", o_fail_fast, e_fail_fast, expected='[1, 1, 2, "FAILURE_TOLERANCE_EXCEEDED"]'),
    Case("wait_for_condition", o_condition, e_condition, expected='{"polls": 3}'),
]
