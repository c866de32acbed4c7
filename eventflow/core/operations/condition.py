"""WAIT_FOR_CONDITION: poll a check function through the service's timers, as ONE step operation.

Each check runs as an attempt of a STEP with SubType "WaitForCondition" (PROTOCOL.md §4). The check
gets the current state and returns the next one; the wait strategy then decides. "Not yet" is a RETRY
whose Payload is the new state and whose StepOptions.NextAttemptDelaySeconds is the delay: the service
keeps that payload as StepDetails.Result and re-invokes the function when the step is READY, so the
next attempt resumes from the recorded state, not from ``initial_state``. "Done" is SUCCEED with the
final state. A check or strategy that raises is FAIL, and `WaitForConditionError` on every run.

START goes out lazily with the attempt's outcome, as the official SDK sends it (non-blocking): the
check is a poll, and running it twice after a crash is harmless. An attempt found STARTED on replay
was cut off and runs again without a new START.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from eventflow.core.effects import Call, Flush, Plan
from eventflow.core.failures import error_object, operation_error
from eventflow.core.operation_table import detail
from eventflow.core.operations.step import StepContext
from eventflow.core.scope import Scope
from eventflow.core.state import ExecutionState
from eventflow.core.updates import updater
from eventflow.errors import SuspendExecution, WaitForConditionError
from eventflow.events.emitted import AnyUpdate
from eventflow.events.enums import OperationAction, OperationStatus, OperationSubType, OperationType
from eventflow.serdes import SerDes, deserialize, round_trip, serialize
from eventflow.waits import WaitDecision

_SCALARS = (str, int, float, bool, type(None))


def condition_plan(
    state: ExecutionState,
    scope: Scope,
    check: Callable[[Any, StepContext], Any],
    *,
    initial_state: Any,
    wait_strategy: Callable[[Any, int], WaitDecision],
    name: str | None,
    serdes: SerDes | None,
) -> Plan[Any]:
    """Run one check of the condition (or replay the outcome) and checkpoint what it decided."""
    op_id = scope.next_id()
    parent_id = scope.parent_id
    sub_type = OperationSubType.WAIT_FOR_CONDITION
    entry = state.recorded_entry(op_id, OperationType.STEP, sub_type, name, parent_id)
    serdes = serdes or state.serdes

    update = updater(op_id, parent_id, name, OperationType.STEP, sub_type)

    attempt = 1
    recorded_state: str | None = None
    needs_start = True
    if entry is not None:
        status = state.status(op_id)
        if status == OperationStatus.SUCCEEDED:
            return deserialize(serdes, detail(entry, "step_details", "result"), op_id, state.arn)
        if status in (OperationStatus.PENDING, OperationStatus.STARTED, OperationStatus.READY):
            if status == OperationStatus.PENDING:
                raise SuspendExecution(f"wait_for_condition {name or op_id} waits for its next check")
            # StepDetails.Attempt counts the checks already made; the RETRY payload is the state.
            attempt = (detail(entry, "step_details", "attempt") or 0) + 1
            recorded_state = detail(entry, "step_details", "result")
            needs_start = status != OperationStatus.STARTED
        else:
            # FAILED, and any other terminal status a service might report for a step: the check is
            # over and did not produce a final state.
            details = state.operations[op_id].step_details
            raise operation_error(
                WaitForConditionError, details.error if details else None, operation_id=op_id, name=name
            )

    if needs_start:
        state.emit(update(OperationAction.START))

    try:
        # The first check sees initial_state read back through the serdes, so that it sees the same
        # shape on the first run as every later check (which reads the recorded payload).
        if recorded_state is None:
            recorded_state = serialize(serdes, initial_state, op_id, state.arn)
        current = deserialize(serdes, recorded_state, op_id, state.arn)
        step_context = StepContext(attempt, op_id, name, parent_id=parent_id, state=state)
    except Exception as exc:  # the initial state did not survive the serdes: no check ran
        yield from _fail(state, update, exc, op_id, name)

    # Each check is an attempt of the step, for plugins as for the service.
    hooks = state.hooks
    if hooks is not None:
        hooks.attempt_started(op_id, name, sub_type, parent_id, attempt)
    try:
        new_state = yield Call(lambda ctx: check(current, ctx), step_context, state)
        if hooks is not None:
            hooks.attempt_ended(op_id, name, sub_type, parent_id, attempt, exc=None)
    except Exception as exc:
        if hooks is not None:
            hooks.attempt_ended(op_id, name, sub_type, parent_id, attempt, exc=exc)
        yield from _fail(state, update, exc, op_id, name)

    try:
        payload, seen = round_trip(serdes, new_state, op_id, state.arn)
        decision = wait_strategy(seen, attempt)
    except Exception as exc:
        yield from _fail(state, update, exc, op_id, name)

    if decision.should_continue:
        from eventflow.events.wire import StepOptions

        state.emit(
            update(
                OperationAction.RETRY,
                payload=payload,
                step_options=StepOptions(next_attempt_delay_seconds=max(1, decision.delay_seconds)),
            )
        )
        yield Flush(state)
        raise SuspendExecution(
            f"wait_for_condition {name or op_id} checks again in {decision.delay_seconds} s"
        )
    state.emit(update(OperationAction.SUCCEED, payload=payload))
    yield Flush(state)
    # A fresh read of the payload, unless it is an immutable scalar: a strategy that mutated the state
    # it was shown must not change what the caller gets (a replay returns the payload as recorded).
    if type(seen) in _SCALARS:
        return seen
    return deserialize(serdes, payload, op_id, state.arn)


def _fail(
    state: ExecutionState,
    update: Callable[..., AnyUpdate],
    exc: Exception,
    op_id: str,
    name: str | None,
) -> Plan[NoReturn]:
    """FAIL the operation with ``exc`` and raise `WaitForConditionError`; never returns."""
    error = error_object(exc, state.official_errors)
    state.emit(update(OperationAction.FAIL, error=error))
    yield Flush(state)
    raise operation_error(WaitForConditionError, error, operation_id=op_id, name=name) from exc


__all__ = ["condition_plan"]
