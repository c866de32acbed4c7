"""Compile the operation machines ahead of time: `python -m eventflow.machine.compile [--check]`.

Builds every `transitions.Machine` from `eventflow.machine.definitions`, reads each back into a
`TransitionTable` (`compile_machine`) and writes them, as literals, to `eventflow/machine/_compiled.py`, which
`eventflow.machine.table` loads. Cold starts thus pay for neither importing `transitions` nor building
machines. With `--check` nothing is written; the exit status is 1 if the committed file is stale.

Running it imports the `eventflow` package, which loads the current `_compiled.py`; a stale file is no
obstacle, but one that no longer imports at all (it names a status or trigger since removed) stops
`import eventflow` and so this command too. Then reduce it to `COMPILED_TABLES = ()` and run the command
again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

from eventflow.codegen import write_or_check
from eventflow.events.enums import OperationAction, OperationStatus, OperationType
from eventflow.machine.definitions import build_machine
from eventflow.machine.frozen import TransitionTable, compile_machine
from eventflow.machine.names import NEW, ServiceTrigger

__all__ = ["COMMAND", "COMPILED_PATH", "compile_tables", "main", "render"]

COMMAND: Final = "python -m eventflow.machine.compile"
"""The command that regenerates `COMPILED_PATH` (quoted in its header and in the staleness test)."""

COMPILED_PATH: Final = Path(__file__).with_name("_compiled.py")
"""The generated module."""

_LINE_LENGTH: Final = 110  # the repository's ruff line length: the output passes `ruff check` as written
_INDENT: Final = "    "

_HEADER: Final = f'''\
# GENERATED FILE -- DO NOT EDIT BY HAND.
# Written by `{COMMAND}`
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

'''


def compile_tables() -> tuple[TransitionTable, ...]:
    """Every operation type's table, compiled from a freshly built `transitions.Machine`, in enum order."""
    return tuple(compile_machine(op_type, build_machine(op_type)) for op_type in OperationType)


def _name(value: object) -> str:
    """The source text of a state or trigger, under the aliases `_HEADER` imports."""
    for enum, alias in ((OperationStatus, "S"), (OperationAction, "A"), (ServiceTrigger, "T")):
        if isinstance(value, enum):
            return f"{alias}.{value.name}"
    if value == NEW:
        return "NEW"
    raise TypeError(f"not a machine state or trigger: {value!r}")


def _collection(opening: str, items: Sequence[str], closing: str, depth: int) -> list[str]:
    """`opening` items `closing` on one line if it fits within the line length, else one item a line."""
    indent = _INDENT * depth
    one_line = f"{indent}{opening}{', '.join(items)}{closing}"
    if len(one_line) <= _LINE_LENGTH:
        return [one_line]
    return [f"{indent}{opening}", *(f"{indent}{_INDENT}{item}," for item in items), f"{indent}{closing}"]


def _table_lines(table: TransitionTable) -> Iterable[str]:
    """The constructor call of one table, at depth 1, keeping every order the compiled table has."""
    yield f"{_INDENT}TransitionTable("
    yield f"{_INDENT * 2}op_type=OperationType.{table.op_type.name},"
    yield from _collection("states=(", [_name(s) for s in table.states], "),", 2)
    yield from _collection("triggers=(", [_name(t) for t in table.triggers], "),", 2)
    yield f"{_INDENT * 2}initial={_name(table.initial)},"
    terminal = [_name(s) for s in table.states if s in table.terminal]  # definition order: stable output
    if terminal:
        yield from _collection("terminal=frozenset({", terminal, "}),", 2)
    else:
        yield f"{_INDENT * 2}terminal=frozenset(),"
    yield f"{_INDENT * 2}transitions=MappingProxyType("
    yield f"{_INDENT * 3}{{"
    for (state, trigger), dest in table.transitions.items():
        yield f"{_INDENT * 4}({_name(state)}, {_name(trigger)}): {_name(dest)},"
    yield f"{_INDENT * 3}}}"
    yield f"{_INDENT * 2}),"
    yield f"{_INDENT}),"


def render() -> str:
    """The full text `_compiled.py` must have: `compile_tables()` as source."""
    lines = ["COMPILED_TABLES: Final[tuple[TransitionTable, ...]] = ("]
    for table in compile_tables():
        lines.extend(_table_lines(table))
    lines.append(")")
    lines.append('"""Every operation type\'s compiled machine, in `OperationType` order."""')
    return _HEADER + "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write `COMPILED_PATH` (or, with `--check`, only compare it); the process exit status."""
    return write_or_check(COMPILED_PATH, render(), COMMAND, argv)


if __name__ == "__main__":
    raise SystemExit(main())
