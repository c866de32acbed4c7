"""How values become the strings the service stores, and back.

Plain compact JSON by default: it is what the official SDK writes for scalars and lists of scalars, and
it reads best in an audit. Any object with ``serialize``/``deserialize`` can take its place per operation.
Every failure is a `SerDesError` naming the operation, because a value that cannot be written or read
back is terminal: retrying the invocation would fail the same way.
"""

from __future__ import annotations

import builtins
import json
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from eventflow.errors import SerDesError

T = TypeVar("T")

_SCALARS = (str, int, float, bool, type(None))


class SerDesContext(NamedTuple):
    """Where a value is being written or read: shown in errors, available to custom serdes.

    A named tuple rather than a frozen dataclass: one is built per step, and a tuple costs half as much.
    """

    operation_id: str
    execution_arn: str


class SerDes(Protocol):
    """Turns values into payload strings and back."""

    def serialize(self, value: Any, context: SerDesContext) -> str:
        """``value`` as the payload string to checkpoint; raise to refuse it."""

    def deserialize(self, data: str, context: SerDesContext) -> Any:
        """The value a payload written by `serialize` stands for."""


# Built once: `json.dumps` with non-default options builds a new encoder on every call.
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


_decode = json.JSONDecoder().decode  # `json.loads` less its argument checks: once per replayed step


def _to_json(value: Any) -> str:
    if type(value) is int:  # JSONEncoder takes its slow general path for ints (~1 µs); same text
        return int.__repr__(value)
    if type(value) is dict and len(value) == 2 and _looks_like_envelope(value):
        from eventflow.envelope import EnvelopeSerDes

        return EnvelopeSerDes().serialize(value, SerDesContext("", ""))  # see `JsonSerDes`
    return _encode(value)


def _looks_like_envelope(value: Any) -> bool:
    """A JSON object of exactly ``{"t": <a tag the official SDK writes>, "v": ...}`` at the root."""
    if type(value) is not dict or len(value) != 2 or "t" not in value or "v" not in value:
        return False
    from eventflow.envelope import is_tag

    return is_tag(value["t"])


def _from_envelope(value: dict[str, Any]) -> Any:
    """The value an official envelope read by the default JSON stands for (see `JsonSerDes`)."""
    from eventflow.envelope import EnvelopeSerDes

    try:
        return EnvelopeSerDes().decode(value["t"], value["v"])
    except SerDesError as exc:
        raise SerDesError(
            f"the payload is the official SDK's typed envelope, and it is malformed ({exc}); read it "
            "with EnvelopeSerDes() to see the value it holds"
        ) from exc


def _read_json(data: str) -> Any:
    value = _decode(data)
    if type(value) is dict and len(value) == 2 and _looks_like_envelope(value):
        return _from_envelope(value)
    return value


class JsonSerDes:
    """Compact JSON (no spaces), byte-compatible with the official SDK for scalars and lists of them.

    Reading never hands back the official SDK's typed envelope as if it were data: a payload that is
    one (``{"t": "m", "v": {...}}``, a known tag at the root, nothing else) is decoded as the official SDK
    reads it, so a history that SDK wrote replays with its values. Writing stays plain JSON, except for a
    dict that would read back as an envelope (exactly the keys ``t`` and ``v``, ``t`` a tag): that one is
    written *as* an envelope, so it reads back as itself here and in the official SDK alike.
    """

    def serialize(self, value: Any, context: SerDesContext) -> str:
        """``value`` as compact JSON."""
        return _to_json(value)

    def deserialize(self, data: str, context: SerDesContext) -> Any:
        """The JSON value (an official SDK envelope is decoded too)."""
        return _read_json(data)


class PydanticSerDes(Generic[T]):
    """Pydantic models (or any type pydantic can validate) in, the same type out.

    ``PydanticSerDes(Order)`` writes an ``Order`` as its compact JSON and reads the payload back into an
    ``Order``; ``PydanticSerDes(list[Order])`` or ``PydanticSerDes(dict[str, Decimal])`` work the same way,
    because everything goes through one `pydantic.TypeAdapter` built once per serdes. A fresh run and a
    replay both return the validated model, since the step returns what `round_trip` read back.
    Validation errors become `SerDesError`: a payload that no longer fits the model is terminal.
    """

    __slots__ = ("_adapter", "type")

    def __init__(self, type_: builtins.type[T] | Any) -> None:  # builtins: the slot ``type`` shadows it
        from pydantic import TypeAdapter

        self.type = type_
        self._adapter: Any = TypeAdapter(type_)

    def serialize(self, value: T, context: SerDesContext) -> str:
        """``value`` as the type's JSON (pydantic's ``dump_json``)."""
        data: bytes = self._adapter.dump_json(value, warnings="error")
        return data.decode()

    def deserialize(self, data: str, context: SerDesContext) -> T:
        """The payload validated into the type; a payload that does not fit raises `SerDesError`."""
        return self._adapter.validate_json(data)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"PydanticSerDes({getattr(self.type, '__qualname__', self.type)!r})"


DEFAULT_SERDES: SerDes = JsonSerDes()


def serialize(serdes: SerDes, value: Any, operation_id: str, execution_arn: str) -> str:
    """``serdes.serialize`` with any failure turned into a `SerDesError` that names the operation."""
    try:
        return serdes.serialize(value, SerDesContext(operation_id, execution_arn))
    except SerDesError:
        raise
    except Exception as exc:
        raise SerDesError(
            f"cannot serialize the result of operation {operation_id[:12]} ({type(value).__name__}): {exc}"
            + fix_for(value)
        ) from exc


def fix_for(value: Any) -> str:
    """A suggestion for a value the default JSON cannot write, or ``""``."""
    kind = type(value)
    if hasattr(kind, "model_dump") and hasattr(kind, "model_validate"):  # a pydantic model
        return (
            f"; pass serdes=PydanticSerDes({kind.__name__}) to write and read it as the model, or return "
            "value.model_dump(mode='json')"
        )
    if kind.__module__ == "datetime" or kind.__name__ in ("UUID", "Decimal"):
        return (
            "; return a JSON value instead (str(value), value.isoformat()), or pass "
            f"serdes=EnvelopeSerDes(), which writes {kind.__name__} values"
        )
    if kind in (set, frozenset, tuple, bytes):
        return (
            f"; return a list (or str) instead, or pass serdes=EnvelopeSerDes(), which writes {kind.__name__}"
        )
    return ""


def deserialize(serdes: SerDes, data: str | None, operation_id: str, execution_arn: str) -> Any:
    """``serdes.deserialize``; a missing payload reads as ``None``.

    The default JSON is read directly: it needs no `SerDesContext`, and every replayed step reads one.
    """
    if data is None:
        return None
    try:
        if serdes is DEFAULT_SERDES:
            return _read_json(data)
        return serdes.deserialize(data, SerDesContext(operation_id, execution_arn))
    except SerDesError:
        raise
    except Exception as exc:
        raise SerDesError(f"cannot deserialize the payload of operation {operation_id[:12]}: {exc}") from exc


def round_trip(serdes: SerDes, value: Any, operation_id: str, execution_arn: str) -> tuple[str, Any]:
    """Serialize ``value`` and read it back, so a fresh run sees exactly what a replay will see.

    A scalar in the default JSON reads back as itself, so that common case neither decodes nor builds
    the `SerDesContext` only a custom serdes (or an error message) needs.
    """
    if serdes is DEFAULT_SERDES and type(value) in _SCALARS:
        try:
            return _to_json(value), value
        except ValueError:
            pass  # NaN or infinity: `serialize` names the operation in its error
    payload = serialize(serdes, value, operation_id, execution_arn)
    return payload, deserialize(serdes, payload, operation_id, execution_arn)
