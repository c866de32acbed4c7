"""The floor: the bare work any SDK must do per operation, measured on this machine in this run.

A new operation needs at least its id (blake2b of the raw id), its result encoded (JSON) and a place in
the execution's state (a dict insert). A replayed one needs its id, a dict lookup and its result decoded.
Nothing a real SDK does can be cheaper, so "eventflow within k x of the floor" says how much of
eventflow's time is overhead, independently of how fast this machine happens to be.
"""

from __future__ import annotations

import json
from hashlib import blake2b

from benchmarks.workloads import RepFn, Stopwatch, Timing


def new_floor_rep(n: int) -> RepFn:
    """``n`` times: hash the raw id, encode the result, store it under the id."""

    def rep() -> Timing:
        state: dict[str, str] = {}
        watch = Stopwatch()
        for i in range(n):
            state[blake2b(str(i + 1).encode()).hexdigest()[:64]] = json.dumps(i)
        return watch.stop()

    return rep


def replay_floor_rep(n: int) -> RepFn:
    """``n`` times: hash the raw id, look the recorded result up, decode it."""
    recorded = {blake2b(str(i + 1).encode()).hexdigest()[:64]: json.dumps(i) for i in range(n)}

    def rep() -> Timing:
        total = 0
        watch = Stopwatch()
        for i in range(n):
            total += json.loads(recorded[blake2b(str(i + 1).encode()).hexdigest()[:64]])
        elapsed = watch.stop()
        if total != n * (n - 1) // 2:
            raise AssertionError("replay floor decoded the wrong values")
        return elapsed

    return rep
