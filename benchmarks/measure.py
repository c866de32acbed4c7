"""How repetitions are run and summarised: interleaved, medians, memory peaks, import times.

Interleaving: repetition r runs every variant of a case once, in alternating order (A B C, then C B A), so
a burst of noise from the machine (another process, a frequency change) lands on all variants alike instead
of on whichever happened to run in that second. Medians, not means, so one such burst does not move them.
"""

from __future__ import annotations

import gc
import os
import statistics
import subprocess
import sys
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.workloads import RepFn


@dataclass
class Variant:
    """One contender in a case: who runs (eventflow, official, floor) and how many units one rep does."""

    label: str
    rep: RepFn
    units: int  # operations (or invocations) one repetition performs; times are reported per unit
    max_reps: int | None = None  # fewer repetitions for a contender that takes minutes (the official runner)


@dataclass
class Sample:
    """The timings of one variant of one case: wall and CPU seconds of each repetition."""

    label: str
    units: int
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    error: str | None = None
    calls: list[int] = field(default_factory=list)  # checkpoint calls per repetition (latency cases)
    updates: list[int] = field(default_factory=list)  # updates those calls carried

    def median_s(self, clock: str = "wall") -> float | None:
        """Median seconds per repetition (per workflow), by ``clock``."""
        values = self.wall if clock == "wall" else self.cpu
        return statistics.median(values) if values else None

    def per_unit_count(self, what: str) -> float | None:
        """Median checkpoint ``"calls"`` or ``"updates"`` per unit, if the stub counted them."""
        values = self.calls if what == "calls" else self.updates
        return statistics.median(values) / self.units if values else None

    def per_unit_us(self, clock: str = "wall") -> float | None:
        """Median microseconds per unit, by ``clock`` ("wall" or "cpu")."""
        values = self.wall if clock == "wall" else self.cpu
        return statistics.median(values) / self.units * 1e6 if values else None

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "units": self.units,
            "wall_s": self.wall,
            "cpu_s": self.cpu,
            "wall_per_unit_us": self.per_unit_us("wall"),
            "cpu_per_unit_us": self.per_unit_us("cpu"),
            "error": self.error,
            **({"calls": self.calls, "updates": self.updates} if self.calls else {}),
        }


def interleaved(variants: Sequence[Variant], reps: int, *, warmup: bool = True) -> list[Sample]:
    """Run each variant ``reps`` times, alternating the order every repetition.

    A variant that raises is recorded with its error and dropped from later repetitions; the others go
    on, so one broken contender does not cost the whole run. ``warmup`` runs each variant once untimed
    first (imports, caches, lazily built validators), which only pays off for short repetitions.
    """
    samples = {v.label: Sample(v.label, v.units) for v in variants}
    live = list(variants)
    if warmup:
        for variant in list(live):
            try:
                variant.rep()
            except Exception as exc:
                samples[variant.label].error = f"{type(exc).__name__}: {exc}"
                live.remove(variant)
    for r in range(reps):
        order = live if r % 2 == 0 else list(reversed(live))
        for variant in order:
            if variant.max_reps is not None and r >= variant.max_reps:
                continue
            gc.collect()
            try:
                timing = variant.rep()
                samples[variant.label].wall.append(timing.wall)
                samples[variant.label].cpu.append(timing.cpu)
                if timing.calls is not None:
                    samples[variant.label].calls.append(timing.calls)
                    samples[variant.label].updates.append(timing.updates or 0)
            except Exception as exc:
                samples[variant.label].error = f"{type(exc).__name__}: {exc}"
                live.remove(variant)
    return [samples[v.label] for v in variants]


def peak_bytes(run: Callable[[], None]) -> int:
    """The peak of memory allocated through Python while ``run`` ran (tracemalloc), above the start."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        run()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - baseline


_IMPORT_PROBE = "import time; start = time.perf_counter(); {statement}; print(time.perf_counter() - start)"


def import_seconds(statements: dict[str, str], reps: int) -> dict[str, list[float]]:
    """Time each import statement in fresh interpreters, ``reps`` times each, interleaved.

    A fresh process each time, because a second import in the same process is a dict lookup. ``-S`` is not
    used (site-packages must be importable); bytecode caches are warm after the first round, as on Lambda
    after deployment, so the first round is discarded.
    """
    results: dict[str, list[float]] = {label: [] for label in statements}
    # Bytecode caches allowed: Lambda imports compiled modules too; without them eventflow (an editable
    # install) would be compiled on every import while pydantic's wheel ships its caches.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for r in range(reps + 1):
        items = list(statements.items())
        for label, statement in items if r % 2 == 0 else reversed(items):
            out = subprocess.run(
                [sys.executable, "-c", _IMPORT_PROBE.format(statement=statement)],
                check=True,
                capture_output=True,
                text=True,
                env=env,
            )
            if r > 0:
                results[label].append(float(out.stdout.strip().splitlines()[-1]))
    return results
