"""Wait-for-condition requirements (6-x): poll a check function, suspending between checks."""

from __future__ import annotations

import base64
from typing import Any

from conformance.registry import covers
from eventflow import (
    DurableContext,
    SerDesContext,
    StepContext,
    WaitForConditionError,
    durable_execution,
    waits,
)


def _increment(state: int, _: StepContext) -> int:
    return state + 1


@covers("6-1")
@durable_execution
def condition_basic(event: Any, ctx: DurableContext) -> Any:
    return ctx.wait_for_condition(_increment, 0, waits.fixed(1, until=lambda n: n >= event))


@covers("6-2")
@durable_execution
def condition_immediate(event: Any, ctx: DurableContext) -> Any:
    return ctx.wait_for_condition(lambda state, _: state, 5, waits.fixed(1, until=lambda n: n >= 5))


@covers("6-3")
@durable_execution
def condition_named(event: Any, ctx: DurableContext) -> Any:
    return ctx.wait_for_condition(_increment, 0, waits.fixed(1, until=lambda n: n >= 2), name="poll-status")


@covers("6-4")
@durable_execution
def condition_initial_state(event: Any, ctx: DurableContext) -> Any:
    return ctx.wait_for_condition(_increment, 5, waits.fixed(1, until=lambda n: n >= event))


@covers("6-5")
@durable_execution
def condition_fixed_delay(event: Any, ctx: DurableContext) -> Any:
    return ctx.wait_for_condition(_increment, 0, waits.fixed(2, until=lambda n: n >= event))


@covers("6-6")
@durable_execution
def condition_attempts_exhausted(event: Any, ctx: DurableContext) -> Any:
    never = waits.fixed(1, until=lambda _: False, max_attempts=3)
    return ctx.wait_for_condition(_increment, 0, never)


def _broken_check(state: Any, _: StepContext) -> Any:
    raise RuntimeError("the status endpoint is down")


@covers("6-7")
@durable_execution
def condition_check_raises(event: Any, ctx: DurableContext) -> Any:
    return ctx.wait_for_condition(_broken_check, None, waits.fixed(1, until=lambda _: True))


@covers("6-8")
@durable_execution
def condition_check_raises_caught(event: Any, ctx: DurableContext) -> Any:
    try:
        return ctx.wait_for_condition(_broken_check, None, waits.fixed(1, until=lambda _: True))
    except WaitForConditionError:
        return "recovered"


def _advance_job(state: dict[str, Any], _: StepContext) -> dict[str, Any]:
    attempts = state["attempts"] + 1
    return {"status": "DONE" if attempts >= 2 else "PENDING", "attempts": attempts}


@covers("6-9")
@durable_execution
def condition_object_state(event: Any, ctx: DurableContext) -> Any:
    initial = {"status": "PENDING", "attempts": 0}
    return ctx.wait_for_condition(
        _advance_job, initial, waits.fixed(1, until=lambda s: s["status"] == "DONE")
    )


@covers("6-10")
@durable_execution
def condition_null_state(event: Any, ctx: DurableContext) -> Any:
    return ctx.wait_for_condition(lambda _state, _: None, None, waits.fixed(1, until=lambda _: True))


class _Base64Text:
    """Keeps the string state base64-encoded in checkpoints."""

    def serialize(self, value: Any, context: SerDesContext) -> str:
        return base64.b64encode(str(value).encode()).decode()

    def deserialize(self, data: str, context: SerDesContext) -> Any:
        return base64.b64decode(data.encode()).decode()


@covers("6-11")
@durable_execution
def condition_custom_serdes(event: Any, ctx: DurableContext) -> Any:
    return ctx.wait_for_condition(
        lambda state, _: state + "x", "", waits.fixed(1, until=lambda s: len(s) >= 2), serdes=_Base64Text()
    )


@covers("6-12")
@durable_execution
def condition_then_step(event: Any, ctx: DurableContext) -> Any:
    reached = ctx.wait_for_condition(_increment, 0, waits.fixed(1, until=lambda n: n >= event))
    return ctx.step(lambda _: reached * 10, name="multiply")


@covers("6-13")
@durable_execution
def condition_sequential(event: Any, ctx: DurableContext) -> Any:
    first = ctx.wait_for_condition(_increment, 0, waits.fixed(1, until=lambda n: n >= 2))
    return ctx.wait_for_condition(_increment, first, waits.fixed(1, until=lambda n: n >= 4))
