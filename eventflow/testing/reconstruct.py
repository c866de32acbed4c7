"""Rebuild an execution's operations from its history events, through the operation machines.

Why: the service hands a replaying handler *operations* (GetDurableExecutionState), but what gets exported,
archived and audited is the *history* (GetDurableExecutionHistory). Replaying an archived history needs
the operations back. Each operation's status comes from `eventflow.machine.fold.fold_events` (so a
history with an impossible transition is refused, not guessed at); its details are read off the events.
The events are validated models already, so the operations are built from their typed values without
validating them again (`unchecked`): a view of 100,000 operations spent most of its time doing that.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from eventflow.errors import InvalidInputError
from eventflow.events.enums import EventType, OperationStatus, OperationType
from eventflow.events.history import Event
from eventflow.events.wire import (
    CallbackDetails,
    ChainedInvokeDetails,
    ContextDetails,
    ErrorObject,
    ExecutionDetails,
    Operation,
    StepDetails,
    WaitDetails,
)
from eventflow.machine.fold import EVENT_TRIGGERS, fold_events

__all__ = ["Outcome", "execution_outcome", "is_retry_event", "operations_from_events"]

_E = EventType
_TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT", "STOPPED"})


def is_retry_event(event: Event) -> bool:
    """A StepSucceeded/StepFailed that carries a retry delay records a RETRY (see `machine.fold`).

    The delay must be over 0: a RETRY's ``StepOptions.NextAttemptDelaySeconds`` is at least 1 (botocore's
    model), so ``NextAttemptDelaySeconds: 0``, which the official testing library writes on a final
    StepFailed, is a final outcome, never a retry.
    """
    details = event.step_succeeded_details or event.step_failed_details
    if event.event_type not in (_E.STEP_SUCCEEDED, _E.STEP_FAILED) or details is None:
        return False
    retry = details.retry_details
    return retry is not None and bool(retry.next_attempt_delay_seconds)


@dataclass(frozen=True)
class Outcome:
    """How a recorded execution ended: its status, and its result payload or error."""

    status: str
    result: str | None = None
    error: ErrorObject | None = None


_ENDINGS = {
    _E.EXECUTION_SUCCEEDED: "SUCCEEDED",
    _E.EXECUTION_FAILED: "FAILED",
    _E.EXECUTION_TIMED_OUT: "TIMED_OUT",
    _E.EXECUTION_STOPPED: "STOPPED",
}


def execution_outcome(events: Iterable[Event]) -> Outcome | None:
    """The recorded ending of the execution, or None while it was still running."""
    for event in events:
        status = _ENDINGS.get(event.event_type) if event.event_type else None
        if status is None:
            continue
        if event.execution_succeeded_details is not None:
            result = event.execution_succeeded_details.result
            return Outcome(status, result=result.payload if result else None)
        details = (
            event.execution_failed_details
            or event.execution_timed_out_details
            or event.execution_stopped_details
        )
        error = details.error.payload if details is not None and details.error is not None else None
        return Outcome(status, error=error)
    return None


def operations_from_events(events: Iterable[Event]) -> list[Operation]:
    """The operations a history describes, in order of first appearance (the EXECUTION first)."""
    events = [e for e in events if e.event_type is not None]
    states = fold_events((e.id, e.event_type.value, is_retry_event(e)) for e in events if e.event_type)
    fields: dict[str, dict[str, Any]] = {}
    for event in events:
        assert event.event_type is not None
        feed = EVENT_TRIGGERS.get(event.event_type)
        if feed is None or event.id is None:
            continue
        op = fields.setdefault(
            event.id,
            {
                "id": event.id,
                "parent_id": event.parent_id,
                "name": event.name,
                "type": feed[0],
                "sub_type": event.sub_type,
                "start_timestamp": event.event_timestamp,
            },
        )
        _apply(op, event)
    operations = []
    for op_id, data in fields.items():
        status = states[op_id]
        if status in _TERMINAL:
            data.setdefault("end_timestamp", data.get("_last"))
        data.pop("_last", None)
        operations.append(Operation.unchecked(status=OperationStatus(status), **data))
    operations.sort(key=lambda op: op.type != OperationType.EXECUTION)
    if not operations or operations[0].type != OperationType.EXECUTION:
        raise InvalidInputError("the history holds no ExecutionStarted event")
    return operations


def _payload(wrapper: Any) -> Any:
    return wrapper.payload if wrapper is not None else None


def _apply(op: dict[str, Any], event: Event) -> None:
    """Fold one event's details into the operation's fields."""
    kind, at = event.event_type, event.event_timestamp
    op["_last"] = at
    if kind == _E.EXECUTION_STARTED and event.execution_started_details is not None:
        op["execution_details"] = ExecutionDetails.unchecked(
            input_payload=_payload(event.execution_started_details.input)
        )
    elif kind in (_E.STEP_STARTED, _E.STEP_SUCCEEDED, _E.STEP_FAILED):
        _apply_step(op, event)
    elif kind == _E.WAIT_STARTED and event.wait_started_details is not None:
        op["wait_details"] = WaitDetails.unchecked(
            scheduled_end_timestamp=event.wait_started_details.scheduled_end_timestamp
        )
    elif kind == _E.CALLBACK_STARTED and event.callback_started_details is not None:
        started = event.callback_started_details
        op["callback_details"] = CallbackDetails.unchecked(callback_id=started.callback_id)
    elif kind in (_E.CALLBACK_SUCCEEDED, _E.CALLBACK_FAILED, _E.CALLBACK_TIMED_OUT):
        previous = op.get("callback_details") or CallbackDetails.unchecked()
        ok = event.callback_succeeded_details
        bad = event.callback_failed_details or event.callback_timed_out_details
        op["callback_details"] = CallbackDetails.unchecked(
            callback_id=previous.callback_id,
            result=_payload(ok.result) if ok else None,
            error=_payload(bad.error) if bad else None,
        )
    elif kind == _E.CONTEXT_SUCCEEDED and event.context_succeeded_details is not None:
        succeeded = event.context_succeeded_details
        op["context_details"] = ContextDetails.unchecked(result=_payload(succeeded.result))
    elif kind == _E.CONTEXT_FAILED and event.context_failed_details is not None:
        op["context_details"] = ContextDetails.unchecked(error=_payload(event.context_failed_details.error))
    elif kind == _E.CHAINED_INVOKE_SUCCEEDED and event.chained_invoke_succeeded_details is not None:
        op["chained_invoke_details"] = ChainedInvokeDetails.unchecked(
            result=_payload(event.chained_invoke_succeeded_details.result)
        )
    elif kind in (_E.CHAINED_INVOKE_FAILED, _E.CHAINED_INVOKE_TIMED_OUT, _E.CHAINED_INVOKE_STOPPED):
        details = (
            event.chained_invoke_failed_details
            or event.chained_invoke_timed_out_details
            or event.chained_invoke_stopped_details
        )
        op["chained_invoke_details"] = ChainedInvokeDetails.unchecked(
            error=_payload(details.error) if details else None
        )


def _apply_step(op: dict[str, Any], event: Event) -> None:
    previous: StepDetails = op.get("step_details") or StepDetails.unchecked(attempt=0)
    if event.event_type == _E.STEP_STARTED:
        op["step_details"] = StepDetails.unchecked(attempt=previous.attempt, result=previous.result)
        return
    details = event.step_succeeded_details or event.step_failed_details
    retry = details.retry_details if details is not None else None
    attempt = (
        retry.current_attempt if retry is not None and retry.current_attempt else (previous.attempt or 0) + 1
    )
    result = _payload(event.step_succeeded_details.result) if event.step_succeeded_details else None
    error = _payload(event.step_failed_details.error) if event.step_failed_details else None
    next_at = None
    if (
        retry is not None
        and retry.next_attempt_delay_seconds
        and event.event_timestamp is not None
    ):
        next_at = event.event_timestamp + timedelta(seconds=retry.next_attempt_delay_seconds)
    op["step_details"] = StepDetails.unchecked(
        attempt=attempt, result=result, error=error, next_attempt_timestamp=next_at
    )
