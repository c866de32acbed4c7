"""Cutting the pending updates into checkpoint calls the service accepts (PROTOCOL.md §6).

Updates keep their emission order. A new batch starts when the current one would exceed the official
SDK's caps (250 updates, 750 KiB) or would carry a second update for an id it already holds; the one
exception is a STEP or CONTEXT START followed by its completion, which may travel together.
"""

from __future__ import annotations

from collections.abc import Sequence

from eventflow.events.emitted import AnyUpdate
from eventflow.events.enums import OperationAction
from eventflow.events.limits import MAX_BATCH_BYTES, MAX_BATCH_UPDATES, pairs

__all__ = ["MAX_BATCH_BYTES", "MAX_BATCH_UPDATES", "first_batch_length", "split_batches", "update_size"]

_UPDATE_OVERHEAD = 256  # ids, enums and JSON punctuation of one update, generously


def update_size(update: AnyUpdate) -> int:
    """An upper-bound estimate of an update's size on the wire."""
    size = _UPDATE_OVERHEAD + len(update.payload or "")
    error = update.error
    if error is not None:
        size += len(error.error_message or "") + len(error.error_data or "")
        size += sum(len(line) for line in error.stack_trace or ())
    return size


def first_batch_length(updates: Sequence[AnyUpdate]) -> int:
    """How many of the updates, from the first, one checkpoint call may carry (at least one)."""
    actions: dict[str, OperationAction] = {}
    size = 0
    for count, update in enumerate(updates):
        u_size = update_size(update)
        previous = actions.get(update.id)
        repeats = previous is not None and not pairs(previous, update)
        if count and (repeats or count >= MAX_BATCH_UPDATES or size + u_size > MAX_BATCH_BYTES):
            return count
        actions[update.id] = update.action
        size += u_size
    return len(updates)


def split_batches(updates: Sequence[AnyUpdate]) -> list[list[AnyUpdate]]:
    """The updates cut into batches, in order, each one legal on its own."""
    batches: list[list[AnyUpdate]] = []
    rest = list(updates)
    while rest:
        count = first_batch_length(rest)
        batches.append(rest[:count])
        del rest[:count]
    return batches
