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

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, PlainSerializer, PlainValidator, ValidationError
from pydantic.alias_generators import to_pascal
from pydantic_core import ErrorDetails

from eventflow.errors import InvalidInputError

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

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)

EPOCH_MS_THRESHOLD = 1e11
"""Epoch numbers above this are milliseconds, at or below it seconds."""
# Integers strictly between these are epoch milliseconds that `parse_timestamp` converts directly (and that
# `eventflow.events.records` keeps as they are). The lower bound is an int: an int compares with an int in
# well under half the time it takes to compare with a float, and this runs for every timestamp loaded.
FAST_MS_MIN = int(EPOCH_MS_THRESHOLD)
FAST_MS_MAX = 4_000_000_000_000  # 2096-10-02: below this, ms / 1000 as a float is exact to the µs


def _from_epoch_number(value: float) -> datetime:
    if not math.isfinite(value):
        raise ValueError(f"timestamp must be a finite epoch number, got {value!r}")
    # timedelta arithmetic is exact for integers and avoids platform limits of datetime.fromtimestamp.
    if abs(value) > EPOCH_MS_THRESHOLD:
        return _EPOCH + timedelta(milliseconds=value)
    return _EPOCH + timedelta(seconds=value)


def parse_timestamp(value: object) -> datetime:
    """Turn any timestamp form the service or a hand-written fixture uses into an aware UTC datetime.

    Accepts a `datetime` (naive means UTC), an epoch number (seconds, or milliseconds when above
    `EPOCH_MS_THRESHOLD`), a numeric string, or an ISO-8601 string.
    """
    if type(value) is int and FAST_MS_MIN < value < FAST_MS_MAX:  # the invocation input's form
        return datetime.fromtimestamp(value / 1000, UTC)  # exact to the ms in this range, and C-fast
    try:
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if isinstance(value, bool):
            raise ValueError("timestamp must not be a boolean")
        if isinstance(value, (int, float)):
            return _from_epoch_number(value)
        if isinstance(value, str):
            text = value.strip()
            try:
                number = float(text)
            except ValueError:
                return parse_timestamp(datetime.fromisoformat(text))
            return _from_epoch_number(int(text) if text.lstrip("+-").isdigit() else number)
    except OverflowError as exc:
        raise ValueError(f"timestamp out of range: {value!r}") from exc
    raise ValueError(
        f"timestamp must be a datetime, an epoch number or an ISO-8601 string, got {type(value).__name__}"
    )


def timestamp_to_epoch_ms(value: datetime) -> int:
    """Render a datetime as integer epoch milliseconds, the invocation-input form (sub-ms truncated)."""
    if value.tzinfo is None:  # only reachable through model_construct
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _ONE_MS


Timestamp = Annotated[
    datetime,
    PlainValidator(parse_timestamp, json_schema_input_type=datetime | int | float | str),
    PlainSerializer(timestamp_to_epoch_ms, return_type=int, when_used="json"),
]
"""A `timestamp` shape member: parsed by `parse_timestamp`, rendered by `to_wire` as epoch milliseconds."""


def _format_loc(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "<root>"


def _format_error(error: ErrorDetails) -> str:
    shown = repr(error.get("input"))
    if len(shown) > 80:
        shown = shown[:77] + "..."
    if error["type"] == "missing":
        return f"{_format_loc(error['loc'])}: field required"
    return f"{_format_loc(error['loc'])}: {error['msg']} (got {shown})"


def describe_validation_error(
    model_name: str, exc: ValidationError, errors: list[ErrorDetails] | None = None
) -> str:
    """One readable line per problem, each naming the wire path (e.g. `Operations[0].StepDetails.Attempt`).

    ``errors`` replaces ``exc.errors()`` when the caller has tidied them (see `eventflow.events.records`).
    """
    if errors is None:
        errors = exc.errors(include_url=False)
    details = "; ".join(_format_error(error) for error in errors)
    plural = "s" if len(errors) != 1 else ""
    return f"invalid {model_name}: {len(errors)} problem{plural}: {details}"


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
