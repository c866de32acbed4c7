"""Make rendered executions stable across runs: volatile values become numbered placeholders.

Why: a snapshot must not change because an ARN, a request id, a callback id, a checkpoint token or a
wall-clock timestamp did. Each distinct volatile value is replaced by ``<kind-N>``, numbered in order of first
appearance, so equality between two occurrences survives (the same callback id twice reads ``<callback-1>``
twice) while the value itself does not. Timestamps become offsets from the first one seen (``+3s``), which
is stable on the local service's virtual clock. Payloads are decoded (JSON, and the official SDK's typed
envelope) so a snapshot shows values, not escaped strings.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from eventflow.envelope import EnvelopeSerDes
from eventflow.serdes import SerDesContext

__all__ = ["Normalizer", "decode_payload"]

_ARN = re.compile(r"arn:aws[\w-]*:lambda:[^\s\"',)]+")
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_ENVELOPE = EnvelopeSerDes()
_ENVELOPE_CONTEXT = SerDesContext("", "")


def decode_payload(payload: str | None) -> Any:
    """The value a payload string holds: JSON decoded (the SDK's typed envelope unwrapped), else the text."""
    if payload is None:
        return None
    try:
        value = json.loads(payload)
    except ValueError:
        return payload
    if isinstance(value, dict) and set(value) == {"t", "v"}:
        try:
            return _ENVELOPE.deserialize(payload, _ENVELOPE_CONTEXT)
        except Exception:  # not an envelope after all: show the JSON as it is
            return value
    return value


class Normalizer:
    """Replaces volatile values with stable placeholders; one instance per rendered execution."""

    def __init__(self, *, timestamps: bool = True) -> None:
        self.timestamps = timestamps
        self._seen: dict[str, dict[str, str]] = {}
        self._origin: datetime | None = None

    def placeholder(self, kind: str, value: str) -> str:
        """``<kind-N>`` for ``value``: the same value always gets the same number."""
        table = self._seen.setdefault(kind, {})
        if value not in table:
            table[value] = f"<{kind}-{len(table) + 1}>"
        return table[value]

    def register(self, kind: str, value: str | None) -> None:
        """Note a known volatile value (e.g. a callback id from a CallbackStarted event) for `text`."""
        if value:
            self.placeholder(kind, value)

    def time(self, value: datetime | None) -> str:
        """An offset from the first timestamp seen, e.g. ``+0s`` or ``+2.5s``; ``-`` when absent."""
        if value is None:
            return "-"
        if not self.timestamps:
            return "<time>"
        if self._origin is None:
            self._origin = value
        seconds = (value - self._origin).total_seconds()
        shown = f"{seconds:.3f}".rstrip("0").rstrip(".")
        return f"+{shown}s" if seconds >= 0 else f"{shown}s"

    def text(self, value: str) -> str:
        """``value`` with ARNs, UUIDs (request ids) and every registered volatile value replaced."""
        for kind, table in self._seen.items():
            if kind in ("arn", "uuid"):
                continue
            for raw, shown in table.items():
                if raw in value:
                    value = value.replace(raw, shown)
        value = _ARN.sub(lambda m: self.placeholder("arn", m.group(0)), value)
        return _UUID.sub(lambda m: self.placeholder("uuid", m.group(0)), value)

    def payload(self, payload: str | None, limit: int | None = None) -> str:
        """A payload decoded and shown as compact JSON, volatile values replaced, optionally shortened."""
        value = decode_payload(payload)
        shown = value if isinstance(value, str) and payload is not None and not _is_json(payload) else None
        if shown is None:
            shown = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False, default=str)
        shown = self.text(shown)
        if limit is not None and len(shown) > limit:
            shown = shown[: max(0, limit - 3)] + "..."
        return shown


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
