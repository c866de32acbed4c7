"""The benchmark harness works: a tiny run of every case, and a well-formed report. No timing is asserted.

Performance is measured with ``python -m benchmarks``, never in the test suite (a timed assertion fails
on a busy CI machine and proves nothing on a quiet one). This only proves the harness runs, that both
SDKs finish every workload correctly (each repetition checks its result), and that the report is complete.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `benchmarks` lives next to `eventflow`, but is not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import run  # noqa: E402
from benchmarks.measure import import_seconds  # noqa: E402


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    path = tmp_path_factory.mktemp("bench") / "report.json"
    cases = ["new_steps", "replay", "empty", "nested", "map", "e2e", "memory"]
    run.main(["--smoke", "--json", str(path), *(f"--only={case}" for case in cases)])
    loaded: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def test_every_case_ran_without_errors(report: dict[str, object]) -> None:
    cases = report["cases"]
    assert isinstance(cases, list)
    ran = {case["case"] for case in cases}
    assert {"new_steps", "replay", "empty_invocation", "nested_children", "e2e_memory"} <= ran
    for case in cases:
        for sample in case["samples"]:
            assert sample["error"] is None, (case["case"], sample)
            assert sample["wall_s"] and sample["cpu_s"], (case["case"], sample["label"])


def test_eventflow_and_the_floor_are_measured(report: dict[str, object]) -> None:
    cases = report["cases"]
    assert isinstance(cases, list)
    new_steps = next(case for case in cases if case["case"] == "new_steps")
    labels = {sample["label"] for sample in new_steps["samples"]}
    assert {"eventflow", "floor"} <= labels


def test_every_target_has_a_verdict(report: dict[str, object]) -> None:
    targets = report["targets"]
    assert isinstance(targets, list) and len(targets) == 9
    assert {target["verdict"] for target in targets} <= {"PASS", "MISS", "N/A"}
    memory = report["memory"]
    assert isinstance(memory, dict) and memory["eventflow_new_peak"] > 0


def test_import_timing_runs_in_fresh_interpreters() -> None:
    times = import_seconds({"json": "import json"}, reps=1)
    assert len(times["json"]) == 1 and times["json"][0] >= 0


@pytest.mark.parametrize("case", ["new", "replay", "floor_new", "floor_replay"])
def test_every_instruction_count_case_runs(case: str) -> None:
    """`python -m benchmarks.instructions` runs each case in a child under callgrind; the child's own
    mode (what callgrind runs) is exercised here without it."""
    from benchmarks import instructions

    assert instructions.main(["--child", case, "20", "1"]) == 0
