"""The status rules derived from the machines, and the two sides that use them, tied together."""

from __future__ import annotations

import pytest

from eventflow.core.state import ExecutionState
from eventflow.events.enums import OperationStatus, OperationType
from eventflow.events.wire import Operation
from eventflow.local import model
from eventflow.machine.names import NEW
from eventflow.machine.rules import WAITING_ON_SERVICE, takes, waiting_on_service
from eventflow.machine.table import TABLES

_EVERY_STATUS = [
    (op_type, status)
    for op_type, table in TABLES.items()
    if op_type is not OperationType.EXECUTION
    for status in table.states
    if status != NEW
]


def test_the_waiting_rule_is_what_the_protocol_says() -> None:
    # PROTOCOL.md §2: waits, callbacks and chained invokes in flight, and steps between attempts.
    expected = {
        (OperationType.WAIT, OperationStatus.STARTED),
        (OperationType.CALLBACK, OperationStatus.STARTED),
        (OperationType.CHAINED_INVOKE, OperationStatus.STARTED),
        (OperationType.STEP, OperationStatus.PENDING),
        (OperationType.STEP, OperationStatus.READY),
    }
    assert expected == WAITING_ON_SERVICE
    assert waiting_on_service("WAIT", "STARTED") and not waiting_on_service("STEP", "STARTED")


def test_the_local_service_uses_the_machines_rule() -> None:
    assert vars(model)["WAITING_ON_SERVICE"] is WAITING_ON_SERVICE  # what `ExecutionRecord.index` reads


@pytest.mark.parametrize(("op_type", "status"), _EVERY_STATUS, ids=str)
def test_the_core_suspends_on_exactly_the_machines_rule(
    op_type: OperationType, status: OperationStatus
) -> None:
    execution = Operation(id="e", type=OperationType.EXECUTION, status=OperationStatus.STARTED)
    op = Operation(id="o", type=op_type, status=status)
    state = ExecutionState("arn", "t", [execution, op])
    assert state.has_pending_work() is ((op_type, status) in WAITING_ON_SERVICE)


def test_takes_asks_the_machine_about_one_transition() -> None:
    from eventflow.machine.names import ServiceTrigger as T

    assert takes("CALLBACK", "STARTED", T.CALLBACK_SUCCEEDED)
    assert takes("CALLBACK", "STARTED", T.HEARTBEAT_TIMED_OUT)
    assert not takes("CALLBACK", "TIMED_OUT", T.CALLBACK_SUCCEEDED)  # an answer after the timeout is refused
    assert takes("CHAINED_INVOKE", "STARTED", T.INVOKE_STOPPED)
    assert not takes("CHAINED_INVOKE", "SUCCEEDED", T.INVOKE_FAILED)
    assert not takes("WAIT", "STARTED", T.CALLBACK_SUCCEEDED)  # another machine's trigger


def test_every_accepted_update_but_retry_has_one_history_event_and_it_folds_back() -> None:
    from eventflow.events.enums import OperationAction
    from eventflow.machine.fold import EVENT_TRIGGERS, UPDATE_EVENTS
    from eventflow.machine.rules import UPDATE_ACTIONS

    for op_type, actions in UPDATE_ACTIONS.items():
        for action in actions - {OperationAction.RETRY}:
            event_type = UPDATE_EVENTS[op_type, action]
            assert EVENT_TRIGGERS[event_type] == (op_type, action)
