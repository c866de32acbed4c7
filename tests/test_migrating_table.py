"""Every row of docs/MIGRATING.md's table runs: its eventflow code is executed inside a handler on the
local service, and the execution must not fail (it may wait on a callback: the test is the outside world).
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import eventflow
from eventflow import (
    DurableContext,
    StepContext,
    durable_step,
    durable_wait_for_callback,
    durable_with_child_context,
)
from eventflow.events.enums import ExecutionStatus
from eventflow.testing.harness import DurableHarness

MIGRATING = Path(__file__).resolve().parents[1] / "docs" / "MIGRATING.md"


def _rows() -> list[tuple[str, str]]:
    text = MIGRATING.read_text(encoding="utf-8")
    table = text.split("## Every call and option", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) < 3 or cells[0] in ("official SDK", "---") or set(cells[0]) <= {"-", "|"}:
            continue
        code = re.findall(r"`([^`]+)`", cells[1])
        assert code, f"a row without eventflow code: {line}"
        rows.append((cells[0], code[0]))
    return rows


ROWS = _rows()


@durable_step
def charge(step: StepContext, order_id: str) -> str:
    return f"charged {order_id}"


@durable_with_child_context
def ship(ctx: DurableContext, order_id: str) -> str:
    return ctx.step(lambda _: f"shipped {order_id}", name="label")


@durable_wait_for_callback
def notify(callback_id: str, step: StepContext, team: str) -> None:
    return None


def _namespace(ctx: DurableContext) -> dict[str, Any]:
    names = {name: getattr(eventflow, name) for name in eventflow.__all__}
    return {
        **names,
        "ctx": ctx,
        "timedelta": timedelta,
        "logging": logging,
        "fn": lambda step: 1,
        "body": lambda child: child.step(lambda _: 2, name="inner"),
        "submitter": lambda callback_id, step: None,
        "check": lambda n, step: n + 1,
        "item_fn": lambda c, item, index, items: c.step(lambda _: item * 2),
        "branch": lambda c: c.step(lambda _: "b"),
        "charge": charge,
        "ship": ship,
        "notify": notify,
    }


def test_the_table_covers_every_call_and_option_the_issue_lists() -> None:
    official = " ".join(row[0] for row in ROWS)
    for name in (
        "run_in_child_context", "create_callback", "wait_for_callback", "wait_for_condition", "map",
        "parallel", "invoke", "StepConfig", "RetryStrategyConfig", "Duration", "CompletionConfig", "SerDes",
        "@durable_step",
    ):
        assert name in official, name


@pytest.mark.parametrize(("official", "code"), ROWS, ids=[row[0][:40] for row in ROWS])
def test_each_row_runs(official: str, code: str) -> None:
    def handler(event: Any, ctx: DurableContext) -> str:
        exec(compile(code, f"MIGRATING.md: {official}", "exec"), _namespace(ctx))
        return "ran"

    harness = DurableHarness()
    harness.service.register("other", eventflow.durable_execution(lambda event, ctx: event))
    run = harness.run(handler)
    assert run.status in (ExecutionStatus.SUCCEEDED, ExecutionStatus.RUNNING), (code, run.error)
    if run.status is ExecutionStatus.RUNNING:
        assert run.waiting, (code, "runs on, yet waits on no callback")
    else:
        assert run.result == "ran"
