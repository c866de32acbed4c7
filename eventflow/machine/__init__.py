"""One finite state machine per operation type, defined once with `transitions`, compiled into frozen tables.

- `names`: the states and triggers (`NEW`, `State`, `ServiceTrigger`, `Trigger`).
- `definitions`: the machines as data (`DEFINITIONS`), `build_machine` to get a real `transitions.Machine`.
- `table`: the `TABLES` compiled ahead of time, the hot-path `next_state(op_type, state, trigger, op_id=...)`.
- `frozen`: `TransitionTable`, and `compile_machine` to read a `transitions.Machine` into one.
- `compile`: `python -m eventflow.machine.compile` rewrites the committed `_compiled.py` from the definitions.
- `fold`: history events and update batches folded through the machines.
- `diagrams`: Mermaid state diagrams.
- `rules`: status rules derived from the compiled tables (`WAITING_ON_SERVICE`), for the core and the service.

The names below are loaded from their submodule on first access (PEP 562), not when this package is. The
hot path imports `eventflow.machine.table` directly, which loads this package first: were this package to
import `definitions` eagerly, every cold start would import `transitions` and build the definitions for
nothing, since only the generator, the local service, the diagrams and the tests use them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from eventflow.machine.definitions import (
        DEFINITIONS,
        MachineDefinition,
        TransitionSpec,
        build_machine,
    )
    from eventflow.machine.diagrams import to_mermaid
    from eventflow.machine.fold import (
        EVENT_TRIGGERS,
        IMPLICIT_TRANSITIONS,
        NON_TRANSITION_EVENTS,
        RETRY_EVENTS,
        UPDATE_EVENTS,
        event_trigger,
        fold_events,
        fold_updates,
    )
    from eventflow.machine.names import NEW, ServiceTrigger, State, Trigger
    from eventflow.machine.rules import UPDATE_ACTIONS, WAITING_ON_SERVICE, takes, waiting_on_service
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
    "UPDATE_EVENTS",
    "WAITING_ON_SERVICE",
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
    "takes",
    "to_mermaid",
    "waiting_on_service",
]

_SUBMODULE_OF: Final[dict[str, str]] = {
    "DEFINITIONS": "definitions",
    "UPDATE_ACTIONS": "rules",
    "MachineDefinition": "definitions",
    "TransitionSpec": "definitions",
    "build_machine": "definitions",
    "to_mermaid": "diagrams",
    "EVENT_TRIGGERS": "fold",
    "IMPLICIT_TRANSITIONS": "fold",
    "NON_TRANSITION_EVENTS": "fold",
    "RETRY_EVENTS": "fold",
    "UPDATE_EVENTS": "fold",
    "event_trigger": "fold",
    "fold_events": "fold",
    "fold_updates": "fold",
    "NEW": "names",
    "ServiceTrigger": "names",
    "State": "names",
    "Trigger": "names",
    "WAITING_ON_SERVICE": "rules",
    "waiting_on_service": "rules",
    "takes": "rules",
    "TABLES": "table",
    "TransitionTable": "table",
    "compile_machine": "table",
    "is_terminal": "table",
    "next_state": "table",
}
"""The submodule each exported name comes from."""

_SUBMODULES: Final = frozenset(
    {"compile", "definitions", "diagrams", "fold", "frozen", "names", "rules", "table"}
)


def __getattr__(name: str) -> object:
    """An exported name (or a submodule) of this package, importing its submodule on first use."""
    if name in _SUBMODULES:
        return import_module(f"{__name__}.{name}")
    submodule = _SUBMODULE_OF.get(name)
    if submodule is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{submodule}"), name)
    globals()[name] = value  # later lookups do not come back here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
