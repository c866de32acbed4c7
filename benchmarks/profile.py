"""``python -m benchmarks.profile``: where eventflow spends its time on the benchmarked hot paths.

For each case (new steps, replay, empty invocation, end to end on the local service) it runs the same
workload as `benchmarks.run` under cProfile and prints the functions with the most own time, plus the share
of the time by area (eventflow's modules, pydantic, the floor service stub, the standard library). With
``--py-spy`` it also samples the case with py-spy (if installed), which has no per-call overhead, so it
shows the true split when many tiny functions make cProfile's numbers lean towards call counts.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from benchmarks import eventflow_side as ef
from benchmarks.workloads import RepFn

CASES: dict[str, tuple[Callable[[int], RepFn], int, str]] = {
    "new": (ef.new_steps_rep, 5_000, "new steps on the floor service"),
    "replay": (ef.replay_rep, 5_000, "replay of recorded steps"),
    "empty": (ef.empty_rep, 2_000, "invocations of an empty handler"),
    "e2e": (ef.e2e_rep, 2_000, "steps end to end on LocalService"),
}

_AREAS = (
    ("eventflow/local/", "eventflow.local (service)"),
    ("eventflow/events/", "eventflow.events (wire models)"),
    ("eventflow/machine/", "eventflow.machine"),
    ("eventflow/core/", "eventflow.core"),
    ("eventflow/", "eventflow (front-end, serdes, ids)"),
    ("pydantic", "pydantic"),
    ("benchmarks/", "benchmark stub / workload"),
)


def _area(filename: str) -> str:
    for marker, area in _AREAS:
        if marker in filename:
            return area
    return "python stdlib / builtins"


def _short(filename: str) -> str:
    """A path from the package down (cProfile file names and py-spy's ``function (path:line)`` frames)."""
    if filename.endswith(")") and " (" in filename:
        function, _, where = filename[:-1].rpartition(" (")
        return f"{function} ({_short(where)})"
    for marker in ("eventflow/", "benchmarks/", "pydantic/", "pydantic_core/"):
        if marker in filename:
            return filename[filename.index(marker) :]
    return Path(filename).name if filename.startswith("/") else filename


def profile_case(name: str, n: int, top: int) -> None:
    factory, default_n, title = CASES[name]
    n = n or default_n
    rep = factory(n)
    rep()  # warm: first-use costs (validators, caches) are not what a long invocation pays per step
    profiler = cProfile.Profile()
    profiler.enable()
    rep()
    profiler.disable()
    stats = pstats.Stats(profiler)
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(own for (_cc, _nc, own, _cum, _callers) in entries.values())
    print(f"\n=== {name}: {n:,} {title} — cProfile, {total:.3f} s of own time (profiler overhead included)")
    areas: Counter[str] = Counter()
    for (filename, _line, _func), (_cc, _nc, own, _cum, _callers) in entries.items():
        areas[_area(filename)] += own
    print("  share of own time by area:")
    for area, own in areas.most_common():
        print(f"    {own / total:6.1%}  {area}")
    print(f"  top {top} functions by own time (calls per unit = calls / {n:,}):")
    print(f"    {'own %':>6} {'cum %':>6} {'calls/unit':>10}  function")
    ranked = sorted(entries.items(), key=lambda item: item[1][2], reverse=True)[:top]
    for (filename, line, func), (_cc, calls, own, cum, _callers) in ranked:
        where = f"{_short(filename)}:{line}({func})" if line else func
        print(f"    {own / total:6.1%} {cum / total:6.1%} {calls / n:10.2f}  {where}")


def py_spy_case(name: str, n: int, top: int) -> None:
    """Sample ``name`` with py-spy in a child process and summarise own (leaf) and inclusive time."""
    binary = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(binary).exists():
        print(f"\n=== {name}: py-spy not installed (pip install py-spy), skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "samples.txt"
        command = [binary, "record", "--rate", "1000", "--format", "raw", "--output", str(out), "--"]
        command += [sys.executable, "-m", "benchmarks.profile", "--child", name, "--n", str(n)]
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=os.getcwd())
        if done.returncode != 0 or not out.exists():
            print(f"\n=== {name}: py-spy failed: {done.stderr.strip()[-500:]}")
            return
        own: Counter[str] = Counter()
        inclusive: Counter[str] = Counter()
        total = 0
        for line in out.read_text(encoding="utf-8").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if "<locals>.rep (" not in stack:  # only the repetitions: no start-up, no input building
                continue
            count = int(count_text)
            frames = [frame.strip() for frame in stack.split(";")]
            total += count
            own[frames[-1]] += count
            for frame in set(frames):
                inclusive[frame] += count
    print(f"\n=== {name}: py-spy, {total:,} samples at 1 kHz")
    print(f"  top {top} by own samples:")
    for frame, count in own.most_common(top):
        print(f"    {count / total:6.1%}  {_short(frame)}")
    print(f"  top {top} eventflow functions by inclusive samples:")
    shown = [(f, c) for f, c in inclusive.most_common() if "eventflow/" in f][:top]
    for frame, count in shown:
        print(f"    {count / total:6.1%}  {_short(frame)}")


def run_child(name: str, n: int) -> None:
    """What the py-spy child runs: one warm-up, then three repetitions to sample."""
    factory, default_n, _title = CASES[name]
    rep = factory(n or default_n)
    rep()
    for _ in range(3):
        rep()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help=f"cases to profile: {', '.join(CASES)} (default: all)")
    parser.add_argument("--n", type=int, default=0, help="size of each case (default: per case)")
    parser.add_argument("--top", type=int, default=20, help="how many functions to list")
    parser.add_argument("--py-spy", action="store_true", help="also sample with py-spy, if installed")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    unknown = set(args.cases) - set(CASES)
    if unknown:
        parser.error(f"unknown cases {sorted(unknown)}; choose from {', '.join(CASES)}")
    if args.child:
        run_child(args.child, args.n)
        return
    for name in args.cases or list(CASES):
        profile_case(name, args.n, args.top)
        if args.py_spy:
            py_spy_case(name, args.n, args.top)


if __name__ == "__main__":
    main()
