"""Validating plainly well-typed records in Python, so that a cold start need not load pydantic-core.

Importing pydantic-core costs a cold process ~17-30 ms (its `core_schema` module alone is ~4,000 lines
of typed dicts), more than the rest of a first 3-step invocation. Yet what a first invocation validates
is tiny and, from the Lambda service or botocore, always plainly typed: a dict holding strs, ints, bools,
enum values, lists and datetimes. `validate_exact` validates exactly that against a compiled record
schema (`eventflow.events._records_compiled`) and gives what pydantic-core gives; anything else (a value
of another type that lax validation might coerce, a missing field, a bad timestamp, a list longer than
`MAX_ITEMS`, a schema feature it does not know) raises `Unsure`, and `eventflow.events.records` asks
pydantic-core, which decides and words the error. So this only ever answers when the answer cannot
differ: `tests/test_exact_records.py` checks it against pydantic-core on the bad-input suite's inputs
and their mutations.

It is used only until pydantic-core is loaded (by anything): after that pydantic-core is the faster of
the two.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["MAX_ITEMS", "Unsure", "validate_exact"]

MAX_ITEMS = 64
"""Longer lists go to pydantic-core: past a few dozen operations, loading it pays for itself."""


class Unsure(Exception):  # a verdict, not an error: the caller asks pydantic-core instead
    """The input is not plainly well-typed for the schema: let pydantic-core decide."""


_UNSURE = Unsure()


def validate_exact(schema: Mapping[str, Any], value: Any) -> Any:
    """``value`` validated against ``schema`` as pydantic-core would, if it is plainly well-typed;
    otherwise `Unsure`."""
    validate = _VALIDATORS.get(schema["type"])
    if validate is None:
        raise _UNSURE
    return validate(schema, value)


def _typed_dict(schema: Mapping[str, Any], value: Any) -> dict[str, Any]:
    if type(value) is not dict or schema.get("extra_behavior") != "ignore":
        raise _UNSURE
    record: dict[str, Any] = {}
    for name, field in schema["fields"].items():
        aliases = field.get("validation_alias")
        for key in (name,) if aliases is None else _keys(aliases):
            if key in value:
                record[name] = validate_exact(field["schema"], value[key])
                break
        else:
            if field.get("required", True):
                raise _UNSURE
    return record


def _keys(aliases: Any) -> list[str]:
    """The keys of alias choices that are each one plain key (``[["Id"], ["id"]]``), tried in order."""
    if type(aliases) is not list or not all(type(path) is list and len(path) == 1 for path in aliases):
        raise _UNSURE
    return [path[0] for path in aliases]


def _nullable(schema: Mapping[str, Any], value: Any) -> Any:
    return None if value is None else validate_exact(schema["schema"], value)


def _plain(kind: type) -> Callable[[Mapping[str, Any], Any], Any]:
    def validate(schema: Mapping[str, Any], value: Any) -> Any:
        if type(value) is not kind or len(schema) != 1:  # no constraints but its type
            raise _UNSURE
        return value

    return validate


def _int(schema: Mapping[str, Any], value: Any) -> int:
    if type(value) is not int or not set(schema) <= {"type", "strict", "gt", "lt"}:
        raise _UNSURE
    if ("gt" in schema and not value > schema["gt"]) or ("lt" in schema and not value < schema["lt"]):
        raise _UNSURE
    return value


def _enum(schema: Mapping[str, Any], value: Any) -> Any:
    cls = schema["cls"]
    if schema.get("sub_type") != "str" or set(schema) - {"type", "cls", "members", "sub_type"}:
        raise _UNSURE
    if type(value) is cls:
        return value
    if type(value) is str:
        try:
            member = cls(value)
        except ValueError:
            raise _UNSURE from None
        if member in schema["members"]:
            return member
    raise _UNSURE


def _list(schema: Mapping[str, Any], value: Any) -> list[Any]:
    if type(value) is not list or len(value) > MAX_ITEMS or set(schema) != {"type", "items_schema"}:
        raise _UNSURE
    items = schema["items_schema"]
    return [validate_exact(items, item) for item in value]


def _union(schema: Mapping[str, Any], value: Any) -> Any:
    """The first choice that takes the value as it is. Pydantic-core's smart mode agrees for the unions
    records have (a timestamp: a strict epoch-ms int, else `parse_timestamp`), which the tests check."""
    if set(schema) != {"type", "choices"}:
        raise _UNSURE
    for choice in schema["choices"]:
        member = choice[0] if type(choice) is tuple else choice
        try:
            return validate_exact(member, value)
        except Unsure:
            continue
    raise _UNSURE


def _function_plain(schema: Mapping[str, Any], value: Any) -> Any:
    function = schema["function"]
    if function.get("type") != "no-info" or set(schema) != {"type", "function"}:
        raise _UNSURE
    try:
        return function["function"](value)
    except (ValueError, TypeError, AssertionError):
        raise _UNSURE from None


_VALIDATORS: dict[str, Callable[[Mapping[str, Any], Any], Any]] = {
    "typed-dict": _typed_dict,
    "nullable": _nullable,
    "str": _plain(str),
    "bool": _plain(bool),
    "int": _int,
    "enum": _enum,
    "list": _list,
    "union": _union,
    "function-plain": _function_plain,
}
