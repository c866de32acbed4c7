"""Turning the ways users spell a duration into whole seconds, the unit the service counts in."""

from __future__ import annotations

import math
from datetime import timedelta

from eventflow.errors import InvalidInputError

DurationLike = int | float | timedelta


def to_seconds(
    duration: DurationLike | None = None,
    *,
    seconds: float = 0,
    minutes: float = 0,
    hours: float = 0,
    days: float = 0,
    what: str = "duration",
    minimum: int = 1,
) -> int:
    """Whole seconds (rounded up) of a duration given positionally or by unit keywords.

    Raises `InvalidInputError` naming ``what`` when the total is below ``minimum`` or is not finite.
    """
    total = float(seconds) + 60 * float(minutes) + 3600 * float(hours) + 86400 * float(days)
    if isinstance(duration, timedelta):
        total += duration.total_seconds()
    elif duration is not None:
        if isinstance(duration, bool) or not isinstance(duration, int | float):
            raise InvalidInputError(f"{what} must be a number of seconds or a timedelta, got {duration!r}")
        total += float(duration)
    if not math.isfinite(total):
        raise InvalidInputError(f"{what} must be finite, got {total}")
    whole = math.ceil(total)
    if whole < minimum:
        raise InvalidInputError(f"{what} must be at least {minimum} s, got {total:g} s")
    return whole
