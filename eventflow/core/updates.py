"""Building the updates of one operation: its identity is fixed, only the action and details vary.

Every new operation emits two or three updates, so their construction is on the per-operation path.
Pydantic's validated constructor costs about 2 µs per update; the plans' own values always have the
exact types the fields declare, so `updater` builds an `EmittedUpdate` (a named tuple, ~0.3 µs) for
them, and falls back to the validated `OperationUpdate` for anything else, so a bad value (a custom
serdes returning bytes, a name that is not a string) is still rejected exactly as before.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from functools import cache, partial
from typing import TYPE_CHECKING, Any

from eventflow.events.emitted import AnyUpdate, EmittedUpdate
from eventflow.events.enums import OperationAction, OperationType

if TYPE_CHECKING:
    from eventflow.events.wire import OperationUpdate

Updater = Callable[..., AnyUpdate]


def _exact_types(annotation: Any) -> frozenset[type]:
    """The classes a field accepts as they are: ``str | None`` gives {str, NoneType}, a model itself."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return frozenset(t for t in typing.get_args(annotation) if isinstance(t, type))
    return frozenset({annotation}) if isinstance(annotation, type) else frozenset()


@cache
def _accepts() -> dict[str, frozenset[type]]:
    """Per field, the classes it accepts as they are; read off the model when an update first carries
    more than an identity and a payload (the wire models load then, not at import)."""
    from eventflow.events.wire import OperationUpdate

    return {name: _exact_types(field.annotation) for name, field in OperationUpdate.model_fields.items()}


def _exact(values: dict[str, Any]) -> bool:
    """Whether every value already has a type its field declares, so validation could change nothing."""
    accepts = _accepts()
    return all(type(value) in accepts.get(key, ()) for key, value in values.items())


def updater(
    op_id: str, parent_id: str | None, name: str | None, op_type: OperationType, sub_type: str | None
) -> Updater:
    """``update(action, payload=None, **fields)`` for the operation with this identity.

    The identity is checked once here, so each update checks only what it adds: an `EmittedUpdate` when
    every value has the exact type its field declares, else a validated `OperationUpdate` (which raises
    for a bad value).
    """
    # A sub-type given as an `OperationSubType` is stored as its plain string, as validation stores it.
    if sub_type is not None and type(sub_type) is not str:
        sub_type = str(sub_type)
    exact = (
        type(op_id) is str
        and (parent_id is None or type(parent_id) is str)
        and (name is None or type(name) is str)
        and type(op_type) is OperationType
        and (sub_type is None or type(sub_type) is str)
    )
    return partial(_emitted if exact else _validated, op_id, parent_id, name, op_type, sub_type)


def _emitted(
    op_id: str,
    parent_id: str | None,
    name: str | None,
    op_type: OperationType,
    sub_type: str | None,
    action: OperationAction,
    payload: str | None = None,
    **fields: Any,
) -> AnyUpdate:
    if type(action) is OperationAction and (payload is None or type(payload) is str):
        if not fields:
            # The tuple built directly: the named tuple's own __new__ is a Python call with 13 parameters.
            return _tuple_new(
                EmittedUpdate, (op_id, parent_id, name, op_type, sub_type, action, payload, *_NO_OPTIONS)
            )
        if _exact(fields):
            return EmittedUpdate(op_id, parent_id, name, op_type, sub_type, action, payload, **fields)
    return _validated(op_id, parent_id, name, op_type, sub_type, action, payload, **fields)


def _validated(
    op_id: str,
    parent_id: str | None,
    name: str | None,
    op_type: OperationType,
    sub_type: str | None,
    action: OperationAction,
    payload: str | None = None,
    **fields: Any,
) -> OperationUpdate:
    from eventflow.events.wire import OperationUpdate

    if payload is not None:
        fields["payload"] = payload
    return OperationUpdate(
        id=op_id, parent_id=parent_id, name=name, type=op_type, sub_type=sub_type, action=action, **fields
    )


_tuple_new = tuple.__new__
_NO_OPTIONS = (None,) * (len(EmittedUpdate._fields) - 7)  # error and the five option members
