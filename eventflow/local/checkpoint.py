"""Validating and applying one CheckpointDurableExecution batch, without touching any service state.

`stage` checks every update of a batch (the action is one the service accepts from an SDK, the payload fits,
the parent exists, the options are complete, the operation's state machine takes the transition) and returns
each operation's snapshot after its update. Nothing is written until the whole batch has passed, so a refused
batch leaves no trace: the engine commits the staged snapshots only when `stage` returns.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from eventflow.errors import CheckpointError, IllegalTransitionError
from eventflow.events.emitted import AnyUpdate
from eventflow.events.enums import TERMINAL_STATUSES, OperationAction, OperationType
from eventflow.events.limits import MAX_INVOKE_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES, batch_refusal
from eventflow.events.wire import (
    CallbackDetails,
    ChainedInvokeDetails,
    ContextDetails,
    Operation,
    StepDetails,
    WaitDetails,
)
from eventflow.machine.rules import UPDATE_ACTIONS
from eventflow.machine.table import NEW, next_state

MAX_WAIT_SECONDS = 31_622_400
CALLBACK_ID_BYTES = 24  # 192 random bits: the id alone lets its holder complete the callback


def new_callback_id() -> str:
    """192 random bits, URL-safe, never starting with ``-``: an id a command line would read as an option
    (``eventflow callback succeed -Xa...``) fails one draw in 64, so such draws are drawn again."""
    while (callback_id := secrets.token_urlsafe(CALLBACK_ID_BYTES)).startswith("-"):
        pass
    return callback_id


_PAYLOAD_LIMITS: dict[str, int | None] = {
    OperationType.CHAINED_INVOKE: MAX_INVOKE_PAYLOAD_BYTES,
    OperationType.EXECUTION: None,
}


def invalid(message: str) -> CheckpointError:
    """The service's answer to a batch it will never accept, however often it is retried."""
    return CheckpointError(message, terminal=True, code="InvalidParameterValueException")


def stage(
    operations: Mapping[str, Operation], updates: Sequence[AnyUpdate], now: datetime
) -> list[tuple[AnyUpdate, Operation]]:
    """Each update with its operation's snapshot after it, in order. Raises a terminal `CheckpointError` on
    the first update the service would refuse."""
    refusal = batch_refusal(updates)  # the service side's rule, not the SDK's splitter
    if refusal is not None:
        raise invalid(refusal)
    staged: dict[str, Operation] = {}
    applied: list[tuple[AnyUpdate, Operation]] = []
    for update in updates:
        current = staged.get(update.id) or operations.get(update.id)
        validate(update, current, lambda op_id: op_id in staged or op_id in operations)
        try:
            status = next_state(
                update.type, current.status if current else NEW, update.action, op_id=update.id
            )
        except IllegalTransitionError as exc:
            raise invalid(str(exc)) from exc
        op = apply(current, update, status, now)
        staged[update.id] = op
        applied.append((update, op))
    return applied


def validate(update: AnyUpdate, current: Operation | None, exists: Any) -> None:
    """Refuse an update the service would refuse (other than by its state machine)."""
    kind, action = update.type, update.action
    if action not in UPDATE_ACTIONS.get(kind, ()):
        raise invalid(f"{action} is not an action the service accepts for a {kind} operation ({update.id})")
    if current is not None and current.type != kind:
        raise invalid(f"operation {update.id} is a {current.type}, not a {kind}")
    # The EXECUTION's own result is the one payload without the operation limit: it is checkpointed exactly
    # when it is too large for the invocation's response.
    limit = _PAYLOAD_LIMITS.get(kind, MAX_PAYLOAD_BYTES)
    payload = update.payload
    # A str of n characters encodes to at most 4n bytes: most payloads are cleared without encoding them.
    if (
        payload is not None
        and limit is not None
        and len(payload) * 4 > limit
        and len(payload.encode()) > limit
    ):
        raise invalid(f"payload of operation {update.id} is over {limit} bytes")
    if update.parent_id is not None and not exists(update.parent_id):
        raise invalid(f"operation {update.id} names parent {update.parent_id}, which is not started")
    if action != OperationAction.START:
        return
    if kind == OperationType.WAIT:
        seconds = update.wait_options.wait_seconds if update.wait_options else None
        if seconds is None or not 1 <= seconds <= MAX_WAIT_SECONDS:
            raise invalid(f"WAIT {update.id} needs WaitOptions.WaitSeconds in 1..{MAX_WAIT_SECONDS}")
    elif kind == OperationType.CALLBACK:
        options = update.callback_options
        if options and ((options.timeout_seconds or 0) < 0 or (options.heartbeat_timeout_seconds or 0) < 0):
            raise invalid(f"CALLBACK {update.id} has a negative timeout")
    elif kind == OperationType.CHAINED_INVOKE:
        invoke = update.chained_invoke_options
        if invoke is None or not invoke.function_name:
            raise invalid(f"CHAINED_INVOKE {update.id} needs ChainedInvokeOptions.FunctionName")


def apply(current: Operation | None, update: AnyUpdate, status: str, now: datetime) -> Operation:
    """The operation's snapshot after ``update`` moved it to ``status``."""
    changes: dict[str, Any] = {
        "status": status,
        "end_timestamp": now if status in TERMINAL_STATUSES else None,
    }
    kind, action = update.type, update.action
    if kind == OperationType.STEP:
        details = current.step_details if current else None
        attempt = (details.attempt or 0) if details else 0
        if action == OperationAction.RETRY:
            delay = update.step_options.next_attempt_delay_seconds if update.step_options else None
            changes["step_details"] = StepDetails(
                attempt=attempt + 1,
                error=update.error,
                result=update.payload,
                next_attempt_timestamp=now + timedelta(seconds=delay or 1),
            )
        elif action in (OperationAction.SUCCEED, OperationAction.FAIL):
            changes["step_details"] = StepDetails(
                attempt=attempt + 1, result=update.payload, error=update.error
            )
        else:
            changes["step_details"] = StepDetails(attempt=attempt, result=details.result if details else None)
    elif kind == OperationType.CONTEXT and action != OperationAction.START:
        changes["context_details"] = ContextDetails(
            result=update.payload,
            error=update.error,
            replay_children=update.context_options.replay_children if update.context_options else None,
        )
    elif kind == OperationType.WAIT and action == OperationAction.START:
        seconds = update.wait_options.wait_seconds if update.wait_options else None
        changes["wait_details"] = WaitDetails(scheduled_end_timestamp=now + timedelta(seconds=seconds or 1))
    elif kind == OperationType.CALLBACK:
        changes["callback_details"] = CallbackDetails(callback_id=new_callback_id())
    elif kind == OperationType.CHAINED_INVOKE:
        changes["chained_invoke_details"] = ChainedInvokeDetails()
    if current is None:
        return Operation(
            id=update.id,
            parent_id=update.parent_id,
            name=update.name,
            type=update.type,
            sub_type=update.sub_type,
            start_timestamp=now,
            **changes,
        )
    if action == OperationAction.START and current.start_timestamp is None:
        changes["start_timestamp"] = now
    return current.model_copy(update=changes)
