"""Timestamps of the wire, without pydantic: parsing every form the service uses, rendering epoch ms.

The rules (why numbers above 1e11 are milliseconds, which form goes where) are in `eventflow.events._base`,
whose `Timestamp` type validates with `parse_timestamp` and renders with `timestamp_to_epoch_ms`. They live
here so that the record schemas (`eventflow.events.records`) and the views use them without importing
pydantic: a cold Lambda sandbox's first invocation validates its input with them.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

__all__ = [
    "EPOCH_MS_THRESHOLD",
    "FAST_MS_MAX",
    "FAST_MS_MIN",
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
