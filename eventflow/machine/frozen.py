"""A machine as a frozen lookup table, and the reading of a `transitions.Machine` into one.

`TransitionTable` is what the hot path consults. `compile_machine` is what the generator
(`python -m eventflow.machine.compile`) uses to read the authoritative `transitions.Machine`s back into tables
ahead of time; it only reads attributes of the machine it is given, so this module never imports
`transitions` and loads at cold start without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from eventflow.errors import IllegalTransitionError
from eventflow.events.enums import OperationAction, OperationStatus, OperationType
from eventflow.machine.names import NEW, ServiceTrigger, State, Trigger

if TYPE_CHECKING:
    from transitions import Machine

__all__ = ["TransitionTable", "compile_machine"]


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
    # Built per call, not at import: only the generator and the tests compile machines.
    states_by_name: dict[str, State] = {NEW: NEW, **{status.value: status for status in OperationStatus}}
    triggers_by_name: dict[str, Trigger] = {
        **{action.value: action for action in OperationAction},
        **{trigger.value: trigger for trigger in ServiceTrigger},
    }

    def state_of(name: object) -> State:
        if not isinstance(name, str) or name not in states_by_name:
            raise ValueError(f"{op_type} machine: unknown state {name!r}")
        return states_by_name[name]

    states = tuple(state_of(name) for name in machine.states)
    initial = state_of(machine.initial)
    triggers: list[Trigger] = []
    table: dict[tuple[str, str], State] = {}
    for event_name, event in machine.events.items():
        if event_name not in triggers_by_name:
            raise ValueError(f"{op_type} machine: unknown trigger {event_name!r}")
        trigger = triggers_by_name[event_name]
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
