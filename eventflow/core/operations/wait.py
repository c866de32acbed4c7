"""WAIT: ask the service for a timer and suspend until it fires.

START carries WaitOptions.WaitSeconds; the service moves the wait to SUCCEEDED when the time is up and
re-invokes the function. Replay of a SUCCEEDED (or CANCELLED) wait returns at once.
"""

from __future__ import annotations

from eventflow.core.effects import Flush, Plan
from eventflow.core.scope import Scope
from eventflow.core.state import ExecutionState
from eventflow.core.updates import updater
from eventflow.errors import SuspendExecution
from eventflow.events.enums import OperationAction, OperationStatus, OperationSubType, OperationType


def wait_plan(state: ExecutionState, scope: Scope, seconds: int, name: str | None) -> Plan[None]:
    """Wait ``seconds`` (a whole number, at least 1: `eventflow.durations.to_seconds` checked it).

    Reads only statuses, never the operation's model: a wait builds nothing a cold process would pay
    pydantic's first schema generation for.
    """
    op_id = scope.next_id()
    entry = state.recorded_entry(op_id, OperationType.WAIT, OperationSubType.WAIT, name, scope.parent_id)
    if entry is None:
        update = updater(op_id, scope.parent_id, name, OperationType.WAIT, OperationSubType.WAIT)
        # Built unvalidated: ``seconds`` is already the int the field declares.
        from eventflow.events.wire import WaitOptions

        options = WaitOptions.unchecked(wait_seconds=seconds)
        state.emit(update(OperationAction.START, wait_options=options))
        yield Flush(state)
    if state.status(op_id) in _DONE:
        return
    raise SuspendExecution(f"wait {name or op_id} for {seconds} s")


_DONE = (OperationStatus.SUCCEEDED, OperationStatus.CANCELLED)
