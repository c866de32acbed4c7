"""A syrupy extension that stores checkpoint sequences and histories as readable text, one line each.

Why: the default amber serializer stores whatever string a test renders, so every test renders by hand and
a change shows up as one escaped blob. This extension takes the objects themselves (checkpoint batches, a
history, or a `DurableRun`), renders them with stable labels and normalized volatile values
(`eventflow.testing.lines`), writes one ``.txt`` file per snapshot under ``__snapshots__/<test file>/``,
and on a mismatch syrupy shows a line-level diff of those files.

Use it through the ``checkpoint_snapshot`` fixture of the pytest plugin, or
``snapshot.use_extension(DurableSnapshotExtension)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from eventflow.events.emitted import EmittedUpdate
from eventflow.events.history import Event
from eventflow.events.wire import OperationUpdate
from eventflow.testing.labels import IdLabeler
from eventflow.testing.lines import render_checkpoints, render_history
from eventflow.testing.normalize import Normalizer

__all__ = ["DurableSnapshotExtension", "Snapshottable", "to_snapshot_text"]


@runtime_checkable
class Snapshottable(Protocol):
    """Anything that renders itself as snapshot text (e.g. `eventflow.testing.harness.DurableRun`)."""

    def snapshot_text(self) -> str: ...


def to_snapshot_text(data: Any) -> str:
    """The text stored for ``data``: a string as is, else checkpoint batches, updates or history events."""
    if isinstance(data, str):
        return data if data.endswith("\n") else data + "\n"
    if isinstance(data, Snapshottable):
        return data.snapshot_text()
    if isinstance(data, Sequence):
        items = list(data)
        if all(isinstance(item, Event) for item in items):
            return render_history(items, IdLabeler(), Normalizer())
        if all(isinstance(item, (OperationUpdate, EmittedUpdate)) for item in items):
            return render_checkpoints([items], IdLabeler(), Normalizer())
        if all(_is_batch(item) for item in items):
            return render_checkpoints(items, IdLabeler(), Normalizer())
    raise TypeError(
        f"cannot snapshot a {type(data).__name__}: pass checkpoint batches, updates, history events, "
        "a DurableRun or a string"
    )


def _is_batch(item: object) -> bool:
    return isinstance(item, Sequence) and all(isinstance(u, (OperationUpdate, EmittedUpdate)) for u in item)


class DurableSnapshotExtension(SingleFileSnapshotExtension):
    """One text file per snapshot, holding the rendered checkpoints or history."""

    _write_mode = WriteMode.TEXT
    file_extension = "txt"

    def serialize(self, data: Any, **kwargs: Any) -> str:
        return to_snapshot_text(data)
