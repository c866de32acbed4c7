"""One daemon thread that runs callbacks at given times: the sync front-end's only timer.

The sync driver needs exactly one kind of timer: "if this step's code is still running at T, send the
queued START" (`eventflow.core.scheduler`). A `threading.Timer` per step would start a thread per step;
this thread is started once per process, sleeps on a condition until the earliest deadline (never polls),
and runs each callback in turn. Callbacks must be short or do one checkpoint call: they delay the others.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import threading
import time
from collections.abc import Callable

__all__ = ["call_at"]


class _TimerThread:
    __slots__ = ("_cond", "_heap", "_order", "_pid")

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, Callable[[], object]]] = []
        self._order = itertools.count()  # ties in time run in the order they were asked for
        self._pid: int | None = None  # the process the thread runs in: a forked child starts its own

    def call_at(self, when: float, fn: Callable[[], object]) -> None:
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._order), fn))
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="eventflow-timer", daemon=True).start()
            elif self._heap[0][2] is fn:
                self._cond.notify()  # the new deadline is the earliest: wake the thread to sleep less

    def _run(self) -> None:
        cond, heap = self._cond, self._heap
        while True:
            with cond:
                while True:
                    if not heap:
                        cond.wait()
                        continue
                    delay = heap[0][0] - time.monotonic()
                    if delay <= 0:
                        break
                    cond.wait(delay)
                _, _, fn = heapq.heappop(heap)
            with contextlib.suppress(BaseException):  # a callback records its own failure: keep serving
                fn()


_timer = _TimerThread()


def call_at(when: float, fn: Callable[[], object]) -> None:
    """Run ``fn()`` in the timer thread once `time.monotonic()` reaches ``when``."""
    _timer.call_at(when, fn)
