"""Clocks for the local service: real time, or virtual time that jumps straight to the next timer.

The service never sleeps on a clock itself. With a `VirtualClock` its run loop advances time to the
earliest live timer (a wait's end, a retry delay, a callback timeout, an action scheduled with
`LocalService.at`), so everything fires in exactly its scheduled order and takes no real time. With a
`RealClock` the run loop blocks on a condition variable until the next timer is due or something outside
(an HTTP request, another thread) changes the state.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class RealClock:
    """Wall-clock time; timers fire when they are due."""

    def now(self) -> datetime:
        """The current time: the system's, in UTC."""
        return datetime.now(UTC)


class VirtualClock:
    """Time that only moves when told to (never backwards)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        """The virtual time: where the clock was last moved to."""
        return self._now

    def advance_to(self, when: datetime) -> None:
        """Move the clock forward to ``when`` (never back)."""
        self._now = max(self._now, when)

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self._now += timedelta(seconds=seconds)
