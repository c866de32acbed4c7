"""Backend faults at every checkpoint: nothing acknowledged is lost, nothing terminal is retried forever.

A random workflow runs on the local service behind `FaultyBackend`, which fails seeded-random checkpoint
calls with every retryable fault (throttling, 5xx, resets, timeouts after the checkpoint was applied,
invalid and reused tokens, answers without operations or token). The handler raises, Lambda re-invokes,
and the run must end exactly as the fault-free run: same status, result, error and completed
operations. Terminal faults (a payload over the limit, a validation error) must end the execution
FAILED with the cause in its message after one invocation, however the workflow is nested.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventflow import ChildContextError, DurableContext
from eventflow.backends.base import Backend
from eventflow.handler import DurableHandler
from eventflow.local import LocalService
from eventflow.testing.faults import (
    RETRYABLE_FAULTS,
    TERMINAL_FAULTS,
    FaultKind,
    FaultPlan,
    FaultyBackend,
)

from .conftest import examples
from .test_crash_anywhere import check_against_oracle
from .workflows import (
    Callback,
    Child,
    Condition,
    Invoke,
    Map,
    Parallel,
    Spec,
    Step,
    Wait,
    run_workflow,
    specs,
)

MAX_FAULTS = 3
RANDOM_KINDS = RETRYABLE_FAULTS
STATS: dict[str, Any] = {"runs": 0, "faults": 0, "by_kind": {}}


@settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    body=specs(MAX_FAULTS),
    seed=st.integers(0, 2**32 - 1),
    rate=st.sampled_from([0.1, 0.3, 0.6]),
)
def test_retryable_faults_lose_nothing(
    body: tuple[Spec, ...], seed: int, rate: float, patient_lambda: None
) -> None:
    oracle = run_workflow(body)
    backends: list[FaultyBackend] = []

    def wrap(inner: Backend) -> Backend:
        faulty = FaultyBackend(
            inner, FaultPlan.random(rate=rate, seed=seed, kinds=RANDOM_KINDS, max_faults=MAX_FAULTS)
        )
        backends.append(faulty)
        return faulty

    faulted = run_workflow(body, wrap=wrap)
    check_against_oracle(oracle, faulted)
    STATS["runs"] += 1
    for fault in backends[0].injected:
        STATS["faults"] += 1
        STATS["by_kind"][fault.kind.value] = STATS["by_kind"].get(fault.kind.value, 0) + 1


@pytest.mark.parametrize("kind", RETRYABLE_FAULTS, ids=str)
@pytest.mark.parametrize("call", range(6))
def test_each_retryable_fault_at_each_early_checkpoint(
    kind: FaultKind, call: int, patient_lambda: None
) -> None:
    """Deterministic coverage: every retryable kind at each of the first checkpoints of a workflow
    with every construct."""
    body: tuple[Spec, ...] = (
        Step("a", at_most_once=True, attempts=3),
        Child("c", (Step("b", fails=1, attempts=3), Wait(5))),
        Map("m", 2, (Step("s"),)),
        Parallel("p", ((Invoke("i", "double", 3),), (Condition("w", 2), Callback("t", "success")))),
    )
    oracle = run_workflow(body)
    faulted = run_workflow(body, wrap=lambda inner: FaultyBackend(inner, FaultPlan(at={call: kind})))
    check_against_oracle(oracle, faulted)
    STATS["runs"] += 1
    STATS["faults"] += 1


def _big(_: Any) -> str:
    return "x" * (300 * 1024)


def at_root(event: Any, ctx: DurableContext) -> Any:
    return ctx.step(_big, name="big")


def in_child(event: Any, ctx: DurableContext) -> Any:
    return ctx.child_context(lambda c: c.step(_big, name="big"), name="child")


def in_child_caught(event: Any, ctx: DurableContext) -> Any:
    """User code that handles a failed child context and goes on: a checkpoint error is not the
    child's failure, and must not be handed to this ``except``."""
    try:
        return ctx.child_context(lambda c: c.step(_big, name="big"), name="child")
    except ChildContextError:
        return ctx.step(lambda _: "carried on as if the child had failed", name="fallback")


def in_map(event: Any, ctx: DurableContext) -> Any:
    return ctx.map([1, 2], lambda c, item, i, items: c.step(_big, name="big"), name="m").get_results()


def _run(fn: Any, backend_of: Any = None) -> tuple[Any, LocalService]:
    service = LocalService()
    backend = backend_of(service) if backend_of else service
    service.register("fn", DurableHandler(fn, backend))
    execution = service.start_execution("fn", {})
    service.run(execution.arn)
    return execution, service


def test_an_oversized_step_result_fails_the_execution_once_with_the_cause() -> None:
    execution, _ = _run(at_root)
    assert str(execution.status) == "FAILED"
    assert execution.invocations == 1  # terminal: not retried
    assert execution.error is not None and "262144" in (execution.error.error_message or "")


@pytest.mark.parametrize("fn", [in_child, in_child_caught, in_map], ids=["child", "child-caught", "map"])
def test_an_oversized_result_nested_anywhere_fails_the_execution_with_the_cause(fn: Any) -> None:
    """Regression: child_plan used to record a CheckpointError raised inside the child as the CONTEXT's
    FAIL, a ChildContextError user code could catch and carry on from (fixed: it re-raises it)."""
    execution, _ = _run(fn)
    assert str(execution.status) == "FAILED"
    assert execution.invocations == 1
    assert execution.error is not None and "262144" in (execution.error.error_message or "")
    assert execution.error.error_type == "eventflow.errors.CheckpointError"


@pytest.mark.parametrize("kind", TERMINAL_FAULTS, ids=str)
@pytest.mark.parametrize("call", range(3))
def test_terminal_faults_fail_the_execution_once(kind: FaultKind, call: int) -> None:
    def fn(event: Any, ctx: DurableContext) -> Any:
        return [ctx.step(lambda _, i=i: i, name=f"s{i}") for i in range(4)]

    execution, _ = _run(fn, lambda s: FaultyBackend(s, FaultPlan(at={call: kind})))
    assert str(execution.status) == "FAILED" and execution.invocations == 1
    assert execution.error is not None and "[injected]" in (execution.error.error_message or "")


@pytest.mark.parametrize("kind", [FaultKind.THROTTLE, FaultKind.TIMEOUT], ids=str)
def test_a_transient_fault_inside_a_child_is_not_the_childs_failure(kind: FaultKind) -> None:
    """Regression: a throttled checkpoint inside a child made the child FAILED for good."""

    def fn(event: Any, ctx: DurableContext) -> Any:
        return ctx.child_context(
            lambda c: [c.step(lambda _, i=i: i, name=f"s{i}") for i in range(2)], name="c"
        )

    # call 0: the child's START with step s0; a fault there is raised inside the child's function.
    execution, _ = _run(fn, lambda s: FaultyBackend(s, FaultPlan(at={0: kind})))
    assert str(execution.status) == "SUCCEEDED", execution.error
    assert execution.result == "[0, 1]"


def test_a_callback_answer_without_its_callback_id_is_retried_not_a_callback_failure() -> None:
    """An answer that lost the new CALLBACK operation (a damaged response) must not decide the
    callback's outcome: the callback exists, and a re-invocation reads its id from the state."""

    def fn(event: Any, ctx: DurableContext) -> Any:
        cb = ctx.create_callback("cb", timeout=60)
        return cb.callback_id[:0] + "created"

    execution, _ = _run(fn, lambda s: FaultyBackend(s, FaultPlan(at={0: FaultKind.MISSING_OPERATIONS})))
    assert str(execution.status) == "SUCCEEDED", execution.error
    assert execution.invocations == 2
