"""Building the updates of one operation: its identity is fixed, only the action and details vary.

Every new operation emits two or three updates, so their construction is on the per-operation path.
Pydantic's validated constructor costs about 2 µs per update; `updater` skips validation when every
value already has the exact type the field declares (as the plans' own values always do), which halves
that, and falls back to the validated constructor for anything else, so a bad value (a custom serdes
returning bytes, a name that is not a string) is still rejected exactly as before.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any

from eventflow.events.enums import OperationAction, OperationType
from eventflow.events.wire import OperationUpdate

Updater = Callable[..., OperationUpdate]


def _exact_types(annotation: Any) -> frozenset[type]:
    """The classes a field accepts as they are: ``str | None`` gives {str, NoneType}, a model itself."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return frozenset(t for t in typing.get_args(annotation) if isinstance(t, type))
    return frozenset({annotation}) if isinstance(annotation, type) else frozenset()


_ACCEPTS: dict[str, frozenset[type]] = {
    name: _exact_types(field.annotation) for name, field in OperationUpdate.model_fields.items()
}
# Every field in declaration order, so that a built update renders its keys in the same order as a
# validated one (dicts keep insertion order, and `dict.update` keeps a key where it is).
_BLANK: dict[str, Any] = dict.fromkeys(OperationUpdate.model_fields)
_new = object.__new__
_set = object.__setattr__


def _exact(values: dict[str, Any]) -> bool:
    """Whether every value already has a type its field declares, so validation could change nothing."""
    return all(type(value) in _ACCEPTS.get(key, ()) for key, value in values.items())


def updater(
    op_id: str, parent_id: str | None, name: str | None, op_type: OperationType, sub_type: str
) -> Updater:
    """``update(action, **fields)`` for the operation with this identity.

    The identity is checked once here; each update then checks only the fields it adds. An update
    whose values all have exact types is built as ``model_construct`` would build it (same
    ``__dict__``, same fields set, keys in declaration order so it renders identically), anything else
    goes through pydantic's validated constructor.
    """
    # A sub-type given as an `OperationSubType` is stored as its plain string, as validation stores it.
    identity: dict[str, Any] = {
        "id": op_id, "parent_id": parent_id, "name": name, "type": op_type,
        "sub_type": None if sub_type is None else str(sub_type),
    }
    template = {**_BLANK, **identity}
    identity_exact = _exact(identity)

    def update(action: OperationAction, **fields: Any) -> OperationUpdate:
        if not (identity_exact and type(action) is OperationAction and (not fields or _exact(fields))):
            return OperationUpdate(**identity, action=action, **fields)
        values = template.copy()
        values["action"] = action
        fields_set = {*identity, "action"}
        if fields:
            values.update(fields)
            fields_set.update(fields)
        built = _new(OperationUpdate)
        _set(built, "__dict__", values)
        _set(built, "__pydantic_fields_set__", fields_set)
        _set(built, "__pydantic_extra__", None)
        _set(built, "__pydantic_private__", None)
        return built

    return update
