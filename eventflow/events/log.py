"""The append-only log of one invocation: what the service had recorded, then what this code emitted.

Domain events are small immutable records (`Recorded`, `Emitted`); the log only ever grows, and the
latest snapshot of each operation is derived from it. Auditing an invocation means reading this log.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eventflow.events.wire import Operation, OperationUpdate


@dataclass(frozen=True, slots=True)
class Recorded:
    """The service's snapshot of an operation, as loaded or as returned by a checkpoint."""

    operation: Operation


@dataclass(frozen=True, slots=True)
class Emitted:
    """An update this invocation emitted, in emission order."""

    update: OperationUpdate


LogEntry = Recorded | Emitted


class EventLog:
    """An append-only sequence of `LogEntry`; entries are never replaced or removed."""

    __slots__ = ("_entries",)

    def __init__(self, operations: Iterable[Operation] = ()) -> None:
        self._entries: list[LogEntry] = [Recorded(op) for op in operations]

    def record(self, operation: Operation) -> None:
        self._entries.append(Recorded(operation))

    def emit(self, update: OperationUpdate) -> None:
        self._entries.append(Emitted(update))

    def __iter__(self) -> Iterator[LogEntry]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def emitted(self) -> list[OperationUpdate]:
        """Every update emitted so far, in order."""
        return [e.update for e in self._entries if isinstance(e, Emitted)]

    def recorded(self) -> list[Operation]:
        """Every snapshot recorded so far, in order (an operation may appear more than once)."""
        return [e.operation for e in self._entries if isinstance(e, Recorded)]
