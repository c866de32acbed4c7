"""A fake durable-execution service at the network boundary, for driving handlers as Lambda would.

`FakeService` is a `Backend`: it takes checkpoint batches (checking the token chain and every
transition against the operation state machines), keeps operation snapshots the way the service does,
and assigns callback ids. Between invocations a test plays the outside world -- answers a callback,
ends a chained invoke, elapses a timer -- and `invoke` builds the next invocation input from the
snapshots, exactly as Lambda hands it to the handler. Nothing in eventflow is patched.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import Any

from eventflow.backends.base import CheckpointResult, StatePage
from eventflow.errors import CheckpointError
from eventflow.events.enums import OperationAction, OperationStatus, OperationType
from eventflow.events.wire import (
    CallbackDetails,
    ChainedInvokeDetails,
    ContextDetails,
    ErrorObject,
    ExecutionDetails,
    Operation,
    OperationUpdate,
    StepDetails,
)
from eventflow.handler import DurableHandler
from eventflow.ids import child_id
from eventflow.machine.table import NEW, next_state
from eventflow.testing import IdLabeler, render_checkpoints

ARN = "arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST/durable-execution/test/0001"


class FakeService:
    """One execution's operations, as the service would keep and return them."""

    def __init__(self, event: Any = None) -> None:
        execution = Operation(
            id="execution", type=OperationType.EXECUTION, status=OperationStatus.STARTED,
            execution_details=ExecutionDetails(input_payload=json.dumps(event)),
        )
        self.operations: dict[str, Operation] = {execution.id: execution}
        self.batches: list[list[OperationUpdate]] = []
        self.outputs: list[dict[str, Any]] = []
        self._token = 0
        self._callbacks = 0
        # Misbehaviours a test can switch on: a START answer without CallbackDetails.CallbackId, and
        # chained invokes whose target cannot be resolved (FAILED in the START's own answer).
        self.omit_callback_ids = False
        self.reject_invokes: ErrorObject | None = None

    # -- the Backend protocol ----------------------------------------------------------------------

    def checkpoint(self, arn: str, token: str, updates: Sequence[OperationUpdate]) -> CheckpointResult:
        if arn != ARN or token != self.token:
            raise CheckpointError(
                f"Invalid checkpoint token {token!r}", code="InvalidParameterValueException"
            )
        changed: dict[str, Operation] = {}
        for update in updates:
            op = self._apply(update)
            self.operations[op.id] = changed[op.id] = op
        self.batches.append(list(updates))
        self._token += 1
        return CheckpointResult(self.token, list(changed.values()))

    def get_state(self, arn: str, token: str, marker: str) -> StatePage:
        raise AssertionError("the fake service never pages")

    # -- Lambda ------------------------------------------------------------------------------------

    @property
    def token(self) -> str:
        return f"token-{self._token}"

    def invocation_input(self) -> dict[str, Any]:
        return {
            "DurableExecutionArn": ARN,
            "CheckpointToken": self.token,
            "InitialExecutionState": {"Operations": [op.to_wire() for op in self.operations.values()]},
        }

    def invoke(self, handler: Callable[[Any, Any], Any]) -> dict[str, Any]:
        """One invocation of ``handler`` (sync or async), wired to this service."""
        durable = DurableHandler(handler, self)
        event = self.invocation_input()
        output = asyncio.run(durable.ainvoke(event)) if durable.is_async else durable(event)
        self.outputs.append(output)
        return output

    # -- the outside world -------------------------------------------------------------------------

    def _complete(self, op_id: str, trigger: str, **changes: Any) -> None:
        op = self.operations[op_id]
        status = next_state(op.type, op.status, trigger, op_id=op_id)
        self.operations[op_id] = op.model_copy(update={"status": status, **changes})

    def callback_succeeds(self, op_id: str, result: str | None) -> None:
        details = self.operations[op_id].callback_details
        assert details is not None
        changed = details.model_copy(update={"result": result})
        self._complete(op_id, "callback_succeeded", callback_details=changed)

    def callback_fails(self, op_id: str, error: ErrorObject) -> None:
        details = self.operations[op_id].callback_details
        assert details is not None
        self._complete(op_id, "callback_failed", callback_details=details.model_copy(update={"error": error}))

    def callback_times_out(self, op_id: str, error: ErrorObject) -> None:
        details = self.operations[op_id].callback_details
        assert details is not None
        changed = details.model_copy(update={"error": error})
        self._complete(op_id, "callback_timed_out", callback_details=changed)

    def invoke_ends(self, op_id: str, status: OperationStatus, *, result: str | None = None,
                    error: ErrorObject | None = None) -> None:
        trigger = {
            OperationStatus.SUCCEEDED: "invoke_succeeded",
            OperationStatus.FAILED: "invoke_failed",
            OperationStatus.TIMED_OUT: "invoke_timed_out",
            OperationStatus.STOPPED: "invoke_stopped",
        }[status]
        details = ChainedInvokeDetails(result=result, error=error)
        self._complete(op_id, trigger, chained_invoke_details=details)

    def retry_delay_elapses(self, op_id: str) -> None:
        self._complete(op_id, "retry_delay_elapsed")

    def force_status(self, op_id: str, status: OperationStatus) -> None:
        """Record a status no state machine path of ours produces (replay must still cope with it)."""
        self.operations[op_id] = self.operations[op_id].model_copy(update={"status": status})

    # -- reading -----------------------------------------------------------------------------------

    def rendered(self, since: int = 0) -> str:
        """The batches from the ``since``-th on, numbered from #1, payloads as written."""
        return render_checkpoints(self.batches[since:], IdLabeler(), verbatim=True)

    # -- applying updates, as the service does --------------------------------------------------------

    def _apply(self, update: OperationUpdate) -> Operation:
        current = self.operations.get(update.id)
        if update.parent_id is not None and update.parent_id not in self.operations:
            raise CheckpointError(f"parent {update.parent_id} of {update.id} is not started")
        status = next_state(update.type, current.status if current else NEW, update.action, op_id=update.id)
        op = current or Operation(
            id=update.id, parent_id=update.parent_id, name=update.name, type=update.type,
            sub_type=update.sub_type, status=status,
        )
        changes: dict[str, Any] = {"status": status}
        action = update.action
        if update.type == OperationType.STEP:
            attempt = (op.step_details.attempt or 0) if op.step_details else 0
            kept = op.step_details.result if op.step_details else None
            if action == OperationAction.START:
                changes["step_details"] = StepDetails(attempt=attempt, result=kept)
            else:  # RETRY keeps the payload as the result: wait_for_condition's state lives there
                changes["step_details"] = StepDetails(
                    attempt=attempt + 1, result=update.payload, error=update.error
                )
        elif update.type == OperationType.CONTEXT and action != OperationAction.START:
            changes["context_details"] = ContextDetails(result=update.payload, error=update.error)
        elif update.type == OperationType.CALLBACK and not self.omit_callback_ids:
            self._callbacks += 1
            changes["callback_details"] = CallbackDetails(callback_id=f"callback-{self._callbacks}")
        elif update.type == OperationType.CHAINED_INVOKE:
            changes["chained_invoke_details"] = ChainedInvokeDetails(error=self.reject_invokes)
            if self.reject_invokes is not None:
                changes["status"] = next_state(update.type, status, "invoke_failed", op_id=update.id)
        return op.model_copy(update=changes)


def root(n: int) -> str:
    """The id of the root context's ``n``-th operation."""
    return child_id(None, n)


def inner(parent: str, n: int) -> str:
    """The id of the ``n``-th operation inside the child context ``parent``."""
    return child_id(parent, n)
