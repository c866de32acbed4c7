"""Crash anywhere: a random workflow, killed at random points, ends exactly as if it never crashed.

For each generated workflow the crash-free run is the oracle. The same workflow is then run again with
one to three crashes (`SandboxCrash`) at crash points drawn from the ones the runs pass: before a step's
code, after it but before its checkpoint, before a checkpoint is sent, and after the service applied a
checkpoint but before its answer was read. Lambda re-invokes after each crash. Properties:

* the execution ends the same way (status, result, error) and the same operations completed, with the
  same results and errors, in the same order;
* an at-most-once step never runs an attempt twice (an interrupted attempt is not re-run; the retry
  strategy decides, and the generator gives such steps the attempts to absorb the crashes);
* an at-least-once step re-runs an attempt only if a crash interrupted that very attempt.

Map and parallel items run concurrently on threads, and at-least-once STARTs wait for their step's
completion (or a linger), so crash points also fall while items run side by side, while a START waits
to be sent, and between a group-commit call and its answer.

``EVENTFLOW_RELIABILITY_EXAMPLES=2000 pytest tests/reliability/test_crash_anywhere.py`` runs thousands.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import examples
from .workflows import (
    Callback,
    Child,
    Condition,
    Invoke,
    Map,
    Outcome,
    Parallel,
    Spec,
    Step,
    Wait,
    run_workflow,
    specs,
)

MAX_CRASHES = 3
_SCALE = 10_000
STATS = {"workflows": 0, "crash_runs": 0, "crashes": 0, "operations_compared": 0}


def check_against_oracle(oracle: Outcome, crashed: Outcome) -> None:
    assert crashed.status == oracle.status, crashed.crashes
    assert crashed.result == oracle.result, crashed.crashes
    assert crashed.error == oracle.error, crashed.crashes
    assert crashed.completed == oracle.completed, crashed.crashes
    for (op_id, attempt), n in crashed.run_counts().items():
        at_most_once = any(r[0] == op_id and r[2] for r in crashed.runs)
        if at_most_once:
            assert n == 1, f"at-most-once step {op_id[:8]} ran attempt {attempt} {n} times"
        elif n > 1:
            assert (op_id, attempt) in crashed.interrupted, (
                f"at-least-once step {op_id[:8]} re-ran attempt {attempt}, which no crash interrupted"
            )


@settings(
    max_examples=examples(120),
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(body=specs(MAX_CRASHES), data=st.data())
def test_a_crashed_workflow_ends_as_the_crash_free_one(
    body: tuple[Spec, ...], data: st.DataObject, patient_lambda: None
) -> None:
    oracle = run_workflow(body)
    assert not oracle.crashes
    # Every at-least-once attempt ran exactly once without crashes: the oracle itself is sane.
    assert all(n == 1 for n in oracle.run_counts().values())
    # Drawn as fractions of the oracle's crash points, not as indices: map and parallel items run on
    # threads and share checkpoint calls by timing, so the number of crash points a run passes varies
    # a little from run to run, and what is drawn must not depend on it.
    fractions = data.draw(
        st.frozensets(st.integers(0, _SCALE), min_size=1, max_size=MAX_CRASHES), label="crash points"
    )
    crash_at = frozenset(f * (2 * oracle.ticks + 2) // _SCALE for f in fractions)
    crashed = run_workflow(body, crash_at)
    STATS["workflows"] += 1
    STATS["crash_runs"] += 1
    STATS["crashes"] += len(crashed.crashes)
    STATS["operations_compared"] += sum(map(len, oracle.completed.values()))
    check_against_oracle(oracle, crashed)


def test_every_crash_point_of_one_rich_workflow(patient_lambda: None) -> None:
    """Exhaustive over one workflow with every construct: a crash at each single crash point."""
    body: tuple[Spec, ...] = (
        Step("a"),
        Wait(10),
        Child("c", (Step("b", fails=1, attempts=3), Callback("x", "success"))),
        Map("m", 2, (Step("s", at_most_once=True, fails=1, attempts=5),)),
        Parallel("p", ((Invoke("i", "double", 3),), (Condition("w", 2), Callback("t", "timeout")))),
        Invoke("f", "fail", 1),
        Callback("r", "failure"),
        Step("z", fails=1, attempts=1),
    )
    oracle = run_workflow(body)
    assert oracle.status == "SUCCEEDED"
    fired = 0
    for point in range(oracle.ticks):
        crashed = run_workflow(body, frozenset({point}))
        # Concurrent items share checkpoint calls by timing, so a run may pass a few points fewer than
        # the oracle did: a point past its end does not fire, and the run must then equal the oracle too.
        assert len(crashed.crashes) == 1 or crashed.ticks <= point
        fired += len(crashed.crashes)
        check_against_oracle(oracle, crashed)
    assert fired >= oracle.ticks - 8  # nearly every point fired: the workflow was really crashed throughout
    STATS["workflows"] += 1
    STATS["crash_runs"] += oracle.ticks
    STATS["crashes"] += fired
