"""``python -m benchmarks``: eventflow and the official SDK on identical workflows, one run, one report.

Prints a table of per-operation medians with the official/eventflow speed-up and eventflow's distance from
the floor, the latency cases (both SDKs against a stub sleeping L per checkpoint call, `benchmarks.latency`)
and the cold start (`benchmarks.coldstart`), PASS/MISS for every performance target (issues 7 and 19), and
writes the whole run as JSON. Sizes: ``--quick`` for a shorter pass, the default for the full run (about
twenty minutes on two cores, most of it spent waiting: for the official SDK, and for the stub's sleeps),
``--smoke`` for the tiny run the test suite does.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks import coldstart, floor, latency
from benchmarks import eventflow_side as ef
from benchmarks import latency_eventflow as ef_latency
from benchmarks.environment import describe, load_average, official_available
from benchmarks.latency import LatencySizes
from benchmarks.measure import Sample, Variant, import_seconds, interleaved, peak_bytes
from benchmarks.workloads import (
    ASYNC_PARALLEL,
    GATHER,
    MAP,
    PARALLEL,
    STEPS,
    LatencyWorkload,
    completed_steps,
    invocation_input,
)

EVENTFLOW = "eventflow"
OFFICIAL = "official"
FLOOR = "floor"
STUB = "stub"  # the floor service's own cost, so that eventflow's can be told from it


@dataclass(frozen=True)
class Sizes:
    """How big each case is and how often it repeats. Three presets: full, quick, smoke."""

    new_steps: tuple[int, ...] = (100, 1_000, 10_000)
    new_steps_eventflow_only: tuple[int, ...] = (100_000,)
    replay: tuple[int, ...] = (100, 1_000, 10_000)
    empty_batch: int = 500  # eventflow invocations per repetition (one is too short to time)
    nested_depth: int = 50
    map_items: int = 1_000
    map_concurrency: int = 10
    parallel_branches: int = 1_000
    e2e: tuple[int, ...] = (1_000, 5_000, 10_000)
    e2e_target: int = 5_000
    e2e_sqlite_eventflow: tuple[int, ...] = (1_000, 5_000, 10_000)
    # The official SQLite store rewrites the execution on every checkpoint: 1,000 steps took 151 s in a
    # trial on the reference machine, so it is measured only where that fits the budget.
    e2e_sqlite_official: tuple[int, ...] = (100,)
    memory_steps: int = 5_000
    linear_base: int = 1_000
    reps: int = 5
    reps_long: int = 3  # for repetitions that take more than a few seconds
    reps_huge: int = 2  # eventflow's 100,000 steps (tens of seconds each)
    official_target_reps: int = 2  # the official runner at the target end-to-end size (~40 s each)
    official_long_reps: int = 1  # the official runner past it, and 1,000 waiting branches (minutes each)
    import_reps: int = 7
    latency: LatencySizes = field(default_factory=LatencySizes)
    coldstart_reps: int = 7


FULL = Sizes()
QUICK = Sizes(
    new_steps=(100, 1_000),
    new_steps_eventflow_only=(10_000,),
    replay=(100, 1_000),
    empty_batch=200,
    map_items=200,
    parallel_branches=200,
    e2e=(200, 1_000),
    e2e_target=1_000,
    e2e_sqlite_eventflow=(1_000,),
    e2e_sqlite_official=(20,),
    memory_steps=500,
    reps=3,
    reps_long=3,
    reps_huge=3,
    official_target_reps=3,
    official_long_reps=3,
    import_reps=3,
    latency=LatencySizes(latencies=(0.0, 0.010), steps=(50, 200), big_map_items=200, reps=3, reps_long=3),
    coldstart_reps=3,
)
SMOKE = Sizes(
    new_steps=(5,),
    new_steps_eventflow_only=(20,),
    replay=(5,),
    empty_batch=3,
    nested_depth=3,
    map_items=6,
    map_concurrency=2,
    parallel_branches=3,
    e2e=(5,),
    e2e_target=5,
    e2e_sqlite_eventflow=(5,),
    e2e_sqlite_official=(3,),
    memory_steps=5,
    linear_base=5,
    reps=1,
    reps_long=1,
    reps_huge=1,
    official_target_reps=1,
    official_long_reps=1,
    import_reps=1,
    latency=LatencySizes(
        latencies=(0.0, 0.001),
        steps=(3,),
        map_items=4,
        map_concurrency=2,
        io_s=0.001,
        big_map_items=6,
        big_map_concurrency=3,
        parallel=3,
        async_n=3,
        reps=1,
        reps_long=1,
    ),
    coldstart_reps=1,
)


@dataclass
class CaseResult:
    """One row of the table: a case at one size, with every variant's timings."""

    case: str
    n: int
    unit: str
    samples: list[Sample]
    note: str | None = None
    latency_s: float | None = None  # the stub's sleep per checkpoint call (latency cases only)

    def per_unit(self, label: str, clock: str = "wall") -> float | None:
        for sample in self.samples:
            if sample.label == label:
                return sample.per_unit_us(clock)
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "n": self.n,
            "unit": self.unit,
            "note": self.note,
            "samples": [s.to_json() for s in self.samples],
            **(
                {"latency_s": self.latency_s, "derived": latency.derived(self.samples, self.latency_s)}
                if self.latency_s is not None
                else {}
            ),
        }


@dataclass
class Target:
    """One performance target (issue 7 or 19): a measured value against a bound."""

    name: str
    value: float | None
    bound: float
    higher_is_better: bool
    detail: str

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "N/A"
        met = self.value >= self.bound if self.higher_is_better else self.value <= self.bound
        return "PASS" if met else "MISS"


@dataclass
class Report:
    sizes: Sizes
    environment: dict[str, Any]
    started: str
    cases: list[CaseResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    memory: dict[str, Any] = field(default_factory=dict)
    imports: dict[str, Any] = field(default_factory=dict)
    coldstart: dict[str, Any] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    seconds: float = 0.0

    def find(self, case: str, n: int | None = None, latency_s: float | None = None) -> CaseResult | None:
        for result in self.cases:
            if result.case == case and (n is None or result.n == n) and result.latency_s == latency_s:
                return result
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "started": self.started,
            "seconds": self.seconds,
            "environment": self.environment,
            "sizes": asdict(self.sizes),
            "cases": [c.to_json() for c in self.cases],
            "skipped": self.skipped,
            "memory": self.memory,
            "imports": self.imports,
            "coldstart": self.coldstart,
            "targets": [{**asdict(t), "verdict": t.verdict} for t in self.targets],
        }


class Bench:
    """Runs the cases of one report, printing each row as it completes (a full run takes minutes)."""

    def __init__(self, sizes: Sizes, official: ModuleType | None, only: set[str] | None) -> None:
        self.sizes = sizes
        self.official = official
        self.only = only
        self.report = Report(sizes, describe(), datetime.now(UTC).isoformat(timespec="seconds"))

    def wanted(self, case: str) -> bool:
        return self.only is None or case in self.only

    def case(
        self, case: str, n: int, unit: str, variants: list[Variant], reps: int, *, note: str | None = None
    ) -> CaseResult:
        started = time.perf_counter()
        samples = interleaved(variants, reps, warmup=n * reps < 5_000)
        result = CaseResult(case, n, unit, samples, note)
        self.report.cases.append(result)
        print(_row(result), f"  [{time.perf_counter() - started:.1f} s]", flush=True)
        return result

    def skip(self, message: str) -> None:
        self.report.skipped.append(message)
        print(f"  skipped: {message}", flush=True)

    # -- cases ------------------------------------------------------------------------------------------

    def run_all(self) -> Report:
        started = time.perf_counter()
        print(_header(), flush=True)
        s, off = self.sizes, self.official
        if self.wanted("new_steps"):
            for n in s.new_steps:
                variants = [
                    Variant(EVENTFLOW, ef.new_steps_rep(n), n),
                    Variant(FLOOR, floor.new_floor_rep(n), n),
                    Variant(STUB, ef.stub_rep(n), n),
                ]
                if off is not None:
                    variants.insert(1, Variant(OFFICIAL, off.new_steps_rep(n), n))
                self.case("new_steps", n, "step", variants, s.reps if n < 10_000 else s.reps_long)
            for n in s.new_steps_eventflow_only:
                variants = [
                    Variant(EVENTFLOW, ef.new_steps_rep(n), n),
                    Variant(FLOOR, floor.new_floor_rep(n), n),
                    Variant(STUB, ef.stub_rep(n), n),
                ]
                self.case("new_steps", n, "step", variants, s.reps_huge, note="eventflow only")
        if self.wanted("replay"):
            for n in s.replay:
                variants = [
                    Variant(EVENTFLOW, ef.replay_rep(n), n),
                    Variant(FLOOR, floor.replay_floor_rep(n), n),
                ]
                if off is not None:
                    variants.insert(1, Variant(OFFICIAL, off.replay_rep(n), n))
                self.case("replay", n, "step", variants, s.reps)
        if self.wanted("empty"):
            variants = [Variant(EVENTFLOW, ef.empty_rep(s.empty_batch), 1)]
            if off is not None:
                variants.append(Variant(OFFICIAL, off.empty_rep(1), 1))
            self.case("empty_invocation", 1, "invocation", variants, max(s.reps, 5))
        if self.wanted("nested"):
            n = s.nested_depth
            variants = [Variant(EVENTFLOW, ef.nested_rep(n), n)]
            if off is not None:
                variants.append(Variant(OFFICIAL, off.nested_rep(n), n))
            self.case("nested_children", n, "level", variants, s.reps)
        if self.wanted("map"):
            self._batches()
        if self.wanted("e2e"):
            self._end_to_end()
        if self.wanted("memory"):
            self._memory()
        if self.wanted("import"):
            self._imports()
        if self.wanted("latency"):
            self._latency()
        if self.wanted("coldstart"):
            self._coldstart()
        self.report.targets = targets(self.report)
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _batches(self) -> None:
        s, off = self.sizes, self.official
        if not ef.has_batches():
            self.skip(
                f"map ({s.map_items} items, max_concurrency {s.map_concurrency}) and parallel "
                f"({s.parallel_branches} waiting branches): not yet available in eventflow (no ctx.map / "
                "ctx.parallel)"
            )
            return
        variants = [Variant(EVENTFLOW, ef.map_rep(s.map_items, s.map_concurrency), s.map_items)]
        if off is not None:
            variants.append(Variant(OFFICIAL, off.map_rep(s.map_items, s.map_concurrency), s.map_items))
        self.case(
            "map", s.map_items, "item", variants, s.reps_long, note=f"max_concurrency {s.map_concurrency}"
        )
        n = s.parallel_branches
        variants = [Variant(EVENTFLOW, ef.parallel_waits_rep(n), n)]
        if off is not None:
            variants.append(Variant(OFFICIAL, off.parallel_waits_rep(n), n, max_reps=s.official_long_reps))
        self.case("parallel_waits", n, "branch", variants, s.reps_long, note="local runners, waits skipped")

    def _end_to_end(self) -> None:
        s, off = self.sizes, self.official
        for n in s.e2e:
            variants = [Variant(EVENTFLOW, ef.e2e_rep(n), n)]
            reps = s.reps if n < s.e2e_target else s.reps_long
            if off is not None:
                official_reps = (
                    reps
                    if n < s.e2e_target
                    else s.official_target_reps
                    if n == s.e2e_target
                    else s.official_long_reps
                )
                variants.append(Variant(OFFICIAL, off.e2e_rep(n), n, max_reps=official_reps))
            self.case(
                "e2e_memory", n, "step", variants, reps, note="LocalService vs DurableFunctionTestRunner"
            )
        for n in s.e2e_sqlite_eventflow:
            self.case("e2e_sqlite", n, "step", [Variant(EVENTFLOW, ef.e2e_rep(n, "sqlite"), n)], s.reps_long)
        if off is not None:
            for n in s.e2e_sqlite_official:
                variants = [
                    Variant(EVENTFLOW, ef.e2e_rep(n, "sqlite"), n),
                    Variant(OFFICIAL, off.e2e_rep(n, "sqlite"), n),
                ]
                self.case("e2e_sqlite", n, "step", variants, s.reps_long, note="official store is O(n^2)")

    def _memory(self) -> None:
        n = self.sizes.memory_steps
        ef.run_new_steps(min(n, 100))  # warm caches so they do not count as per-operation memory
        new = peak_bytes(lambda: ef.run_new_steps(n))
        event = invocation_input(completed_steps(n))
        replay = peak_bytes(lambda: ef.run_replay(event, n))
        self.report.memory = {"steps": n, "eventflow_new_peak": new, "eventflow_replay_peak": replay}
        line = f"memory  {n} steps: eventflow new {new / n:,.0f} B/op, replay {replay / n:,.0f} B/op"
        if self.official is not None:
            official = self.official
            official.run_new_steps(min(n, 10))
            peak = peak_bytes(lambda: official.run_new_steps(n))
            self.report.memory["official_new_peak"] = peak
            line += f"; official new {peak / n:,.0f} B/op"
        print(line, flush=True)

    def _latency(self) -> None:
        """Every latency workload at every L, both SDKs interleaved within each (workload, L)."""
        s = self.sizes.latency
        official = None
        if self.official is not None:
            from benchmarks import latency_official

            official = latency_official
        print(latency.header(), flush=True)
        for w in latency.workloads(s):
            for lat in s.latencies:
                variants = [Variant(EVENTFLOW, ef_latency.latency_rep(w, lat), w.n)]
                if official is not None:
                    variants.append(Variant(OFFICIAL, official.latency_rep(w, lat), w.n))
                self._latency_case(w, lat, variants, s.reps_long if w.n >= 1_000 else s.reps)

    def _latency_case(self, w: LatencyWorkload, lat: float, variants: list[Variant], reps: int) -> None:
        started = time.perf_counter()
        # A warm-up repetition (imports, lazily built validators) pays off only where one is short.
        samples = interleaved(variants, reps, warmup=w.n <= 100)
        result = CaseResult(latency.case_name(w), w.n, w.unit, samples, latency.note(w), latency_s=lat)
        self.report.cases.append(result)
        print(latency.row(w, lat, samples), f"  [{time.perf_counter() - started:.1f} s]", flush=True)

    def _coldstart(self) -> None:
        sdks = [EVENTFLOW] + ([OFFICIAL] if self.official is not None else [])
        self.report.coldstart = coldstart.measure(sdks, self.sizes.coldstart_reps)
        print("\n" + coldstart.describe(self.report.coldstart), flush=True)

    def _imports(self) -> None:
        statements = {
            "pydantic": "import pydantic",
            "pydantic.BaseModel": "import pydantic; pydantic.BaseModel",
            "eventflow": "import eventflow",
        }
        if self.official is not None:
            statements["official"] = "import aws_durable_execution_sdk_python"
        times = import_seconds(statements, self.sizes.import_reps)
        medians = {label: statistics.median(values) for label, values in times.items()}
        self.report.imports = {"seconds": times, "median_s": medians}
        print("import  " + ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in medians.items()), flush=True)


# -- targets ------------------------------------------------------------------------------------------


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def targets(report: Report) -> list[Target]:
    """Every target of issues 7 and 19, from this run's numbers (ratios are from one run, never across
    runs)."""
    s = report.sizes
    found: list[Target] = []
    new_n = max(s.new_steps)
    new = report.find("new_steps", new_n)
    replay_n = max(s.replay)
    replay = report.find("replay", replay_n)
    empty = report.find("empty_invocation")

    def per(result: CaseResult | None, label: str, clock: str = "wall") -> float | None:
        return result.per_unit(label, clock) if result else None

    # SDK against SDK: wall time (what a caller waits). eventflow against the floor and against itself:
    # CPU time (both single-threaded; CPU time hardly moves with other load on the machine).
    found.append(
        Target(
            f"new step >= 50x faster than official ({new_n} steps)",
            _ratio(per(new, OFFICIAL), per(new, EVENTFLOW)),
            50,
            True,
            "official / eventflow, wall; CPU: "
            + _x(_ratio(per(new, OFFICIAL, "cpu"), per(new, EVENTFLOW, "cpu"))),
        )
    )
    # The floor service is not free (it builds the operations it echoes); the issue asks for a zero-latency
    # service, so its cost, measured in the same run, is taken off eventflow's before comparing.
    own = _minus(per(new, EVENTFLOW, "cpu"), per(new, STUB, "cpu"))
    found.append(
        Target(
            f"new step within 4x of floor ({new_n} steps)",
            _ratio(own, per(new, FLOOR, "cpu")),
            4,
            False,
            f"(eventflow - service stub) / floor, CPU: ({_us(per(new, EVENTFLOW, 'cpu'))} - "
            f"{_us(per(new, STUB, 'cpu'))}) / {_us(per(new, FLOOR, 'cpu'))}; "
            f"stub included: {_x(_ratio(per(new, EVENTFLOW, 'cpu'), per(new, FLOOR, 'cpu')))}",
        )
    )
    found.append(
        Target(
            f"replay >= 5x faster than official ({replay_n} steps)",
            _ratio(per(replay, OFFICIAL), per(replay, EVENTFLOW)),
            5,
            True,
            "official / eventflow, wall; CPU: "
            + _x(_ratio(per(replay, OFFICIAL, "cpu"), per(replay, EVENTFLOW, "cpu"))),
        )
    )
    found.append(
        Target(
            f"replay within 3x of floor ({replay_n} steps)",
            _ratio(per(replay, EVENTFLOW, "cpu"), per(replay, FLOOR, "cpu")),
            3,
            False,
            "eventflow / floor, CPU",
        )
    )
    found.append(
        Target(
            "empty invocation >= 100x faster than official",
            _ratio(per(empty, OFFICIAL), per(empty, EVENTFLOW)),
            100,
            True,
            "official / eventflow, wall; CPU: "
            + _x(_ratio(per(empty, OFFICIAL, "cpu"), per(empty, EVENTFLOW, "cpu"))),
        )
    )
    big = max((*s.new_steps, *s.new_steps_eventflow_only))
    large, base = report.find("new_steps", big), report.find("new_steps", s.linear_base)
    found.append(
        Target(
            f"linear: per-step cost at {big} within 1.5x of that at {s.linear_base}",
            _ratio(per(large, EVENTFLOW, "cpu"), per(base, EVENTFLOW, "cpu")),
            1.5,
            False,
            f"eventflow large / base, CPU; wall: {_x(_ratio(per(large, EVENTFLOW), per(base, EVENTFLOW)))}",
        )
    )
    e2e = report.find("e2e_memory", s.e2e_target)
    found.append(
        Target(
            f"local end to end >= 50x faster than the official testing runner ({s.e2e_target} steps)",
            _ratio(per(e2e, OFFICIAL), per(e2e, EVENTFLOW)),
            50,
            True,
            "official runner / LocalService, wall; CPU: "
            + _x(_ratio(per(e2e, OFFICIAL, "cpu"), per(e2e, EVENTFLOW, "cpu"))),
        )
    )
    memory = report.memory
    found.append(
        Target(
            "memory <= 2 KiB per completed operation",
            memory["eventflow_new_peak"] / memory["steps"] if memory else None,
            2048,
            False,
            "tracemalloc peak bytes / steps, new steps on the floor service",
        )
    )
    # `import eventflow` <= 1.5x `import pydantic` is replaced by the cold-start target (issue 19).
    return found + latency_targets(report)


def latency_targets(report: Report) -> list[Target]:
    """Every target of issue 19, read at the largest L of the run (10 ms at full size)."""
    s = report.sizes.latency
    lat = max(s.latencies)
    at = f"L = {lat * 1e3:g} ms"
    found: list[Target] = []

    def get(w: LatencyWorkload) -> tuple[dict[str, Any], str]:
        result = report.find(latency.case_name(w), w.n, lat)
        return (latency.derived(result.samples, lat) if result else {}), f"{w.name} {w.n}"

    def fig(d: dict[str, Any], label: str, key: str) -> float | None:
        value = d.get(label, {}).get(key)
        return None if value is None else float(value)

    def faster(w: LatencyWorkload, bound: float) -> None:
        d, name = get(w)
        found.append(
            Target(
                f"{name}: >= {bound:g}x faster than official ({at})",
                d.get("ratio_official_over_eventflow"),
                bound,
                True,
                "official wall / eventflow wall, medians",
            )
        )

    for n in s.steps:
        w = LatencyWorkload(STEPS, n)
        faster(w, 1.3)
        d, name = get(w)
        found.append(
            Target(
                f"{name}: eventflow wall <= 1.15 x N x L ({at})",
                fig(d, EVENTFLOW, "wall_over_nl"),
                1.15,
                False,
                f"eventflow wall / (N x L); official: {_x(fig(d, OFFICIAL, 'wall_over_nl'))}",
            )
        )
    batches = [
        LatencyWorkload(MAP, s.map_items, s.map_concurrency),
        LatencyWorkload(MAP, s.map_items, s.map_concurrency, s.io_s),
        LatencyWorkload(PARALLEL, s.parallel),
    ]
    for w in batches:
        faster(w, 1.5)
        d, name = get(w)
        ef_calls, off_calls = fig(d, EVENTFLOW, "calls_per_op"), fig(d, OFFICIAL, "calls_per_op")
        found.append(
            Target(
                f"{name}: checkpoint calls per item <= official's ({at})",
                _ratio(ef_calls, off_calls),
                1.0,
                False,
                f"eventflow / official calls per item: {_n2(ef_calls)} / {_n2(off_calls)}",
            )
        )
    for kind in (GATHER, ASYNC_PARALLEL):
        faster(LatencyWorkload(kind, s.async_n), 1.5)
    medians = report.coldstart.get("median", {})
    total = {sdk: m["total_s"] for sdk, m in medians.items()}
    found.append(
        Target(
            "cold start (import, boto3 client, first 3-step invocation) >= 1.5x faster than official",
            _ratio(total.get(OFFICIAL), total.get(EVENTFLOW)),
            1.5,
            True,
            f"official / eventflow total, medians of {report.coldstart.get('reps', 0)} fresh processes each",
        )
    )
    return found


def _n2(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


# -- printing -----------------------------------------------------------------------------------------------


def _us(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 10_000:
        return f"{value / 1000:,.1f} ms"
    return f"{value:,.2f} us" if value < 100 else f"{value:,.0f} us"


def _x(value: float | None) -> str:
    return "-" if value is None else (f"{value:,.1f}x" if value < 100 else f"{value:,.0f}x")


_COLUMNS = (
    f"{'case':<17}{'N':>8}  {'per':<11}{'eventflow':>11}{'official':>11}{'speed-up':>10}"
    f"{'(CPU)':>8}{'ef CPU':>10}{'floor CPU':>11}{'ef/floor':>9}"
)


def _header() -> str:
    return (
        "wall-clock medians per unit; speed-up = official / eventflow (wall, then CPU); "
        "eventflow against the floor in CPU time\n" + _COLUMNS + "\n" + "-" * len(_COLUMNS)
    )


def _row(result: CaseResult) -> str:
    e, o = result.per_unit(EVENTFLOW), result.per_unit(OFFICIAL)
    e_cpu, o_cpu, f_cpu = (result.per_unit(label, "cpu") for label in (EVENTFLOW, OFFICIAL, FLOOR))
    line = (
        f"{result.case:<17}{result.n:>8,}  {result.unit:<11}{_us(e):>11}{_us(o):>11}"
        f"{_x(_ratio(o, e)):>10}{_x(_ratio(o_cpu, e_cpu)):>8}{_us(e_cpu):>10}{_us(f_cpu):>11}"
        f"{_x(_ratio(e_cpu, f_cpu)):>9}"
    )
    stub = result.per_unit(STUB, "cpu")
    notes = [result.note] if result.note else []
    if stub is not None:
        notes.append(f"service stub {_us(stub)} CPU")
    if notes:
        line += f"  ({'; '.join(notes)})"
    for sample in result.samples:
        if sample.error:
            line += f"\n{'':>27}ERROR {sample.label}: {sample.error}"
    return line


def print_targets(report: Report) -> None:
    print("\ntargets")
    for target in report.targets:
        value = "-" if target.value is None else f"{target.value:,.2f}"
        op = ">=" if target.higher_is_better else "<="
        print(f"  {target.verdict:<5} {target.name}: {value} ({target.detail}; needs {op} {target.bound:g})")


# -- command line -------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller sizes and fewer repetitions (~1 min)")
    size.add_argument(
        "--smoke", action="store_true", help="tiny sizes: proves the harness works, measures nothing"
    )
    parser.add_argument(
        "--json", type=Path, default=Path("benchmark-report.json"), help="where to write the report"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="CASE",
        choices=[
            "new_steps",
            "replay",
            "empty",
            "nested",
            "map",
            "e2e",
            "memory",
            "import",
            "latency",
            "coldstart",
        ],
        help="run only these cases (repeatable)",
    )
    parser.add_argument("--no-official", action="store_true", help="run the eventflow side only")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, *, sizes: Sizes | None = None) -> Report:
    args = parse_args(argv)
    chosen = sizes or (SMOKE if args.smoke else QUICK if args.quick else FULL)
    official: ModuleType | None = None
    if not args.no_official:
        if official_available():
            from benchmarks import official_side

            official = official_side
        else:
            print("official SDK not installed (pip install -e '.[bench]'): eventflow side only\n")
    env = describe()
    print(
        f"{env['cpu']} x{env['cpus']}, Python {env['python']}, {env['platform']}, "
        f"load {env['load_average_at_start']}"
    )
    print(", ".join(f"{k} {v}" for k, v in env["packages"].items() if v) + "\n")
    bench = Bench(chosen, official, set(args.only) if args.only else None)
    report = bench.run_all()
    report.environment["load_average_at_end"] = load_average()
    print_targets(report)
    if (report.environment["load_average_at_end"] or [0])[0] > (env["cpus"] or 1):
        print(
            f"\nNOTE: load average {report.environment['load_average_at_end']} exceeds {env['cpus']} CPUs: "
            "other "
            "processes shared the machine; wall-clock figures are inflated, CPU figures much less so."
        )
    args.json.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
    print(f"\nreport written to {args.json} ({report.seconds:.0f} s)")
    return report


def entry(argv: list[str] | None = None) -> int:
    main(argv)
    return 0


RepFactory = Callable[[int], Any]

if __name__ == "__main__":
    sys.exit(entry())
