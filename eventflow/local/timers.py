"""`TimerQueue`: every timer of the service in one heap, with O(1) cancel and re-arm.

A timer is identified by a key (e.g. ``("wait", arn, op_id)``). Arming a key again replaces its previous
deadline and cancelling forgets it; both only touch a dict; the stale heap entry is discarded when it
reaches the top (lazy deletion). So a heartbeat that re-arms its timeout a thousand times costs a thousand
O(log n) pushes and no scans. Entries are ordered by (deadline, arming order), which makes firing
deterministic when two timers share an instant.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from datetime import datetime

TimerKey = tuple[str, str, str]
"""(kind, execution ARN or "", operation/callback id or a serial)."""


class TimerQueue:
    """A min-heap of (deadline, serial, key) with lazy deletion."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, TimerKey]] = []
        self._live: dict[TimerKey, int] = {}
        self._serial = itertools.count()

    def arm(self, key: TimerKey, when: datetime) -> None:
        serial = next(self._serial)
        self._live[key] = serial
        heapq.heappush(self._heap, (when, serial, key))

    def cancel(self, key: TimerKey) -> None:
        self._live.pop(key, None)

    def __contains__(self, key: TimerKey) -> bool:
        return key in self._live

    def peek(self, alive: Callable[[TimerKey], bool] = lambda _: True) -> tuple[datetime, TimerKey] | None:
        """The earliest live timer, dropping cancelled, re-armed, or no-longer-``alive`` entries on top."""
        heap, live = self._heap, self._live
        while heap:
            when, serial, key = heap[0]
            if live.get(key) == serial and alive(key):
                return when, key
            heapq.heappop(heap)
            if live.get(key) == serial:
                del live[key]
        return None

    def pop(self, key: TimerKey) -> None:
        """Remove the top entry, which `peek` just returned as ``key``."""
        heapq.heappop(self._heap)
        del self._live[key]

    def __len__(self) -> int:
        return len(self._live)
