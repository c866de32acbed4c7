"""Wire records: the wire models' shapes, validated into plain dicts instead of model instances.

Why: a replay loads every recorded operation of the execution, and creating an `Operation` and its
details model costs ~3-4 µs per operation (most of a replayed step), while pydantic-core validates the
same shape into dicts in well under 1 µs. So the invocation input is validated as records, exactly as
strictly as the models validate it, and a model is built from a record only when something asks for
it (`eventflow.core.operation_table.OperationTable`).

The record schemas are derived from the models, never written by hand (`eventflow.events.record_schemas`):
one definition of every shape. The ones a first invocation needs (the invocation input, and `Operation`,
which the service's answers carry) are compiled ahead of time into `_records_compiled.py` by `python -m
eventflow.events.compile`, so that validating them imports pydantic-core but not pydantic, nor builds any
model: a cold Lambda sandbox's first invocation pays for neither. `tests/test_records_compiled.py` fails
while that file differs from what the models derive. Until something loads pydantic-core, plainly typed
input is validated against those schemas in Python (`eventflow.events.exact`), with the same result, so
that a first invocation does not load pydantic-core either.

A record has the models' snake_case attribute names as keys (the wire's PascalCase keys and the
snake_case ones are both accepted, as `WireModel.from_wire` accepts both), optional members that were
absent are absent, and nested models are nested records. Timestamps in the invocation input's own form
(integer epoch milliseconds in the fast range of `eventflow.events.timestamps`) stay integers; anything
else is parsed by `parse_timestamp` as the models parse it. `Operation.model_validate(record)` therefore
always succeeds and gives what `from_wire` of the original input gives.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from eventflow.errors import InvalidInputError
from eventflow.events.exact import Unsure, validate_exact
from eventflow.events.validation import describe_validation_error

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails, SchemaValidator, ValidationError

    from eventflow.events._base import WireModel
    from eventflow.events.wire import Operation

__all__ = ["OperationRecord", "as_operation", "record_validator", "validate_record"]

OperationRecord = dict[str, Any]
"""An `Operation` validated as a record (`validate_record("Operation", data)`): snake_case keys, absent
members absent. Backends may answer with these instead of models: they are cheaper to build and hold."""

# How the two members of a timestamp's union are tagged in an error's location (see `record_schemas`).
FAST_BRANCH = "epoch-ms"
TIMESTAMP_BRANCH = "timestamp"


def _name(model: type[WireModel] | str) -> str:
    return model if isinstance(model, str) else model.__name__


_VALIDATORS: dict[str | type[WireModel], SchemaValidator] = {}  # by what callers pass: one lookup


def record_validator(model: type[WireModel] | str) -> SchemaValidator:
    """The validator of ``model``'s records (a model, or the name of one whose schema is compiled), built
    on first use (as the models' own schemas are). A compiled model has one validator, by name or class."""
    validator = _VALIDATORS.get(model)
    if validator is None:
        validator = _VALIDATORS[model] = _build_validator(model)
    return validator


def _build_validator(model: type[WireModel] | str) -> SchemaValidator:
    name = _name(model)
    if name in _compiled():
        if name in _VALIDATORS:  # built already for the model's other key (its class, or its name)
            return _VALIDATORS[name]
        from pydantic_core import SchemaValidator

        validator = _VALIDATORS[name] = SchemaValidator(_compiled()[name])
        return validator
    if isinstance(model, str):
        raise KeyError(f"no compiled record schema for {name!r}: pass the model class")
    from pydantic_core import SchemaValidator

    from eventflow.events.record_schemas import record_schema

    return SchemaValidator(record_schema(model))


@cache
def _compiled() -> Mapping[str, Any]:
    from eventflow.events._records_compiled import SCHEMAS

    return SCHEMAS


def validate_record(model: type[WireModel] | str, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` validated as a record of ``model`` (a model, or the name of one whose schema is compiled:
    ``"Operation"``, ``"DurableExecutionInvocationInput"``); bad input raises `InvalidInputError` naming
    the fields, worded as `WireModel.from_wire` words it."""
    validator = _VALIDATORS.get(model)
    if validator is None:
        if "pydantic_core" not in sys.modules:  # a cold process: plainly typed input needs no pydantic-core
            schema = _compiled().get(_name(model))
            if schema is not None:
                try:
                    exact: dict[str, Any] = validate_exact(schema, data)
                    return exact
                except Unsure:
                    pass
        validator = record_validator(model)
    try:
        record: dict[str, Any] = validator.validate_python(data)
        return record
    except ValueError as exc:  # pydantic-core's ValidationError, imported only when one is raised
        from pydantic_core import ValidationError

        if not isinstance(exc, ValidationError):
            raise
        raise InvalidInputError(describe_validation_error(_name(model), exc, _as_models_say(exc))) from exc


def _as_models_say(exc: ValidationError) -> list[ErrorDetails]:
    """The errors as the models report them: a bad timestamp once (not once per union member)."""
    errors: list[ErrorDetails] = []
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        if FAST_BRANCH in loc:
            continue
        if TIMESTAMP_BRANCH in loc:
            error["loc"] = tuple(part for part in loc if part != TIMESTAMP_BRANCH)
        errors.append(error)
    return errors


def as_operation(entry: Operation | OperationRecord) -> Operation:
    """The `Operation` model of an operation held as a model or as a record (validating a record again
    always passes: it was validated against the same shape)."""
    if type(entry) is dict:
        from eventflow.events.wire import Operation

        return Operation.model_validate(entry)
    return entry  # type: ignore[return-value]
