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

from benchmarks import latency, run  # noqa: E402
from benchmarks.environment import official_available  # noqa: E402
from benchmarks.measure import import_seconds  # noqa: E402


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    path = tmp_path_factory.mktemp("bench") / "report.json"
    cases = ["new_steps", "replay", "empty", "nested", "map", "e2e", "memory", "latency", "coldstart"]
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
    # issue 7's eight (its import target is replaced by cold start), and issue 19's: two per sequential
    # size, two per batch case (three), two async, one cold start
    assert isinstance(targets, list) and len(targets) == 8 + 2 * len(run.SMOKE.latency.steps) + 6 + 2 + 1
    assert {target["verdict"] for target in targets} <= {"PASS", "MISS", "N/A"}
    memory = report["memory"]
    assert isinstance(memory, dict) and memory["eventflow_new_peak"] > 0


def test_every_latency_case_ran_at_every_latency_with_its_calls_counted(report: dict[str, object]) -> None:
    cases = report["cases"]
    assert isinstance(cases, list)
    sizes = run.SMOKE.latency
    ran = {(case["case"], case["n"], case["latency_s"]): case for case in cases if "latency_s" in case}
    labels = {"eventflow", "official"} if official_available() else {"eventflow"}
    for workload in latency.workloads(sizes):
        for lat in sizes.latencies:
            case = ran[(latency.case_name(workload), workload.n, lat)]
            assert {sample["label"] for sample in case["samples"]} == labels
            for sample in case["samples"]:
                assert sample["calls"] and min(sample["calls"]) >= 1, (case["case"], sample)
                assert min(sample["updates"]) >= min(sample["calls"]), (case["case"], sample)
                # the stub sleeps L in every call, so no repetition can take less than one L
                assert min(sample["wall_s"]) >= lat, (case["case"], lat, sample)
            derived = case["derived"]
            assert derived["eventflow"]["calls_per_op"] > 0
            assert (derived["eventflow"]["wall_over_nl"] is None) == (lat == 0)


def test_cold_start_ran_each_sdk_over_http(report: dict[str, object]) -> None:
    cold = report["coldstart"]
    assert isinstance(cold, dict) and cold["errors"] == {} and cold["unexpected_routes"] == []
    sdks = {"eventflow", "official"} if official_available() else {"eventflow"}
    assert set(cold["median"]) == sdks
    for sdk in sdks:
        median = cold["median"][sdk]
        # three steps: at least one checkpoint call answered over the loopback, six updates at least
        assert median["calls"] >= 1 and median["updates"] >= 6, (sdk, median)
        phases = median["import_s"] + median["client_s"] + median["invocation_s"]
        assert median["total_s"] == pytest.approx(phases) and median["process_s"] >= median["total_s"]


def test_import_timing_runs_in_fresh_interpreters() -> None:
    times = import_seconds({"json": "import json"}, reps=1)
    assert len(times["json"]) == 1 and times["json"][0] >= 0


@pytest.mark.parametrize("case", ["new", "replay", "floor_new", "floor_replay"])
def test_every_instruction_count_case_runs(case: str) -> None:
    """`python -m benchmarks.instructions` runs each case in a child under callgrind; the child's own
    mode (what callgrind runs) is exercised here without it."""
    from benchmarks import instructions

    assert instructions.main(["--child", case, "20", "1"]) == 0
