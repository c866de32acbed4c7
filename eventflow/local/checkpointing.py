"""The `Backend` side of the service: CheckpointDurableExecution and GetDurableExecutionState.

A checkpoint batch is checked against the execution's current token, validated and applied as a whole by
`checkpoint.stage` (which touches nothing), and only then committed: each update's operation is stored, its
history event appended, and what it sets in motion handed to the part that owns it (a WAIT's or retry's
timer to `Waits`, a callback to `Callbacks`, a chained invoke to `ChainedInvokes`). The answer carries a
new token and every operation the batch or the service changed since the last one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from eventflow.backends.base import CheckpointResult, StatePage
from eventflow.errors import CheckpointError
from eventflow.events.emitted import AnyUpdate
from eventflow.events.enums import OperationAction, OperationType
from eventflow.events.wire import Operation
from eventflow.local import history
from eventflow.local.callbacks import Callbacks
from eventflow.local.chained_invokes import ChainedInvokes
from eventflow.local.checkpoint import invalid, stage
from eventflow.local.errors import ExecutionNotFoundError
from eventflow.local.model import LocalExecution
from eventflow.local.state import ServiceState, page_start
from eventflow.local.waits import Waits


class Checkpoints:
    """Takes the SDK's checkpoints and state reads, and routes what each update sets in motion."""

    def __init__(
        self, state: ServiceState, waits: Waits, callbacks: Callbacks, chained_invokes: ChainedInvokes
    ) -> None:
        self._state = state
        self._waits = waits
        self._callbacks = callbacks
        self._chained_invokes = chained_invokes

    def checkpoint(self, arn: str, token: str, updates: Sequence[AnyUpdate]) -> CheckpointResult:
        """CheckpointDurableExecution: all of the batch applies, or none of it does."""
        state = self._state
        with state.cond:
            try:
                execution = state.get(arn)
            except ExecutionNotFoundError as exc:
                raise CheckpointError(str(exc), terminal=True, code="ResourceNotFoundException") from exc
            if token != execution.token:
                raise CheckpointError(
                    f"Invalid checkpoint token for {arn}: it is stale or was already used",
                    code="InvalidParameterValueException",
                )
            if not execution.running:
                raise invalid(f"execution {arn} is {execution.status.value}")
            now = state.clock.now()
            applied = stage(execution.operations, updates, now)
            # Validated: commit.
            for update, op in applied:
                state.put(execution, op)
                self._after_update(execution, update, op, now)
            execution.token = state.new_token(execution)
            ids = dict.fromkeys(u.id for u in updates)
            ids.update(execution.changed)
            execution.changed.clear()
            state.touch(execution)
            try:
                state.commit()
            except Exception as exc:  # nothing was stored: the same token and batch may be sent again
                raise CheckpointError(f"the service could not store the checkpoint: {exc}") from exc
            return CheckpointResult(execution.token, [execution.operations[op_id] for op_id in ids])

    def get_state(self, arn: str, token: str, marker: str, max_items: int | None = None) -> StatePage:
        """GetDurableExecutionState: operations in creation order, a page at a time."""
        state = self._state
        with state.lock:
            execution = state.get(arn)
            if token != execution.token:
                raise CheckpointError(
                    f"Invalid checkpoint token for {arn}", code="InvalidParameterValueException"
                )
            return state.page(execution, page_start(marker, invalid), max_items)

    def _after_update(
        self, execution: LocalExecution, update: AnyUpdate, op: Operation, now: datetime
    ) -> None:
        """Append the update's event and arm or cancel what the service must do later because of it."""
        kind = update.type
        if kind == OperationType.CHAINED_INVOKE:
            self._chained_invokes.start(execution, update, op, now)
            return
        self._state.append(execution, lambda i: history.for_update(i, update, op, now, _attempt(op)))
        if kind in (OperationType.WAIT, OperationType.STEP):
            self._waits.track(execution.arn, update, op)
        elif kind == OperationType.CALLBACK:
            self._callbacks.start(execution, update, op, now)
        elif kind == OperationType.EXECUTION:
            if update.action == OperationAction.SUCCEED:
                execution.checkpointed_result = update.payload
            else:
                execution.checkpointed_error = update.error


def _attempt(op: Operation) -> int:
    return (op.step_details.attempt or 0) if op.step_details else 0
