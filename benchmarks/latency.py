"""The latency cases (issue 19): which workloads run, and how their figures are derived and printed.

Both SDKs run each workload against a service stub that sleeps L per checkpoint call
(`benchmarks.latency_eventflow`, `benchmarks.latency_official`). Per case and L the report gives the wall
time per workflow (median), checkpoint calls and updates per operation (per item for map and parallel),
wall / (operations x L) for L > 0 (1.0 means one round trip per operation, done serially; a batching,
concurrent SDK gets below it), and official wall / eventflow wall (above 1: eventflow is faster).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.measure import Sample
from benchmarks.workloads import (
    ASYNC_PARALLEL,
    GATHER,
    MAP,
    PARALLEL,
    STEPS,
    WAIT,
    LatencyWorkload,
)

EVENTFLOW = "eventflow"
OFFICIAL = "official"


@dataclass(frozen=True)
class LatencySizes:
    """The latency cases' sizes (a field of `benchmarks.run.Sizes`)."""

    latencies: tuple[float, ...] = (0.0, 0.002, 0.010)
    steps: tuple[int, ...] = (50, 1_000)
    map_items: int = 50
    map_concurrency: int = 10
    io_s: float = 0.010
    big_map_items: int = 1_000
    big_map_concurrency: int = 50
    parallel: int = 10
    async_n: int = 20
    reps: int = 5
    reps_long: int = 3  # for workloads of 1,000 operations (tens of seconds at 10 ms)


def workloads(s: LatencySizes) -> list[LatencyWorkload]:
    """Every latency workload, in the order they run and print."""
    return [
        *(LatencyWorkload(STEPS, n) for n in s.steps),
        LatencyWorkload(MAP, s.map_items, s.map_concurrency),
        LatencyWorkload(MAP, s.map_items, s.map_concurrency, s.io_s),
        LatencyWorkload(MAP, s.big_map_items, s.big_map_concurrency, s.io_s),
        LatencyWorkload(PARALLEL, s.parallel),
        LatencyWorkload(GATHER, s.async_n),
        LatencyWorkload(ASYNC_PARALLEL, s.async_n),
        LatencyWorkload(WAIT, 1),
    ]


def case_name(w: LatencyWorkload) -> str:
    return f"latency_{w.name}"


def note(w: LatencyWorkload) -> str:
    return {
        STEPS: "sequential, default config",
        MAP: f"max_concurrency {w.concurrency}" + (f", {w.io_s * 1e3:g} ms I/O per item" if w.io_s else ""),
        PARALLEL: "one step per branch, default config",
        GATHER: "eventflow async gather of ctx.step; official parallel",
        ASYNC_PARALLEL: "eventflow async ctx.parallel; official parallel",
        WAIT: "suspends at once",
    }[w.kind]


@dataclass(frozen=True)
class Figures:
    """One contender's derived figures in one latency case."""

    wall_s: float | None
    calls_per_op: float | None
    updates_per_op: float | None
    wall_over_nl: float | None  # wall / (operations x L), L > 0 only


def figures(sample: Sample | None, latency: float) -> Figures:
    if sample is None:
        return Figures(None, None, None, None)
    wall = sample.median_s()
    over = wall / (sample.units * latency) if wall is not None and latency > 0 else None
    return Figures(wall, sample.per_unit_count("calls"), sample.per_unit_count("updates"), over)


def derived(samples: Sequence[Sample], latency: float) -> dict[str, Any]:
    """The figures the JSON report carries next to the raw samples of a latency case."""
    by = {s.label: figures(s, latency) for s in samples}
    e, o = by.get(EVENTFLOW), by.get(OFFICIAL)
    ratio = (
        o.wall_s / e.wall_s if e is not None and o is not None and e.wall_s and o.wall_s is not None else None
    )
    return {"ratio_official_over_eventflow": ratio, **{label: vars(f) for label, f in by.items()}}


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def _n(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


COLUMNS = (
    f"{'case':<22}{'L':>6}{'N':>7}  {'ef wall':>11}{'off wall':>11}{'off/ef':>9}"
    f"{'calls/op ef':>13}{'off':>7}{'upd/op ef':>11}{'off':>7}{'wall/NL ef':>12}{'off':>8}"
)


def header() -> str:
    return (
        "\nlatency: both SDKs against a stub sleeping L per checkpoint call; medians per workflow; "
        "off/ef = official wall / eventflow wall; wall/NL = wall / (operations x L)\n"
        + COLUMNS
        + "\n"
        + "-" * len(COLUMNS)
    )


def row(w: LatencyWorkload, latency: float, samples: Sequence[Sample]) -> str:
    by = {s.label: s for s in samples}
    e, o = figures(by.get(EVENTFLOW), latency), figures(by.get(OFFICIAL), latency)
    ratio = derived(samples, latency)["ratio_official_over_eventflow"]
    line = (
        f"{w.name:<22}{latency * 1e3:>4g}ms{w.n:>7,}  {_ms(e.wall_s):>11}{_ms(o.wall_s):>11}"
        f"{'-' if ratio is None else f'{ratio:.2f}x':>9}{_n(e.calls_per_op):>13}{_n(o.calls_per_op):>7}"
        f"{_n(e.updates_per_op):>11}{_n(o.updates_per_op):>7}{_n(e.wall_over_nl):>12}"
        f"{_n(o.wall_over_nl):>8}"
    )
    for sample in samples:
        if sample.error:
            line += f"\n{'':>8}ERROR {sample.label}: {sample.error}"
    return line
