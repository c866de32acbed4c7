"""Building the updates of one operation: its identity is fixed, only the action and details vary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventflow.events.enums import OperationAction, OperationType
from eventflow.events.wire import OperationUpdate

Updater = Callable[..., OperationUpdate]


def updater(
    op_id: str, parent_id: str | None, name: str | None, op_type: OperationType, sub_type: str
) -> Updater:
    """``update(action, **fields)`` for the operation with this identity."""

    def update(action: OperationAction, **fields: Any) -> OperationUpdate:
        return OperationUpdate(
            id=op_id, parent_id=parent_id, name=name, type=op_type, sub_type=sub_type, action=action, **fields
        )

    return update
