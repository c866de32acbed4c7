"""Execution views: tree and timeline in the terminal, Mermaid tree, gantt and state machines."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from eventflow import DurableContext, StepContext, StepError, retry
from eventflow.events.enums import OperationType
from eventflow.testing.harness import DurableHarness, DurableRun
from eventflow.views import (
    build_tree,
    execution_timeline,
    execution_tree,
    machine_diagrams,
    mermaid_gantt,
    mermaid_tree,
)

NO_JITTER = retry.exponential(max_attempts=3, initial_delay=2, jitter=retry.Jitter.NONE)


def _flaky(step: StepContext) -> str:
    if step.attempt < 2:
        raise ConnectionError("gateway down")
    return "paid"


def _handler(event: Any, ctx: DurableContext) -> Any:
    ctx.step(lambda _: "x" * 100, name="big")
    ctx.wait(seconds=10, name="cool-off")
    ctx.step(_flaky, name="charge", retry=NO_JITTER)
    return ctx.child_context(lambda c: c.step(lambda _: {"parcel": 7}, name="label"), name="ship")


@pytest.fixture(scope="module")
def run() -> DurableRun:
    return DurableHarness().run(_handler)


def test_tree_nests_by_parent_with_status_attempts_durations_and_previews(run: DurableRun) -> None:
    assert execution_tree(run.operations, width=20) == (
        "execution  SUCCEEDED  12s\n"
        '├─ root/1 step "big"  SUCCEEDED  0s  attempts=1  -> "xxxxxxxxxxxxxxxx...\n'
        '├─ root/2 wait "cool-off"  SUCCEEDED  10s\n'
        '├─ root/3 step "charge"  SUCCEEDED  2s  attempts=2  -> "paid"\n'
        '└─ root/4 child "ship"  SUCCEEDED  0s  -> {"parcel":7}\n'
        '   └─ root/4/1 step "label"  SUCCEEDED  0s  attempts=1  -> {"parcel":7}\n'
    )
    # The same tree comes out of the history (operations rebuilt through the machines).
    assert execution_tree(run.history, width=20) == execution_tree(run.operations, width=20)


def test_tree_shows_errors_and_running_operations() -> None:
    def waits(event: Any, ctx: DurableContext) -> Any:
        with contextlib.suppress(StepError):
            ctx.step(lambda _: int("x"), name="parse", retry=retry.no_retry)
        return ctx.create_callback("approve").result()

    tree = execution_tree(DurableHarness().run(waits).operations)
    assert 'root/1 step "parse"  FAILED  0s  attempts=1  ! ValueError: invalid literal' in tree
    assert 'root/2 callback "approve"  STARTED  running' in tree
    assert tree.splitlines()[0] == "execution  STARTED  running"


def test_timeline_bars_follow_the_clock(run: DurableRun) -> None:
    lines = execution_timeline(run.history, width=12).splitlines()
    assert lines[0].startswith("execution ") and "|████████████|" in lines[0]
    wait_line = next(line for line in lines if "cool-off" in line)
    assert "|██████████  |" in wait_line and "+0s 10s" in wait_line  # 10 of 12 seconds
    charge_line = next(line for line in lines if "charge" in line)
    assert "|          ██|" in charge_line and "+10s 2s" in charge_line
    assert next(line for line in lines if '"label"' in line).startswith("    root/4/1")


def test_mermaid_tree_and_gantt(run: DurableRun) -> None:
    tree = mermaid_tree(run.history)
    assert tree.startswith("flowchart TD\n")
    assert "    op0 --> op1" in tree and "    op4 --> op5" in tree
    assert "op3[\"root/3 step 'charge'  SUCCEEDED  2s  attempts=2  -> 'paid'\"]:::succeeded" in tree
    gantt = mermaid_gantt(run.operations)
    assert gantt.startswith("gantt\n    title execution\n    dateFormat x\n")
    assert "    section root/2 cool-off" in gantt
    start = int(run.operations[0].start_timestamp.timestamp() * 1000)  # type: ignore[union-attr]
    assert f"    root/2 wait cool-off :done, t2, {start}, {start + 10_000}" in gantt


def test_every_operation_machine_has_a_mermaid_diagram() -> None:
    diagrams = machine_diagrams()
    assert set(diagrams) == {t.value for t in OperationType}
    assert "STARTED --> PENDING: RETRY" in diagrams["STEP"]
    assert all(d.startswith("stateDiagram-v2\n") for d in diagrams.values())


def test_build_tree_puts_root_operations_under_the_execution(run: DurableRun) -> None:
    (root,) = build_tree(run.operations)
    assert root.label == "execution"
    assert [child.label for child in root.children] == ["root/1", "root/2", "root/3", "root/4"]
    assert [child.label for child in root.children[3].children] == ["root/4/1"]


def test_views_show_pauses() -> None:
    from eventflow import durable_execution
    from eventflow.local import LocalService, VirtualClock
    from eventflow.views import history_table, pauses

    @durable_execution
    def flow(event: Any, ctx: Any) -> Any:
        return ctx.create_callback("go").result()

    service = LocalService(VirtualClock())
    service.register("flow", flow)
    arn = service.start_execution("flow", {}).arn
    service.run(arn)
    service.pause(arn, reason="maintenance")
    service.clock.advance(90)  # type: ignore[attr-defined]
    service.resume(arn)
    service.pause(arn, reason="again")
    events = service.history(arn)
    assert [(p.reason, p.end is None) for p in pauses(events)] == [("maintenance", False), ("again", True)]
    assert "ExecutionPaused" in history_table(events) and "Reason=maintenance" in history_table(events)
    tree = execution_tree(events)
    assert "paused 2x (now paused: again)" in tree.splitlines()[0]
    rows = execution_timeline(events, width=10).splitlines()
    timeline = [line for line in rows if line.startswith("paused")]
    assert len(timeline) == 2 and "90s maintenance" in timeline[0] and "still paused" in timeline[1]
