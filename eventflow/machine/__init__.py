"""One finite state machine per operation type, defined once with `transitions`, compiled into frozen tables.

- `definitions`: the machines as data (`DEFINITIONS`), `build_machine` to get a real `transitions.Machine`.
- `table`: the compiled `TABLES` and the hot-path `next_state(op_type, state, trigger, op_id=...)`.
- `fold`: history events and update batches folded through the machines.
- `diagrams`: Mermaid state diagrams.
"""

from __future__ import annotations

from eventflow.machine.definitions import (
    DEFINITIONS,
    NEW,
    UPDATE_ACTIONS,
    MachineDefinition,
    ServiceTrigger,
    State,
    TransitionSpec,
    Trigger,
    build_machine,
)
from eventflow.machine.diagrams import to_mermaid
from eventflow.machine.fold import (
    EVENT_TRIGGERS,
    IMPLICIT_TRANSITIONS,
    NON_TRANSITION_EVENTS,
    RETRY_EVENTS,
    event_trigger,
    fold_events,
    fold_updates,
)
from eventflow.machine.table import TABLES, TransitionTable, compile_machine, is_terminal, next_state

__all__ = [
    "DEFINITIONS",
    "EVENT_TRIGGERS",
    "IMPLICIT_TRANSITIONS",
    "NEW",
    "NON_TRANSITION_EVENTS",
    "RETRY_EVENTS",
    "TABLES",
    "UPDATE_ACTIONS",
    "MachineDefinition",
    "ServiceTrigger",
    "State",
    "TransitionSpec",
    "TransitionTable",
    "Trigger",
    "build_machine",
    "compile_machine",
    "event_trigger",
    "fold_events",
    "fold_updates",
    "is_terminal",
    "next_state",
    "to_mermaid",
]
