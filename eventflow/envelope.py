"""`EnvelopeSerDes`: the official Python SDK's typed envelope, read and written by eventflow's own code.

Why it exists: the official SDK (3.x) writes every step and child-context result that is not a scalar or a
list of scalars as a tagged envelope, ``{"t": <tag>, "v": <encoded value>}``, recursively. A history it
recorded only replays here if eventflow reads those payloads back into the same Python values, and a
handler migrated mid-execution should keep writing what the old code can still read. So this serdes
follows that wire format exactly (PROTOCOL.md §5):

- ``None``, ``str``, ``int``, ``float``, ``bool`` and lists (of lists) holding only those are plain
  compact JSON;
- everything else is an envelope. Tags: ``n`` None, ``s`` str, ``i`` int, ``f`` float, ``b`` bool,
  ``B`` bytes (base64), ``u`` UUID, ``d`` Decimal (its string), ``dt`` datetime and ``D`` date (ISO 8601,
  a trailing ``Z`` accepted), ``l`` list, ``t`` tuple (a JSON array), ``m`` dict (keys kept as JSON keys,
  values enveloped) and ``br`` for a map/parallel batch result (its ``to_dict()`` form, as a ``m`` body).

The JSON text matches the official writer byte for byte (compact separators, ASCII escapes, NaN allowed)
so payloads are interchangeable in both directions. Nested values that are not envelopes are taken as
they are, as the official reader does, so hand-written or partially typed payloads still read.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from eventflow.errors import SerDesError
from eventflow.serdes import SerDesContext

TYPE_KEY = "t"
VALUE_KEY = "v"

_PLAIN = (str, int, float, bool, type(None))


class BatchResultLike(Protocol):
    """What a batch-result type needs to travel under the ``br`` tag."""

    def to_dict(self) -> dict[str, Any]: ...


def _is_plain(value: Any) -> bool:
    """A scalar, or a list (of lists) of scalars: written as plain JSON, without an envelope."""
    if value is None or isinstance(value, _PLAIN):
        return True
    if isinstance(value, list):
        return all(_is_plain(item) for item in value)
    return False


class EnvelopeSerDes:
    """Reads and writes the official Python SDK's typed envelope (see the module docstring).

    ``batch_result_type`` names the class whose instances encode as ``br`` (through ``to_dict()``) and
    that ``br`` payloads decode into (through the ``from_dict`` classmethod); it defaults to
    `eventflow.batch.BatchResult`, whose dict form is the official SDK's.
    """

    __slots__ = ("_br_from_dict", "_br_type")

    def __init__(self, batch_result_type: type[Any] | None = None) -> None:
        if batch_result_type is None:
            from eventflow.batch import BatchResult

            batch_result_type = BatchResult
        self._br_type: type[Any] = batch_result_type
        self._br_from_dict: Callable[[dict[str, Any]], Any] = batch_result_type.from_dict

    # -- writing --------------------------------------------------------------------------------------

    def serialize(self, value: Any, context: SerDesContext) -> str:
        """``value`` as the official SDK's typed envelope (``{"t": tag, "v": ...}``); scalars as plain
        JSON."""
        if _is_plain(value):
            return json.dumps(value, separators=(",", ":"))
        return json.dumps(self.encode(value), separators=(",", ":"))

    def encode(self, value: Any) -> dict[str, Any]:
        """The envelope of one value, as JSON-ready dicts and lists."""
        # bool before int: bool is an int subclass. Exact-type checks first for the common cases.
        if value is None:
            return {TYPE_KEY: "n", VALUE_KEY: None}
        if isinstance(value, str):
            return {TYPE_KEY: "s", VALUE_KEY: value}
        if isinstance(value, bool):
            return {TYPE_KEY: "b", VALUE_KEY: value}
        if isinstance(value, int):
            return {TYPE_KEY: "i", VALUE_KEY: value}
        if isinstance(value, float):
            return {TYPE_KEY: "f", VALUE_KEY: value}
        if isinstance(value, bytes | bytearray | memoryview):
            return {TYPE_KEY: "B", VALUE_KEY: base64.b64encode(bytes(value)).decode("ascii")}
        if isinstance(value, uuid.UUID):
            return {TYPE_KEY: "u", VALUE_KEY: str(value)}
        if isinstance(value, Decimal):
            return {TYPE_KEY: "d", VALUE_KEY: str(value)}
        if isinstance(value, datetime):  # before date: datetime is a date subclass
            return {TYPE_KEY: "dt", VALUE_KEY: value.isoformat()}
        if isinstance(value, date):
            return {TYPE_KEY: "D", VALUE_KEY: value.isoformat()}
        if isinstance(value, self._br_type):
            return {TYPE_KEY: "br", VALUE_KEY: self._encode_dict(value.to_dict())}
        if isinstance(value, list):
            return {TYPE_KEY: "l", VALUE_KEY: [self.encode(item) for item in value]}
        if isinstance(value, tuple):
            return {TYPE_KEY: "t", VALUE_KEY: [self.encode(item) for item in value]}
        if isinstance(value, dict):
            return {TYPE_KEY: "m", VALUE_KEY: self._encode_dict(value)}
        raise SerDesError(f"the typed envelope has no tag for {type(value).__qualname__}")

    def _encode_dict(self, value: dict[Any, Any]) -> dict[Any, Any]:
        for key in value:
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise SerDesError(
                    f"the typed envelope cannot write a dict key of type {type(key).__qualname__}"
                )
        return {key: self.encode(item) for key, item in value.items()}

    # -- reading --------------------------------------------------------------------------------------

    def deserialize(self, data: str, context: SerDesContext) -> Any:
        """The value an envelope (or plain JSON) stands for."""
        obj = json.loads(data)
        if _is_plain(obj):
            return obj
        if not (isinstance(obj, dict) and TYPE_KEY in obj and VALUE_KEY in obj):
            raise SerDesError('malformed typed envelope: the root has no "t" and "v"')
        return self.decode(obj[TYPE_KEY], obj[VALUE_KEY])

    def decode(self, tag: Any, value: Any) -> Any:
        """The value an envelope ``{"t": tag, "v": value}`` stands for."""
        decoder = _DECODERS.get(tag) if isinstance(tag, str) else None
        if decoder is None:
            raise SerDesError(f"unknown typed-envelope tag {tag!r}")
        try:
            return decoder(self, value)
        except SerDesError:
            raise
        except (TypeError, ValueError, AttributeError, InvalidOperation, binascii.Error) as exc:
            raise SerDesError(f"malformed typed-envelope value for tag {tag!r}: {exc}") from exc

    def _unwrap(self, item: Any) -> Any:
        if isinstance(item, dict) and TYPE_KEY in item and VALUE_KEY in item:
            return self.decode(item[TYPE_KEY], item[VALUE_KEY])
        return item  # not an envelope: taken as it is, like the official reader does

    def _decode_list(self, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise SerDesError(f"a typed-envelope list holds {type(value).__name__}, not an array")
        return [self._unwrap(item) for item in value]

    def _decode_dict(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise SerDesError(f"a typed-envelope map holds {type(value).__name__}, not an object")
        return {key: self._unwrap(item) for key, item in value.items()}

    def _decode_batch(self, value: Any) -> Any:
        body = self._decode_dict(value)
        return self._br_from_dict(body)


def _decode_str(_: EnvelopeSerDes, value: Any) -> str:
    if not isinstance(value, str):
        raise SerDesError(f"tag 's' holds {type(value).__name__}")
    return value


def _decode_int(_: EnvelopeSerDes, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SerDesError(f"tag 'i' holds {type(value).__name__}")
    return int(value)


def _decode_float(_: EnvelopeSerDes, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise SerDesError(f"tag 'f' holds {type(value).__name__}")
    return float(value)


def _decode_bool(_: EnvelopeSerDes, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SerDesError(f"tag 'b' holds {type(value).__name__}")
    return value


def _decode_datetime(_: EnvelopeSerDes, value: Any) -> datetime:
    text: str = value
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


_DECODERS: dict[str, Callable[[EnvelopeSerDes, Any], Any]] = {
    "n": lambda _, value: None,
    "s": _decode_str,
    "i": _decode_int,
    "f": _decode_float,
    "b": _decode_bool,
    "B": lambda _, value: base64.b64decode(value.encode("ascii"), validate=True),
    "u": lambda _, value: uuid.UUID(value),
    "d": lambda _, value: Decimal(value),
    "dt": _decode_datetime,
    "D": lambda _, value: date.fromisoformat(value),
    "l": EnvelopeSerDes._decode_list,
    "t": lambda serdes, value: tuple(serdes._decode_list(value)),
    "m": EnvelopeSerDes._decode_dict,
    "br": EnvelopeSerDes._decode_batch,
}



def is_tag(value: Any) -> bool:
    """Whether ``value`` is a tag of the typed envelope (what `eventflow.serdes.JsonSerDes` looks for)."""
    return isinstance(value, str) and value in _DECODERS


__all__ = ["BatchResultLike", "EnvelopeSerDes", "is_tag"]
