"""The execution's operations by id: `Operation` models, built from records only when asked for.

A replay validates the invocation input as records (`eventflow.events.records`), because building a
model per recorded operation would cost more than the rest of the replay. The table holds those
records next to the models the service's checkpoint answers bring, and turns a record into its model
(once, cached) the first time anything reads it as a mapping. The replay's hot path reads the entry
as it is through `entry`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Union

from eventflow.events.records import OperationRecord, as_operation

if TYPE_CHECKING:
    from eventflow.events.wire import Operation

    Entry = Operation | OperationRecord
else:  # the same union, naming the model lazily: no wire model is imported until one is read
    Entry = Union["Operation", OperationRecord]


def detail(entry: Entry, details: str, member: str) -> Any:
    """One member of an entry's details, whichever form the entry is in: ``detail(entry, "step_details",
    "result")`` reads ``StepDetails.Result``. Plans read recorded outcomes through it, so that replaying
    an operation builds no model."""
    if type(entry) is dict:
        record = entry.get(details)
        return record.get(member) if record else None
    model = getattr(entry, details)
    return None if model is None else getattr(model, member)


class OperationTable(Mapping[str, "Operation"]):
    """``{operation id: Operation}``; entries may be records until first read."""

    __slots__ = ("entries",)

    def __init__(self, entries: dict[str, Entry] | None = None) -> None:
        # Records or models as stored. `ExecutionState` fills it in its loading loop and reads it directly
        # on the replay's hot path (``entries.get(op_id)``), which takes both forms.
        self.entries: dict[str, Entry] = {} if entries is None else entries

    def __getitem__(self, op_id: str) -> Operation:
        entry = self.entries[op_id]
        if type(entry) is dict:
            entry = self.entries[op_id] = as_operation(entry)
        return entry  # type: ignore[return-value]

    def get(self, op_id: str, default: Any = None) -> Any:
        return self[op_id] if op_id in self.entries else default

    def __contains__(self, op_id: object) -> bool:
        return op_id in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"OperationTable({len(self.entries)} operations)"
