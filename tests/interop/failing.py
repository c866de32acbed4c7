"""Workflows that fail, written once per SDK, for the error types each records (docs/MIGRATING.md).

Each pair fails the same way in both SDKs: a step whose retries run out, a child context whose body
raises and one whose inner step fails, a callback the sender fails and one that times out, a
wait_for_callback whose answer is a failure, an invoke whose target fails, a wait_for_condition whose
check raises, and bad input to an operation. The tests compare the ErrorType each operation and the
execution record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_durable_execution_sdk_python import DurableContext as OfficialContext
from aws_durable_execution_sdk_python.config import (
    CallbackConfig,
    Duration,
    StepConfig,
    WaitForCallbackConfig,
)
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy
from aws_durable_execution_sdk_python.waits import (
    WaitForConditionConfig,
    WaitStrategyConfig,
    create_wait_strategy,
)

import eventflow
from eventflow import DurableContext, retry, waits
from eventflow.events.wire import ErrorObject

from .workflows import World

_O_ONCE = StepConfig(retry_strategy=create_retry_strategy(RetryStrategyConfig(max_attempts=1)))


class LedgerClosedError(Exception):
    """A user's own exception type (qualified as ``module.QualName`` on the wire)."""


def _refuse(step: Any) -> None:
    raise LedgerClosedError("the ledger is closed")


def fail_later(callback_id: str) -> None:
    service = World.service
    assert service is not None
    error = ErrorObject(error_type="Rejected", error_message="the manager said no")
    service.at(5, lambda: service.send_callback_failure(callback_id, error))


# -- step, child context --------------------------------------------------------------------------------


def o_step(event: Any, ctx: OfficialContext) -> Any:
    return ctx.step(_refuse, name="post", config=_O_ONCE)


def e_step(event: Any, ctx: DurableContext) -> Any:
    return ctx.step(_refuse, name="post", retry=retry.no_retry)


def o_child_raises(event: Any, ctx: OfficialContext) -> Any:
    def box(child: OfficialContext) -> Any:
        raise LedgerClosedError("closed inside the box")

    return ctx.run_in_child_context(box, name="box")


def e_child_raises(event: Any, ctx: DurableContext) -> Any:
    def box(child: DurableContext) -> Any:
        raise LedgerClosedError("closed inside the box")

    return ctx.child_context(box, name="box")


def o_child_step(event: Any, ctx: OfficialContext) -> Any:
    return ctx.run_in_child_context(lambda c: c.step(_refuse, name="post", config=_O_ONCE), name="box")


def e_child_step(event: Any, ctx: DurableContext) -> Any:
    return ctx.child_context(lambda c: c.step(_refuse, name="post", retry=retry.no_retry), name="box")


# -- callbacks ------------------------------------------------------------------------------------------


def o_callback_failed(event: Any, ctx: OfficialContext) -> Any:
    callback = ctx.create_callback(name="approval", config=CallbackConfig(timeout=Duration.from_hours(1)))
    ctx.step(lambda _: fail_later(callback.callback_id), name="ask")
    return callback.result()


def e_callback_failed(event: Any, ctx: DurableContext) -> Any:
    callback = ctx.create_callback(name="approval", timeout=3600)
    ctx.step(lambda _: fail_later(callback.callback_id), name="ask")
    return callback.result()


def o_callback_timeout(event: Any, ctx: OfficialContext) -> Any:
    callback = ctx.create_callback(name="approval", config=CallbackConfig(timeout=Duration.from_seconds(60)))
    return callback.result()


def e_callback_timeout(event: Any, ctx: DurableContext) -> Any:
    return ctx.create_callback(name="approval", timeout=60).result()


def o_wait_for_callback_failed(event: Any, ctx: OfficialContext) -> Any:
    config = WaitForCallbackConfig(timeout=Duration.from_hours(1))
    return ctx.wait_for_callback(lambda cid, _: fail_later(cid), name="manager", config=config)


def e_wait_for_callback_failed(event: Any, ctx: DurableContext) -> Any:
    return ctx.wait_for_callback(lambda cid, _: fail_later(cid), name="manager", timeout=3600)


# -- invoke, wait_for_condition, bad input ----------------------------------------------------------------


@eventflow.durable_execution
def closed_ledger(event: Any, ctx: DurableContext) -> Any:
    return ctx.step(_refuse, name="post", retry=retry.no_retry)


def o_invoke(event: Any, ctx: OfficialContext) -> Any:
    return ctx.invoke("ledger", {"amount": 50}, name="ledger")


def e_invoke(event: Any, ctx: DurableContext) -> Any:
    return ctx.invoke("ledger", {"amount": 50}, name="ledger")


def _check_refuses(state: dict[str, int], _: Any) -> dict[str, int]:
    raise LedgerClosedError("cannot check a closed ledger")


def o_condition(event: Any, ctx: OfficialContext) -> Any:
    strategy = create_wait_strategy(
        WaitStrategyConfig(should_continue_polling=lambda s: True, max_attempts=3,
                           initial_delay=Duration.from_seconds(10))
    )
    config = WaitForConditionConfig(wait_strategy=strategy, initial_state={"polls": 0})
    return ctx.wait_for_condition(_check_refuses, config=config, name="job")


def e_condition(event: Any, ctx: DurableContext) -> Any:
    strategy = waits.fixed(10, until=lambda s: False, max_attempts=3)
    return ctx.wait_for_condition(_check_refuses, {"polls": 0}, strategy, name="job")


@dataclass(frozen=True)
class Failing:
    name: str
    official: Callable[[Any, Any], Any]
    eventflow: Callable[[Any, Any], Any]
    targets: dict[str, Callable[[Any, Any], Any]] = field(default_factory=dict)


FAILING = [
    Failing("step", o_step, e_step),
    Failing("child context raises", o_child_raises, e_child_raises),
    Failing("child context's step fails", o_child_step, e_child_step),
    Failing("callback failed", o_callback_failed, e_callback_failed),
    Failing("callback timed out", o_callback_timeout, e_callback_timeout),
    Failing("wait_for_callback failed", o_wait_for_callback_failed, e_wait_for_callback_failed),
    Failing("invoke failed", o_invoke, e_invoke, targets={"ledger": closed_ledger}),
    Failing("wait_for_condition check raises", o_condition, e_condition),
]
