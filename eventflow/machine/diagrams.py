"""Mermaid state diagrams of the operation machines, drawn from their definitions."""

from __future__ import annotations

from eventflow.events.enums import OperationType
from eventflow.machine.definitions import DEFINITIONS
from eventflow.machine.table import TABLES

__all__ = ["to_mermaid"]

_INDENT = "    "


def to_mermaid(op_type: OperationType) -> str:
    """A Mermaid `stateDiagram-v2` of `op_type`'s machine.

    `[*] --> NEW` marks the initial state, one `SOURCE --> DEST: trigger` line follows per transition in
    definition order (a transition with several sources gives one line per source), and every terminal state
    ends with `--> [*]`. The text ends with a newline.
    """
    definition = DEFINITIONS[op_type]
    lines = ["stateDiagram-v2", f"{_INDENT}[*] --> {definition.initial}"]
    for spec in definition.transitions:
        source = spec["source"]
        for state in source if isinstance(source, tuple) else (source,):
            lines.append(f"{_INDENT}{state} --> {spec['dest']}: {spec['trigger']}")
    terminal = TABLES[op_type].terminal
    lines.extend(f"{_INDENT}{state} --> [*]" for state in definition.states if state in terminal)
    return "\n".join(lines) + "\n"
