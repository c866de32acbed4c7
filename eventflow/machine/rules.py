"""Rules about statuses derived from the compiled machines, so that no other module writes them by hand.

Every set here is computed once, at import, from `TABLES` (the compiled form of `definitions.py`), and so
loads without `transitions`: the hot path (`core/state.py`) and the local service (`local/model.py`) both
import it, and a change to a machine changes both at once (`tests/test_machine_rules.py` ties them).

- `WAITING_ON_SERVICE`: the (operation type, status) pairs in which an operation keeps a suspended
  execution alive, because its next move is the service's. Derived: a non-terminal status of an operation
  machine other than EXECUTION that either has a service transition out of it (a WAIT's timer, a callback's
  answer, a chained invoke's child, a PENDING step's retry delay) or is entered by one (a step made READY by
  its elapsed retry delay, which the service must invoke the handler to run). The EXECUTION operation is the
  one that waits, not one waited on.
- `takes`: whether an operation in a status can take a trigger now -- what the local service asks before a
  service completion (a callback's answer or timeout, a chained invoke's outcome) instead of testing a status
  by hand.
- `UPDATE_ACTIONS`: the actions the service accepts in an `OperationUpdate`, per operation type: every action
  trigger of the type's machine, less START for the types the service creates itself (`CREATED_BY_SERVICE`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from eventflow.events.enums import OperationAction, OperationStatus, OperationType
from eventflow.machine.frozen import TransitionTable
from eventflow.machine.names import CREATED_BY_SERVICE, ServiceTrigger
from eventflow.machine.table import FLAT_TRANSITIONS, TABLES

__all__ = ["UPDATE_ACTIONS", "WAITING_ON_SERVICE", "WAITING_STATUSES", "takes", "waiting_on_service"]


def _waiting(table: TransitionTable) -> frozenset[OperationStatus]:
    """The statuses of `table`'s machine in which the service moves next (see the module docstring)."""
    waiting: set[OperationStatus] = set()
    for (source, trigger), dest in table.transitions.items():
        if not isinstance(trigger, ServiceTrigger):
            continue
        for state in (source, dest):
            if isinstance(state, OperationStatus) and state not in table.terminal:
                waiting.add(state)
    return frozenset(waiting)


WAITING_STATUSES: Final[Mapping[OperationType, frozenset[OperationStatus]]] = MappingProxyType(
    {op_type: _waiting(table) for op_type, table in TABLES.items() if op_type is not OperationType.EXECUTION}
)
"""Per operation type, the statuses in which it is waiting on the service."""

WAITING_ON_SERVICE: Final[frozenset[tuple[OperationType, OperationStatus]]] = frozenset(
    (op_type, status) for op_type, statuses in WAITING_STATUSES.items() for status in statuses
)
"""(type, status) pairs of operations that keep an execution alive while its handler is suspended."""


def waiting_on_service(op_type: str, status: str) -> bool:
    """Whether an `op_type` operation in `status` is waiting on the service (PROTOCOL.md §2)."""
    return (op_type, status) in WAITING_ON_SERVICE


def _update_actions(table: TransitionTable) -> frozenset[OperationAction]:
    actions = {trigger for trigger in table.triggers if isinstance(trigger, OperationAction)}
    if table.op_type in CREATED_BY_SERVICE:
        actions.discard(OperationAction.START)
    return frozenset(actions)


UPDATE_ACTIONS: Final[Mapping[OperationType, frozenset[OperationAction]]] = MappingProxyType(
    {op_type: _update_actions(table) for op_type, table in TABLES.items()}
)
"""The actions the service accepts in an `OperationUpdate`, per operation type (see the module docstring)."""


def takes(op_type: str, status: str, trigger: str) -> bool:
    """Whether an `op_type` operation in `status` has a `trigger` transition (one dict lookup)."""
    return (op_type, status, trigger) in FLAT_TRANSITIONS
