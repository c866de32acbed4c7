"""The record schemas, derived from the wire models: what `eventflow.events.compile` writes out.

A record schema mirrors a model field for field (see `eventflow.events.records` for what a record is).
Deriving one needs the pydantic models, so this module is imported only to compile the schemas the hot
path uses into `eventflow/events/_records_compiled.py` (which needs no pydantic), by the test that keeps
that file current, and by `validate_record` for a model that file does not hold.
"""

from __future__ import annotations

import types
import typing
from enum import StrEnum
from functools import cache
from typing import Any

from pydantic import TypeAdapter
from pydantic_core import CoreSchema, core_schema

from eventflow.events._base import Timestamp, WireModel
from eventflow.events.records import FAST_BRANCH, TIMESTAMP_BRANCH
from eventflow.events.timestamps import FAST_MS_MAX, FAST_MS_MIN, parse_timestamp

__all__ = ["nested_models", "record_schema"]

# An epoch-millisecond integer `parse_timestamp` would take its fast path for: kept as it is.
_EPOCH_MS = core_schema.int_schema(strict=True, gt=FAST_MS_MIN, lt=FAST_MS_MAX)
# The schemas pydantic gives these types (and string enums, and `Timestamp`'s validator) as model fields,
# written out: pydantic's schema generation costs ~15 ms the first time a process uses it.
_TIMESTAMP = core_schema.no_info_plain_validator_function(parse_timestamp)
_PLAIN: dict[Any, CoreSchema] = {
    str: core_schema.str_schema(),
    int: core_schema.int_schema(),
    bool: core_schema.bool_schema(),
    float: core_schema.float_schema(),
}


def _field_schema(annotation: Any) -> CoreSchema:
    """The schema a record field has for a model field annotated ``annotation``."""
    if annotation is Timestamp:
        return core_schema.union_schema([(_EPOCH_MS, FAST_BRANCH), (_TIMESTAMP, TIMESTAMP_BRANCH)])
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


@cache
def _adapted(annotation: Any) -> CoreSchema:
    """Pydantic's own schema for any other annotation, built once per type."""
    return TypeAdapter(annotation).core_schema


@cache
def record_schema(model: type[WireModel]) -> CoreSchema:
    """The schema of ``model``'s records: its fields under their attribute names, read from the wire
    name or the attribute name, as `WireModel.from_wire` reads them. Cached, so a model nested in
    several others has one schema object (the compiler names it once)."""
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


def nested_models(model: type[WireModel]) -> list[type[WireModel]]:
    """``model`` and every wire model its fields hold, each once, innermost first."""
    found: list[type[WireModel]] = []

    def visit(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, WireModel):
            if annotation not in found:
                for field in annotation.model_fields.values():
                    visit(field.annotation)
                found.append(annotation)
            return
        for arg in typing.get_args(annotation):
            visit(arg)

    visit(model)
    return found
