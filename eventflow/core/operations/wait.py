"""WAIT: ask the service for a timer and suspend until it fires.

START carries WaitOptions.WaitSeconds; the service moves the wait to SUCCEEDED when the time is up and
re-invokes the function. Replay of a SUCCEEDED (or CANCELLED) wait returns at once.
"""

from __future__ import annotations

from eventflow.core.effects import Flush, Plan
from eventflow.core.scope import Scope
from eventflow.core.state import ExecutionState
from eventflow.errors import SuspendExecution
from eventflow.events.enums import OperationAction, OperationStatus, OperationSubType, OperationType
from eventflow.events.wire import OperationUpdate, WaitOptions


def wait_plan(state: ExecutionState, scope: Scope, seconds: int, name: str | None) -> Plan[None]:
    op_id = scope.next_id()
    op = state.recorded(op_id, OperationType.WAIT, OperationSubType.WAIT, name, scope.parent_id)
    if op is None:
        state.emit(
            OperationUpdate(
                id=op_id, parent_id=scope.parent_id, name=name, type=OperationType.WAIT,
                sub_type=OperationSubType.WAIT, action=OperationAction.START,
                wait_options=WaitOptions(wait_seconds=seconds),
            )
        )
        yield Flush(state)
        op = state.operations.get(op_id)
    if op is not None and op.status in (OperationStatus.SUCCEEDED, OperationStatus.CANCELLED):
        return
    raise SuspendExecution(f"wait {name or op_id} for {seconds} s")
