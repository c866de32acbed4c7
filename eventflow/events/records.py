"""Wire records: the wire models' shapes, validated into plain dicts instead of model instances.

Why: a replay loads every recorded operation of the execution, and creating an `Operation` and its
details model costs ~3-4 µs per operation (most of a replayed step), while pydantic validates the same
shape into dicts in well under 1 µs. So the invocation input is validated as records, exactly as
strictly as the models validate it, and a model is built from a record only when something asks for
it (`eventflow.core.operation_table.OperationTable`).

The record schemas are derived from the models, never written by hand: one definition of every shape.
A record has the models' snake_case attribute names as keys (the wire's PascalCase keys and the
snake_case ones are both accepted, as `WireModel.from_wire` accepts both), optional members that were
absent are absent, and nested models are nested records. Timestamps in the invocation input's own form
(integer epoch milliseconds in the fast range of `eventflow.events._base`) stay integers; anything else
is parsed by `parse_timestamp` as the models parse it. `Operation.model_validate(record)` therefore always
succeeds and gives what `from_wire` of the original input gives.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import CoreSchema, ErrorDetails, SchemaValidator, core_schema

from eventflow.errors import InvalidInputError
from eventflow.events._base import (
    FAST_MS_MAX,
    FAST_MS_MIN,
    Timestamp,
    WireModel,
    describe_validation_error,
    parse_timestamp,
)
from eventflow.events.wire import Operation

__all__ = ["OperationRecord", "as_operation", "record_schema", "record_validator", "validate_record"]

OperationRecord = dict[str, Any]
"""An `Operation` validated as a record (`validate_record(Operation, data)`): snake_case keys, absent
members absent. Backends may answer with these instead of models: they are cheaper to build and hold."""

# An epoch-millisecond integer `parse_timestamp` would take its fast path for: kept as it is.
_EPOCH_MS = core_schema.int_schema(strict=True, gt=FAST_MS_MIN, lt=FAST_MS_MAX)
# How the two members of that union are tagged in an error's location.
_FAST_BRANCH = "epoch-ms"
_TIMESTAMP_BRANCH = "timestamp"


def _field_schema(annotation: Any) -> CoreSchema:
    """The schema a record field has for a model field annotated ``annotation``."""
    if annotation is Timestamp:
        return core_schema.union_schema([(_EPOCH_MS, _FAST_BRANCH), (_TIMESTAMP, _TIMESTAMP_BRANCH)])
    plain = _PLAIN.get(annotation)
    if plain is not None:
        return plain
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return core_schema.enum_schema(annotation, list(annotation), sub_type="str")
    if isinstance(annotation, type) and issubclass(annotation, WireModel):
        return record_schema(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        inner = _field_schema(members[0]) if len(members) == 1 else core_schema.union_schema(
            [_field_schema(member) for member in members]
        )
        optional = len(members) < len(typing.get_args(annotation))
        return core_schema.nullable_schema(inner) if optional else inner
    if origin is list:
        (item,) = typing.get_args(annotation)
        return core_schema.list_schema(_field_schema(item))
    return _adapted(annotation)


# The schemas pydantic gives these types (and string enums, and `Timestamp`'s validator) as model fields,
# written out: pydantic's schema generation costs ~15 ms the first time a process uses it, and a cold
# Lambda sandbox's first invocation validates its input here.
_TIMESTAMP = core_schema.no_info_plain_validator_function(parse_timestamp)
_PLAIN: dict[Any, CoreSchema] = {
    str: core_schema.str_schema(),
    int: core_schema.int_schema(),
    bool: core_schema.bool_schema(),
    float: core_schema.float_schema(),
}


@cache
def _adapted(annotation: Any) -> CoreSchema:
    """Pydantic's own schema for any other annotation, built once per type."""
    return TypeAdapter(annotation).core_schema


@cache
def record_schema(model: type[WireModel]) -> CoreSchema:
    """The schema of ``model``'s records: its fields under their attribute names, read from the wire
    name or the attribute name, as `WireModel.from_wire` reads them."""
    fields: dict[str, core_schema.TypedDictField] = {}
    for name, field in model.model_fields.items():
        alias: str = field.alias or name
        choices: list[list[str | int]] = [[alias], [name]]
        fields[name] = core_schema.typed_dict_field(
            _field_schema(field.annotation),
            required=field.is_required(),
            validation_alias=choices if alias != name else None,
        )
    return core_schema.typed_dict_schema(fields, extra_behavior="ignore")


@cache
def record_validator(model: type[WireModel]) -> SchemaValidator:
    """The validator of ``model``'s records, built on first use (as the models' own schemas are)."""
    return SchemaValidator(record_schema(model))


def validate_record(model: type[WireModel], data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` validated as a record of ``model``; bad input raises `InvalidInputError` naming the fields,
    worded as `WireModel.from_wire` words it."""
    try:
        record: dict[str, Any] = record_validator(model).validate_python(data)
        return record
    except ValidationError as exc:
        raise InvalidInputError(describe_validation_error(model.__name__, exc, _as_models_say(exc))) from exc


def _as_models_say(exc: ValidationError) -> list[ErrorDetails]:
    """The errors as the models report them: a bad timestamp once (not once per union member)."""
    errors: list[ErrorDetails] = []
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        if _FAST_BRANCH in loc:
            continue
        if _TIMESTAMP_BRANCH in loc:
            error["loc"] = tuple(part for part in loc if part != _TIMESTAMP_BRANCH)
        errors.append(error)
    return errors


def as_operation(entry: Operation | OperationRecord) -> Operation:
    """The `Operation` model of an operation held as a model or as a record (validating a record again
    always passes: it was validated against the same shape)."""
    return Operation.model_validate(entry) if type(entry) is dict else entry  # type: ignore[return-value]
