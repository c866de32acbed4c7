"""`EmittedUpdate`: an `OperationUpdate` as eventflow's own core emits it.

Why a second representation of one wire shape: every new operation emits two or three updates, and a
pydantic model instance costs ~1 µs to build even unvalidated (a 13-key ``__dict__`` and three private
slots), about a fifth of a whole step. The core builds its updates from values whose types it already
knows, so it has nothing to validate; an `EmittedUpdate` is a named tuple of exactly
`OperationUpdate`'s fields, in its order, built in a fraction of that and rendered straight to the wire.
Everything outside eventflow that supplies an update (a test, the local service's HTTP route) still
builds a validated `OperationUpdate`, and everything that reads updates (backends, batching, the local
service, the test recorder) reads the two alike: same attribute names, same `to_wire`, and an
`EmittedUpdate` equals the `OperationUpdate` with the same fields. `model()` gives the pydantic model.

`tests/test_wire_models.py` and `tests/test_emitted_updates.py` check the fields against
`OperationUpdate.model_fields` (names, order, wire names), so the two cannot drift apart.

Nothing here imports pydantic or the wire models until an update carries a model (an error, options)
or is compared with or turned into one: a first invocation whose steps succeed renders every update it
sends without them.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, ForwardRef, NamedTuple, Union

from eventflow.events.enums import OperationAction, OperationType

if TYPE_CHECKING:
    from eventflow.events.wire import (
        CallbackOptions,
        ChainedInvokeOptions,
        ContextOptions,
        ErrorObject,
        OperationUpdate,
        StepOptions,
        WaitOptions,
    )

__all__ = ["AnyUpdate", "EmittedUpdate", "as_update"]

_new = object.__new__
_set = object.__setattr__


class EmittedUpdate(NamedTuple):
    """One update the core emitted; read it like an `OperationUpdate` (see the module docstring)."""

    id: str
    parent_id: str | None
    name: str | None
    type: OperationType
    sub_type: str | None
    action: OperationAction
    payload: str | None = None
    error: ErrorObject | None = None
    context_options: ContextOptions | None = None
    step_options: StepOptions | None = None
    wait_options: WaitOptions | None = None
    callback_options: CallbackOptions | None = None
    chained_invoke_options: ChainedInvokeOptions | None = None

    def to_wire(self) -> dict[str, Any]:
        """What `OperationUpdate.to_wire` renders for the same fields: wire names, None left out."""
        wire: dict[str, Any] = {}
        for key, value in zip(_WIRE_NAMES, self, strict=True):
            if value is None:
                continue
            if type(value) is OperationType or type(value) is OperationAction:
                wire[key] = value.value
            elif isinstance(value, str):
                wire[key] = value
            else:  # the error or an options member: a wire model
                wire[key] = _plain_wire(value)
        return wire

    def to_boto_params(self) -> dict[str, Any]:
        """Ready to splat into a boto3 call; an update holds no timestamps or blobs, so this is `to_wire`."""
        return self.to_wire()

    def model(self) -> OperationUpdate:
        """The `OperationUpdate` with these fields, built without re-validating them (they were built
        from values of the declared types), with the same fields set as the validated one would have."""
        from eventflow.events.wire import OperationUpdate

        values = dict(zip(_FIELDS, self, strict=True))
        built = _new(OperationUpdate)
        _set(built, "__dict__", values)
        _set(built, "__pydantic_fields_set__", {key for key, value in values.items() if value is not None}
             | _ALWAYS_SET)
        _set(built, "__pydantic_extra__", None)
        _set(built, "__pydantic_private__", None)
        return built

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EmittedUpdate):
            return tuple.__eq__(self, other)
        if _is_update_model(other):
            return all(value == getattr(other, key) for key, value in zip(_FIELDS, self, strict=True))
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:  # equal to its model, so hashed as its model
        return hash(self.model())

    def __repr__(self) -> str:
        shown = [f"{key}={value!r}" for key, value in zip(_FIELDS, self, strict=True) if value is not None]
        return f"EmittedUpdate({', '.join(shown)})"


def _is_update_model(other: object) -> bool:
    """Whether ``other`` is an `OperationUpdate`; none can exist before the wire models are imported."""
    wire = sys.modules.get("eventflow.events.wire")
    return wire is not None and isinstance(other, wire.OperationUpdate)


def _plain_wire(model: Any) -> dict[str, Any]:
    """``model.to_wire()`` for the members an update carries (its error and options: strings, numbers,
    booleans, lists of strings), by walking the model's fields instead of running pydantic's serializer,
    which a cold process would first have to build (~20 ms). Equal to `to_wire`: see
    tests/test_emitted_updates.py."""
    wire: dict[str, Any] = {}
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if value is not None:
            wire[field.alias or name] = _plain_wire(value) if hasattr(value, "model_fields") else value
    return wire


def _pascal(name: str) -> str:
    """The wire name of an `OperationUpdate` field: its PascalCase alias (none of them is explicit)."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


_FIELDS: tuple[str, ...] = EmittedUpdate._fields
_WIRE_NAMES: tuple[str, ...] = tuple(_pascal(key) for key in _FIELDS)
# The fields a validated update always has set: the identity the core passes for every update.
_ALWAYS_SET = frozenset({"id", "parent_id", "name", "type", "sub_type", "action"})

if TYPE_CHECKING:
    AnyUpdate = OperationUpdate | EmittedUpdate
else:  # the same union, naming the model lazily (a forward reference), so importing this costs nothing;
    # the reference names its module, so tools resolving hints (get_type_hints, pdoc) find the model
    AnyUpdate = Union[ForwardRef("OperationUpdate", module="eventflow.events.wire"), EmittedUpdate]  # noqa: UP007
"""What backends, batching and the test tools take: a validated model, or an update the core emitted."""


def as_update(update: AnyUpdate) -> OperationUpdate:
    """The `OperationUpdate` model of an update, whichever form it came in."""
    return update.model() if type(update) is EmittedUpdate else update  # type: ignore[return-value]
