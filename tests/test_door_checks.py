"""Bad arguments are refused with a typed error when the call is made, and errors read as plain text
naming operations by position and name, with the fix where there is one (issue 15 items 5 and 6)."""

from __future__ import annotations

import datetime
from typing import Any

import pydantic
import pytest

from eventflow import DurableContext, InvalidInputError, durable_execution
from eventflow.events.enums import ExecutionStatus
from eventflow.local import LocalService
from eventflow.local.errors import InvalidParameterValueError
from eventflow.testing.harness import DurableHarness


def test_durable_execution_refuses_what_is_not_a_function() -> None:
    with pytest.raises(InvalidInputError, match="durable_execution decorates a handler function"):
        durable_execution(42)  # type: ignore[call-overload]
    with pytest.raises(InvalidInputError, match="got str"):
        durable_execution(serdes=None)("handler")  # type: ignore[arg-type]


def test_register_refuses_a_non_callable_and_a_second_function_under_one_name() -> None:
    service = LocalService()
    with pytest.raises(InvalidParameterValueError, match="takes a handler function"):
        service.register("x", "notcallable")  # type: ignore[arg-type]
    first = durable_execution(lambda event, ctx: 1)
    service.register("x", first)
    service.register("x", first)  # the same function again: nothing changes
    with pytest.raises(InvalidParameterValueError, match="registered already"):
        service.register("x", durable_execution(lambda event, ctx: 2))
    service.register("x", durable_execution(lambda event, ctx: 2), replace=True)  # a new version


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda ctx: ctx.step("x"), r"ctx.step expects a function .* got str 'x'.*ctx.step\(fn, name='x'\)"),
        (lambda ctx: ctx.child_context(3), r"ctx.child_context expects a function"),
        (lambda ctx: ctx.map([1], None), r"ctx.map expects a function"),
        (lambda ctx: ctx.wait_for_callback("id"), r"ctx.wait_for_callback expects a function"),
    ],
)
def test_operations_refuse_a_non_function_at_the_call(call: Any, message: str) -> None:
    seen: list[BaseException] = []

    def handler(event: Any, ctx: DurableContext) -> Any:
        try:
            call(ctx)
        except InvalidInputError as exc:
            seen.append(exc)
        return "checked"

    run = DurableHarness().run(handler)
    assert run.result == "checked"
    assert len(seen) == 1
    import re

    assert re.search(message, str(seen[0])), str(seen[0])
    assert len(run.operations) == 1  # nothing was recorded for the refused call


def test_a_wait_of_half_a_second_is_rounded_up_to_the_one_second_the_service_allows() -> None:
    run = DurableHarness().run(lambda event, ctx: ctx.wait(seconds=0.5))
    wait = run.operations[1]
    assert wait.start_timestamp is not None and wait.wait_details is not None
    scheduled = wait.wait_details.scheduled_end_timestamp
    assert scheduled is not None and (scheduled - wait.start_timestamp).total_seconds() == 1


class Order(pydantic.BaseModel):
    id: int


def test_a_result_json_cannot_write_names_the_step_and_the_fix() -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        ctx.child_context(lambda c: c.step(lambda _: datetime.datetime(2025, 1, 1), name="when"), name="c")

    run = DurableHarness().run(handler)
    message = run.error.error_message if run.error else ""
    assert run.status is ExecutionStatus.FAILED
    assert message.startswith("step 'when' (root/1/1): cannot serialize")
    assert "isoformat()" in (message or "") and "EnvelopeSerDes()" in (message or "")

    run = DurableHarness().run(lambda event, ctx: ctx.step(lambda _: Order(id=1), name="load"))
    message = run.error.error_message if run.error else ""
    assert "step 'load' (root/1)" in message and "PydanticSerDes(Order)" in message


def test_a_non_deterministic_replay_reads_as_plain_text_with_the_position_and_name() -> None:
    from eventflow.errors import NonDeterministicExecutionError
    from eventflow.events.enums import OperationType

    error = NonDeterministicExecutionError(
        op_id="a" * 64,
        recorded={"type": OperationType.STEP, "sub_type": "Step", "name": "old", "parent_id": None},
        requested={"type": OperationType.WAIT, "sub_type": "Wait", "name": "old", "parent_id": None},
        label="root/3",
    )
    text = str(error)
    assert text.startswith("non-deterministic execution at root/3 ('old'):")
    assert "type STEP -> WAIT" in text and "<OperationType" not in text
    assert text.endswith(f"(operation id {'a' * 64})")  # the full id once, last (PROTOCOL.md §3)
