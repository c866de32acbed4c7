# GENERATED FILE -- DO NOT EDIT BY HAND.
# Written by `python -m eventflow.machine.compile`
# from the `transitions` machines of eventflow/machine/definitions.py. To change a machine, edit
# definitions.py and run that command again: tests/test_machine_compiled.py fails while this file differs
# from what the command writes.
"""The operation machines, compiled ahead of time into `TransitionTable`s (see `eventflow.machine.compile`).

`eventflow.machine.table` loads these instead of building `transitions.Machine`s at import.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from eventflow.events.enums import OperationAction as A
from eventflow.events.enums import OperationStatus as S
from eventflow.events.enums import OperationType
from eventflow.machine.frozen import TransitionTable
from eventflow.machine.names import NEW
from eventflow.machine.names import ServiceTrigger as T

__all__ = ["COMPILED_TABLES"]

COMPILED_TABLES: Final[tuple[TransitionTable, ...]] = (
    TransitionTable(
        op_type=OperationType.EXECUTION,
        states=(NEW, S.STARTED, S.SUCCEEDED, S.FAILED, S.TIMED_OUT, S.STOPPED),
        triggers=(A.START, A.SUCCEED, A.FAIL, T.EXECUTION_TIMED_OUT, T.STOPPED),
        initial=NEW,
        terminal=frozenset({S.SUCCEEDED, S.FAILED, S.TIMED_OUT, S.STOPPED}),
        transitions=MappingProxyType(
            {
                (NEW, A.START): S.STARTED,
                (S.STARTED, A.SUCCEED): S.SUCCEEDED,
                (S.STARTED, A.FAIL): S.FAILED,
                (S.STARTED, T.EXECUTION_TIMED_OUT): S.TIMED_OUT,
                (S.STARTED, T.STOPPED): S.STOPPED,
            }
        ),
    ),
    TransitionTable(
        op_type=OperationType.CONTEXT,
        states=(NEW, S.STARTED, S.SUCCEEDED, S.FAILED),
        triggers=(A.START, A.SUCCEED, A.FAIL),
        initial=NEW,
        terminal=frozenset({S.SUCCEEDED, S.FAILED}),
        transitions=MappingProxyType(
            {
                (NEW, A.START): S.STARTED,
                (S.STARTED, A.SUCCEED): S.SUCCEEDED,
                (S.STARTED, A.FAIL): S.FAILED,
            }
        ),
    ),
    TransitionTable(
        op_type=OperationType.STEP,
        states=(NEW, S.STARTED, S.PENDING, S.READY, S.SUCCEEDED, S.FAILED),
        triggers=(A.START, A.SUCCEED, A.FAIL, A.RETRY, T.RETRY_DELAY_ELAPSED),
        initial=NEW,
        terminal=frozenset({S.SUCCEEDED, S.FAILED}),
        transitions=MappingProxyType(
            {
                (NEW, A.START): S.STARTED,
                (S.READY, A.START): S.STARTED,
                (S.STARTED, A.SUCCEED): S.SUCCEEDED,
                (S.READY, A.SUCCEED): S.SUCCEEDED,
                (S.STARTED, A.FAIL): S.FAILED,
                (S.READY, A.FAIL): S.FAILED,
                (S.STARTED, A.RETRY): S.PENDING,
                (S.READY, A.RETRY): S.PENDING,
                (S.PENDING, T.RETRY_DELAY_ELAPSED): S.READY,
            }
        ),
    ),
    TransitionTable(
        op_type=OperationType.WAIT,
        states=(NEW, S.STARTED, S.SUCCEEDED, S.CANCELLED),
        triggers=(A.START, T.TIMER_ELAPSED, A.CANCEL),
        initial=NEW,
        terminal=frozenset({S.SUCCEEDED, S.CANCELLED}),
        transitions=MappingProxyType(
            {
                (NEW, A.START): S.STARTED,
                (S.STARTED, T.TIMER_ELAPSED): S.SUCCEEDED,
                (S.STARTED, A.CANCEL): S.CANCELLED,
            }
        ),
    ),
    TransitionTable(
        op_type=OperationType.CALLBACK,
        states=(NEW, S.STARTED, S.SUCCEEDED, S.FAILED, S.TIMED_OUT),
        triggers=(
            A.START,
            T.CALLBACK_SUCCEEDED,
            T.CALLBACK_FAILED,
            T.CALLBACK_TIMED_OUT,
            T.HEARTBEAT_TIMED_OUT,
        ),
        initial=NEW,
        terminal=frozenset({S.SUCCEEDED, S.FAILED, S.TIMED_OUT}),
        transitions=MappingProxyType(
            {
                (NEW, A.START): S.STARTED,
                (S.STARTED, T.CALLBACK_SUCCEEDED): S.SUCCEEDED,
                (S.STARTED, T.CALLBACK_FAILED): S.FAILED,
                (S.STARTED, T.CALLBACK_TIMED_OUT): S.TIMED_OUT,
                (S.STARTED, T.HEARTBEAT_TIMED_OUT): S.TIMED_OUT,
            }
        ),
    ),
    TransitionTable(
        op_type=OperationType.CHAINED_INVOKE,
        states=(NEW, S.STARTED, S.SUCCEEDED, S.FAILED, S.TIMED_OUT, S.STOPPED),
        triggers=(A.START, T.INVOKE_SUCCEEDED, T.INVOKE_FAILED, T.INVOKE_TIMED_OUT, T.INVOKE_STOPPED),
        initial=NEW,
        terminal=frozenset({S.SUCCEEDED, S.FAILED, S.TIMED_OUT, S.STOPPED}),
        transitions=MappingProxyType(
            {
                (NEW, A.START): S.STARTED,
                (S.STARTED, T.INVOKE_SUCCEEDED): S.SUCCEEDED,
                (S.STARTED, T.INVOKE_FAILED): S.FAILED,
                (S.STARTED, T.INVOKE_TIMED_OUT): S.TIMED_OUT,
                (S.STARTED, T.INVOKE_STOPPED): S.STOPPED,
            }
        ),
    ),
)
"""Every operation type's compiled machine, in `OperationType` order."""
