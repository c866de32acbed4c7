"""The protocol's limits and the service's batch rule, in the one module both sides import.

The SDK side (`core/batching.py`, the plans in `core/operations/`) cuts and checks what it sends against
these numbers; the local service (`local/checkpoint.py`, `local/callbacks.py`, `local/chained_invokes.py`)
refuses what breaks them. The batch rule is written here a second time on purpose, for the service side
(`batch_refusal`): it judges the batch as sent, apart from the SDK's splitter, which cuts ahead by an
estimate; a bug in the splitter is then caught by the service rather than confirmed by it.

Sources, and the one decision taken here: the service refuses a STEP output over 262144 bytes ("payload size
must be less than or equal to 262144 bytes"), and PROTOCOL.md §6 gives 256 KiB per operation payload with no
exception. botocore's `lambda` model documents `OperationUpdate.Payload` as 1 MB for CHAINED_INVOKE -- but
also 1 MB for STEP, which the service's own refusal contradicts; so its figure is not taken for the chained
invoke either, and both sides hold a chained invoke's input and result to the one 256 KiB limit (the SDK
refused over 256 KiB, the local service over 1 MiB, before). The official SDK caps a batch at 250 updates
and 750 KiB (PROTOCOL.md §6).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from eventflow.events.emitted import AnyUpdate
from eventflow.events.enums import OperationAction, OperationType

__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_BATCH_UPDATES",
    "MAX_INVOKE_PAYLOAD_BYTES",
    "MAX_PAYLOAD_BYTES",
    "PAIRABLE_TYPES",
    "batch_refusal",
    "pairs",
]

MAX_PAYLOAD_BYTES: Final = 256 * 1024
"""An operation's payload (a step's result, a context's, a callback's answer), in UTF-8 bytes."""

MAX_INVOKE_PAYLOAD_BYTES: Final = MAX_PAYLOAD_BYTES
"""A chained invoke's input and its target's result, in UTF-8 bytes (the operation limit: see above)."""

MAX_BATCH_UPDATES: Final = 250
"""Updates in one CheckpointDurableExecution call."""

MAX_BATCH_BYTES: Final = 750 * 1024
"""The payloads and errors of one call's updates together, in bytes: the official SDK's cap, which the
SDK side keeps (the service bounds each payload instead)."""

PAIRABLE_TYPES: Final = frozenset({OperationType.STEP, OperationType.CONTEXT})
"""The types whose START may travel in one batch with the completion that follows it."""


_START = OperationAction.START  # a module constant: an Enum attribute look-up costs ~75 ns, per update


def pairs(previous: OperationAction, update: AnyUpdate) -> bool:
    """Whether `update` may follow an update with action `previous` for the same id in one batch."""
    return previous is _START and update.action is not _START and update.type in PAIRABLE_TYPES


def batch_refusal(updates: Sequence[AnyUpdate]) -> str | None:
    """Why the service refuses this batch as a whole, or `None` when it takes it (the service side's rule:
    at most `MAX_BATCH_UPDATES` updates, one update per id, a STEP or CONTEXT START with its completion
    excepted). Not `MAX_BATCH_BYTES`: that is the SDK's own cap; the service bounds each payload
    (`MAX_PAYLOAD_BYTES`) and the request body instead."""
    if len(updates) > MAX_BATCH_UPDATES:
        return f"a batch may carry at most {MAX_BATCH_UPDATES} updates, not {len(updates)}"
    actions: dict[str, OperationAction] = {}
    for update in updates:
        previous = actions.get(update.id)
        if previous is not None and not pairs(previous, update):
            return (
                f"a batch may carry one update per operation id (a STEP or CONTEXT START with its "
                f"completion excepted); {update.id} has two"
            )
        actions[update.id] = update.action
    return None
