"""``python -m benchmarks.instructions``: instructions per operation, counted by callgrind.

Time on a shared VM moves by tens of percent between runs; instruction counts do not (the same binary,
inputs and environment give the same total, whatever else the machine is doing). So a change to the hot
path is judged here first: each case runs in a child interpreter under ``valgrind --tool=callgrind``
once with one repetition and once with three, and the difference, divided by the two extra repetitions'
operations, is what one operation costs, setup and imports cancelled out. eventflow's new steps use a
null backend (answers nothing, costs nearly nothing), so the count is eventflow's alone.

Needs valgrind on the PATH (a Debian package); about 30 s per case.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks import eventflow_side as ef
from benchmarks import floor
from benchmarks.workloads import RepFn
from eventflow.backends.base import CheckpointResult, StatePage

_ROOT = Path(__file__).resolve().parent.parent


class NullBackend:
    """Acknowledges every checkpoint with the same token and no operations."""

    def checkpoint(self, arn: str, token: str, updates: Sequence[Any]) -> CheckpointResult:
        return CheckpointResult("token", [])

    def get_state(self, arn: str, token: str, marker: str) -> StatePage:
        return StatePage([], None)


CASES: dict[str, Callable[[int], RepFn]] = {
    "new": lambda n: ef.new_steps_rep(n, NullBackend),
    "replay": ef.replay_rep,
    "floor_new": floor.new_floor_rep,
    "floor_replay": floor.replay_floor_rep,
}


def _collected(case: str, n: int, reps: int) -> int:
    """Instructions callgrind counts for a child interpreter running ``reps`` repetitions of ``case``."""
    command = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        sys.executable, "-m", "benchmarks.instructions", "--child", case, str(n), str(reps),
    ]
    done = subprocess.run(command, cwd=_ROOT, capture_output=True, text=True, check=True)
    match = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    if match is None:
        raise RuntimeError(f"callgrind printed no total for {case}:\n{done.stderr[-2000:]}")
    return int(match.group(1))


def per_operation(case: str, n: int) -> int:
    return (_collected(case, n, 3) - _collected(case, n, 1)) // (2 * n)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__)
    parser.add_argument("cases", nargs="*", default=list(CASES), help=f"any of {', '.join(CASES)}")
    parser.add_argument("--n", type=int, default=2000, help="operations per repetition")
    parser.add_argument("--child", nargs=3, metavar=("CASE", "N", "REPS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        case, n, reps = args.child
        rep = CASES[case](int(n))
        for _ in range(int(reps)):
            rep()
        return 0
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not on the PATH")
    unknown = set(args.cases) - set(CASES)
    if unknown:
        parser.error(f"unknown cases: {', '.join(sorted(unknown))}")
    for case in args.cases:
        print(f"{case:14s} {per_operation(case, args.n):>9,} instructions per operation", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
