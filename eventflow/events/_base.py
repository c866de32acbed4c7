"""The base every wire model derives from, and the timestamp type they share.

Why one base: the service speaks PascalCase JSON, Python code wants snake_case attributes, and every model
needs the same two doors — `from_wire` (validate, and turn pydantic's error into eventflow's
`InvalidInputError`) and `to_wire` (a JSON-able dict the service or the official SDK would accept).

Timestamps. The service has two renderings of a `timestamp` shape:

* the Lambda invocation input (`DurableExecutionInvocationInput`) carries epoch **milliseconds** as integers —
  the official SDK's `Operation.from_json_dict` divides them by 1000, and its testing library builds the
  invocation payload with `Operation.to_json_dict`, which writes `int(dt.timestamp() * 1000)`;
* the `lambda` API itself is `rest-json`, whose default timestamp format is `unixtimestamp`: epoch
  **seconds**, possibly fractional (boto3 hands them to us as `datetime` already).

`Timestamp` accepts all of these (numbers above 1e11 are milliseconds: 1e11 seconds is the year 5138, 1e11
milliseconds is March 1973) plus ISO-8601 strings, and stores an aware UTC `datetime`. `to_wire` renders epoch
milliseconds (int), i.e. the invocation-input form, so what we emit is read back correctly both by us and by
the official SDK. Code handing a model to boto3 should use `to_boto_params`, which keeps `datetime` objects
(boto3 reads a bare number as epoch seconds).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, PlainSerializer, PlainValidator, ValidationError
from pydantic.alias_generators import to_pascal

from eventflow.errors import InvalidInputError
from eventflow.events.timestamps import (
    EPOCH_MS_THRESHOLD,
    FAST_MS_MAX,
    FAST_MS_MIN,
    parse_timestamp,
    timestamp_to_epoch_ms,
)
from eventflow.events.validation import describe_validation_error

__all__ = [
    "EPOCH_MS_THRESHOLD",
    "FAST_MS_MAX",
    "FAST_MS_MIN",
    "Timestamp",
    "WireModel",
    "describe_validation_error",
    "parse_timestamp",
    "timestamp_to_epoch_ms",
]

Timestamp = Annotated[
    datetime,
    PlainValidator(parse_timestamp, json_schema_input_type=datetime | int | float | str),
    PlainSerializer(timestamp_to_epoch_ms, return_type=int, when_used="json"),
]
"""A `timestamp` shape member: parsed by `parse_timestamp`, rendered by `to_wire` as epoch milliseconds."""


_DEFAULTS: dict[type[BaseModel], dict[str, Any]] = {}  # per model, for `WireModel.unchecked`
_set = object.__setattr__


class WireModel(BaseModel):
    """Base of every model that crosses the wire.

    Attributes are snake_case; the wire names are their PascalCase aliases (a few service names that are not
    plain PascalCase, like `KMSKeyArn`, carry an explicit alias). Models are frozen because they are records
    of what was sent or received, and ignore unknown keys so a newer service adding fields does not break
    older eventflow versions.
    """

    model_config = ConfigDict(
        alias_generator=to_pascal,
        populate_by_name=True,
        frozen=True,
        extra="ignore",
        # Schemas are built on first use: a Lambda handler touches a handful of the ~80 models, and
        # building all of them at import would dominate its cold start.
        defer_build=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """A JSON-able dict with wire names, unset (None) members left out, timestamps as epoch milliseconds.

        Calls the compiled serializer directly (skipping `model_dump`'s argument handling), because
        `OperationUpdate.to_wire` runs once per checkpointed update. Warnings are off so a
        `model_construct`-ed instance holding a plain string where an enum is declared still renders as
        that string instead of warning on the hot path.
        """
        data: dict[str, Any] = self.__pydantic_serializer__.to_python(
            self, mode="json", by_alias=True, exclude_none=True, warnings=False
        )
        return data

    def to_boto_params(self) -> dict[str, Any]:
        """Wire names and unset members left out, but Python values: ready to splat into a boto3 call.

        Differs from `to_wire` in keeping `datetime` (boto3 reads a bare number as epoch *seconds*) and
        `bytes` (blob payloads) as they are.
        """
        data: dict[str, Any] = self.__pydantic_serializer__.to_python(
            self, mode="python", by_alias=True, exclude_none=True, warnings=False
        )
        return data

    @classmethod
    def unchecked(cls, **values: Any) -> Self:
        """An instance of values the caller has already checked (each has its field's declared type).

        What ``model_construct`` builds (the given fields set, the others at their defaults), in a third
        of its time, and without the model's validator: the core builds its options and errors this way,
        so that a cold process's first wait, callback or failure does not first pay pydantic's schema
        generation (~20 ms). Anything not known to be well-typed goes through the constructor.
        """
        defaults = _DEFAULTS.get(cls)
        if defaults is None:
            defaults = _DEFAULTS[cls] = {
                name: field.get_default(call_default_factory=True) for name, field in cls.model_fields.items()
            }
        built = cls.__new__(cls)
        _set(built, "__dict__", {**defaults, **values})
        _set(built, "__pydantic_fields_set__", set(values))
        _set(built, "__pydantic_extra__", None)
        _set(built, "__pydantic_private__", None)
        return built

    @classmethod
    def from_wire(cls, data: Mapping[str, Any] | str | bytes) -> Self:
        """Validate a wire dict (or its JSON text); bad input raises `InvalidInputError` naming the fields.

        Snake_case keys are accepted too, so `from_wire` reads `to_boto_params` output and hand-written
        fixtures alike.
        """
        try:
            if isinstance(data, str | bytes):
                return cls.model_validate_json(data)
            return cls.model_validate(data)
        except ValidationError as exc:
            raise InvalidInputError(describe_validation_error(cls.__name__, exc)) from exc
