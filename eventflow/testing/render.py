"""Checkpoint sequences as text: one update per line, ids as labels, payloads shown as written."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from eventflow.events.wire import OperationUpdate
from eventflow.testing.labels import IdLabeler


def render_update(update: OperationUpdate, labeler: IdLabeler) -> str:
    parts = [
        f"{update.action.value:<7}",
        f"{labeler.label(update.id, update.parent_id):<8}",
        f"{update.type.value}/{update.sub_type or '-'}",
    ]
    if update.name is not None:
        parts.append(f"{update.name!r}")
    if update.parent_id is not None:
        parts.append(f"parent={labeler.label(update.parent_id)}")
    if update.payload is not None:
        parts.append(f"payload={update.payload}")
    if update.error is not None:
        parts.append(f"error={update.error.error_type}: {update.error.error_message}")
    for options in (update.step_options, update.wait_options, update.callback_options,
                    update.context_options, update.chained_invoke_options):
        if options is not None:
            parts.append(" ".join(f"{k}={v}" for k, v in options.to_wire().items()))
    return " ".join(parts)


def render_updates(batches: Iterable[Sequence[OperationUpdate]], labeler: IdLabeler | None = None) -> str:
    """Every batch as a block of lines, batches separated by ``--``."""
    labeler = labeler or IdLabeler()
    blocks = ["\n".join(render_update(u, labeler) for u in batch) for batch in batches]
    return "\n--\n".join(blocks) + "\n"
