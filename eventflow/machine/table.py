"""The operation state machines as frozen tables, for the hot path.

The tables are compiled ahead of time from the `transitions` machines of `eventflow.machine.definitions` (the
single source of truth) by `python -m eventflow.machine.compile`, which writes them as literals to
`eventflow/machine/_compiled.py`; this module only loads them. So `import eventflow` neither imports
`transitions` nor builds a machine, and nothing here builds a machine per operation or attaches models:
checking a transition is a single dict lookup (`next_state`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from eventflow.errors import IllegalTransitionError, InvalidInputError
from eventflow.events.enums import TERMINAL_STATUSES, OperationType
from eventflow.machine._compiled import COMPILED_TABLES
from eventflow.machine.frozen import TransitionTable, compile_machine
from eventflow.machine.names import NEW, ServiceTrigger, State, Trigger

# The vocabulary (NEW, State, Trigger, ServiceTrigger) is re-exported so hot-path callers need one import;
# TransitionTable and compile_machine because they used to live here.
__all__ = [
    "FLAT_TRANSITIONS",
    "NEW",
    "TABLES",
    "ServiceTrigger",
    "State",
    "TransitionTable",
    "Trigger",
    "compile_machine",
    "is_terminal",
    "next_state",
    "reachable",
]

TABLES: Final[Mapping[OperationType, TransitionTable]] = MappingProxyType(
    {table.op_type: table for table in COMPILED_TABLES}
)
"""Every operation type's compiled machine."""

# The hot path (`next_state`, `ExecutionState.emit`): one plain dict over (op_type, state, trigger) for all
# machines, so `next_state` is one lookup.
FLAT_TRANSITIONS: Final[dict[tuple[str, str, str], State]] = {
    (op_type, state, trigger): dest
    for op_type, table in TABLES.items()
    for (state, trigger), dest in table.transitions.items()
}


def _closure(table: TransitionTable) -> dict[str, frozenset[str]]:
    reach: dict[str, set[str]] = {state: {state} for state in table.states}
    changed = True
    while changed:  # a handful of states per machine: the fixpoint is reached in a few rounds
        changed = False
        for (source, _), dest in table.transitions.items():
            before = len(reach[source])
            reach[source] |= reach[dest]
            changed |= len(reach[source]) != before
    return {state: frozenset(dests) for state, dests in reach.items()}


_REACHABLE: Final[dict[tuple[str, str], frozenset[str]]] = {
    (op_type, state): dests
    for op_type, table in TABLES.items()
    for state, dests in _closure(table).items()
}


def reachable(op_type: str, state: str, reported: str) -> bool:
    """Whether an `op_type` operation in `state` can be in `reported` now: the same state, or one that some
    sequence of updates and service completions leads to. How the service's answers are checked: a status
    the operation's machine cannot reach from where it is (a WAIT reported FAILED, a STEP going from
    SUCCEEDED back to STARTED) means the service and the invocation disagree."""
    dests = _REACHABLE.get((op_type, state))
    return dests is not None and reported in dests


def next_state(op_type: str, state: str, trigger: str, *, op_id: str) -> State:
    """The state `trigger` takes an `op_type` operation in `state` to.

    Raises `IllegalTransitionError` (carrying `op_id`, `op_type`, `state`, `trigger`) when the machine has no
    such transition, and `InvalidInputError` for an unknown operation type. Use `NEW` as the state of an
    operation that is not recorded yet. Arguments may be the enum members or their wire strings.
    """
    try:
        return FLAT_TRANSITIONS[op_type, state, trigger]
    except KeyError:
        if op_type not in TABLES:
            raise InvalidInputError(f"unknown operation type {op_type!r} (operation {op_id!r})") from None
        raise IllegalTransitionError(
            op_id=op_id, op_type=str(op_type), state=str(state), trigger=str(trigger)
        ) from None


def is_terminal(state: str) -> bool:
    """Whether `state` is final (SUCCEEDED, FAILED, CANCELLED, TIMED_OUT or STOPPED) in every machine."""
    return state in TERMINAL_STATUSES
