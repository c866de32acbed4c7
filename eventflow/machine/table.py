"""The operation state machines, compiled once into frozen tables for the hot path.

At import, each `MachineDefinition` is built into a real `transitions.Machine` (the single source of truth)
and that machine is read back -- its states, initial state and every (source, trigger) -> dest of every
event -- into a `TransitionTable`. Nothing here builds a machine per operation or attaches models: checking a
transition is a single dict lookup (`next_state`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from transitions import Machine

from eventflow.errors import IllegalTransitionError, InvalidInputError
from eventflow.events.enums import TERMINAL_STATUSES, OperationAction, OperationStatus, OperationType
from eventflow.machine.definitions import NEW, ServiceTrigger, State, Trigger, build_machine

# NEW, State and Trigger are re-exported so hot-path callers need one import.
__all__ = [
    "NEW",
    "TABLES",
    "State",
    "TransitionTable",
    "Trigger",
    "compile_machine",
    "is_terminal",
    "next_state",
]

_STATES_BY_NAME: Final[Mapping[str, State]] = MappingProxyType(
    {NEW: NEW, **{status.value: status for status in OperationStatus}}
)
_TRIGGERS_BY_NAME: Final[Mapping[str, Trigger]] = MappingProxyType(
    {
        **{action.value: action for action in OperationAction},
        **{trigger.value: trigger for trigger in ServiceTrigger},
    }
)


@dataclass(frozen=True, slots=True)
class TransitionTable:
    """One operation type's machine as a frozen lookup table.

    `transitions` maps every legal `(state, trigger)` to its destination; a pair that is absent is illegal.
    States are `OperationStatus` members or `NEW`, triggers `OperationAction` or `ServiceTrigger` members; all
    are `str`s equal to their wire spelling, so plain strings work as keys too.
    """

    op_type: OperationType
    states: tuple[State, ...]
    triggers: tuple[Trigger, ...]
    initial: State
    terminal: frozenset[State]
    transitions: Mapping[tuple[str, str], State]

    def next_state(self, state: str, trigger: str, *, op_id: str) -> State:
        """The state `trigger` takes an operation in `state` to; `IllegalTransitionError` if it cannot."""
        try:
            return self.transitions[state, trigger]
        except KeyError:
            raise IllegalTransitionError(
                op_id=op_id, op_type=str(self.op_type), state=str(state), trigger=str(trigger)
            ) from None

    def can(self, state: str, trigger: str) -> bool:
        """Whether `trigger` is legal in `state`."""
        return (state, trigger) in self.transitions

    def allowed_triggers(self, state: str) -> tuple[Trigger, ...]:
        """The triggers legal in `state`, in definition order (empty for a terminal or unknown state)."""
        return tuple(trigger for trigger in self.triggers if (state, trigger) in self.transitions)


def compile_machine(op_type: OperationType, machine: Machine) -> TransitionTable:
    """Read a `transitions.Machine` back into a `TransitionTable`.

    Raises `ValueError` if the machine is not a plain deterministic FSM over known names: conditional or
    internal (dest-less) transitions, two destinations for one (state, trigger), a name that is not a status /
    action / service trigger, or a listed state that the initial state cannot reach.
    """

    def state_of(name: object) -> State:
        if not isinstance(name, str) or name not in _STATES_BY_NAME:
            raise ValueError(f"{op_type} machine: unknown state {name!r}")
        return _STATES_BY_NAME[name]

    states = tuple(state_of(name) for name in machine.states)
    initial = state_of(machine.initial)
    triggers: list[Trigger] = []
    table: dict[tuple[str, str], State] = {}
    for event_name, event in machine.events.items():
        if event_name not in _TRIGGERS_BY_NAME:
            raise ValueError(f"{op_type} machine: unknown trigger {event_name!r}")
        trigger = _TRIGGERS_BY_NAME[event_name]
        triggers.append(trigger)
        for source_name, candidates in event.transitions.items():
            source = state_of(source_name)
            if len(candidates) != 1 or candidates[0].conditions or candidates[0].dest is None:
                raise ValueError(
                    f"{op_type} machine: {source} --{trigger}--> must be exactly one unconditional "
                    "transition to a destination"
                )
            table[source, trigger] = state_of(candidates[0].dest)

    reachable = {initial}
    frontier = [initial]
    while frontier:
        here = frontier.pop()
        for (src, _), dest in table.items():
            if src == here and dest not in reachable:
                reachable.add(dest)
                frontier.append(dest)
    if unreachable := [state for state in states if state not in reachable]:
        raise ValueError(f"{op_type} machine lists unreachable states {unreachable}")

    sources = {src for src, _ in table}
    return TransitionTable(
        op_type=op_type,
        states=states,
        triggers=tuple(triggers),
        initial=initial,
        terminal=frozenset(state for state in states if state not in sources),
        transitions=MappingProxyType(table),
    )


TABLES: Final[Mapping[OperationType, TransitionTable]] = MappingProxyType(
    {op_type: compile_machine(op_type, build_machine(op_type)) for op_type in OperationType}
)
"""Every operation type's compiled machine."""

# The hot path: one plain dict over (op_type, state, trigger) for all machines, so `next_state` is one lookup.
_FLAT: Final[dict[tuple[str, str, str], State]] = {
    (op_type, state, trigger): dest
    for op_type, table in TABLES.items()
    for (state, trigger), dest in table.transitions.items()
}


def next_state(op_type: str, state: str, trigger: str, *, op_id: str) -> State:
    """The state `trigger` takes an `op_type` operation in `state` to.

    Raises `IllegalTransitionError` (carrying `op_id`, `op_type`, `state`, `trigger`) when the machine has no
    such transition, and `InvalidInputError` for an unknown operation type. Use `NEW` as the state of an
    operation that is not recorded yet. Arguments may be the enum members or their wire strings.
    """
    try:
        return _FLAT[op_type, state, trigger]
    except KeyError:
        if op_type not in TABLES:
            raise InvalidInputError(f"unknown operation type {op_type!r} (operation {op_id!r})") from None
        raise IllegalTransitionError(
            op_id=op_id, op_type=str(op_type), state=str(state), trigger=str(trigger)
        ) from None


def is_terminal(state: str) -> bool:
    """Whether `state` is final (SUCCEEDED, FAILED, CANCELLED, TIMED_OUT or STOPPED) in every machine."""
    return state in TERMINAL_STATUSES
