"""The checkpoint/history snapshot extension: stable text, normalized volatile values, line-level diffs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from eventflow.events.enums import OperationAction, OperationType
from eventflow.events.wire import ErrorObject, OperationUpdate
from eventflow.ids import child_id
from eventflow.testing.harness import DurableHarness
from eventflow.testing.lines import render_checkpoints
from eventflow.testing.normalize import Normalizer, decode_payload
from eventflow.testing.snapshot import to_snapshot_text


def _handler(event: Any, ctx: Any) -> Any:
    a = ctx.step(lambda _: {"n": event["x"] + 1}, name="charge")
    ctx.wait(seconds=2, name="cool-off")
    return ctx.child_context(lambda c: c.step(lambda _: [a["n"], "done"], name="ship"), name="box")


def test_checkpoints_render_one_update_per_line_with_labels() -> None:
    run = DurableHarness().run(_handler, {"x": 1})
    assert to_snapshot_text(run.batches) == textwrap.dedent(
        """\
        #1 START   root/1 step "charge"
        #1 SUCCEED root/1 step "charge" payload={"n":2}
        #2 START   root/2 wait "cool-off" WaitSeconds=2
        #3 START   root/3 child "box"
        #3 START   root/3/1 step "ship"
        #3 SUCCEED root/3/1 step "ship" payload=[2,"done"]
        #4 SUCCEED root/3 child "box" payload=[2,"done"]
        """
    )


def test_history_is_normalized_and_identical_across_runs() -> None:
    first = DurableHarness().run(_handler, {"x": 1})
    second = DurableHarness().run(_handler, {"x": 1})
    # Different ARNs, request ids and operation ids of the EXECUTION, same text.
    assert first.execution.arn != second.execution.arn
    assert to_snapshot_text(first.history) == to_snapshot_text(second.history)
    text = to_snapshot_text(first.history)
    assert "<request-1>" in text and "<request-2>" in text
    assert "arn:aws" not in text
    assert '  6 +2s      WaitSucceeded          root/2 wait "cool-off" duration=2' in text.splitlines()


def test_normalizer_keeps_equal_values_equal_and_decodes_payloads() -> None:
    n = Normalizer()
    n.register("callback", "cb-secret-1")
    arn = "arn:aws:lambda:us-east-1:1:function:f:$LATEST/durable-execution/x/y"
    assert n.text(f"{arn} cb-secret-1 {arn}") == "<arn-1> <callback-1> <arn-1>"
    assert n.payload('{"b": 1, "a": "cb-secret-1"}') == '{"a":"<callback-1>","b":1}'
    assert decode_payload('{"t":"m","v":{"x":{"t":"i","v":1}}}') == {"x": 1}  # the official SDK's envelope
    assert n.payload("not json") == "not json"


def test_single_update_list_and_unknown_types() -> None:
    update = OperationUpdate(
        id=child_id(None, 2), type=OperationType.STEP, sub_type="Step", action=OperationAction.START, name="s"
    )
    assert to_snapshot_text([update]) == '#1 START   root/2 step "s"\n'
    with pytest.raises(TypeError, match="cannot snapshot"):
        to_snapshot_text(42)


def test_a_line_says_parent_and_type_only_when_its_label_and_kind_do_not() -> None:
    def start(op_id: str, op_type: OperationType, sub: str | None, parent: str | None) -> OperationUpdate:
        return OperationUpdate(
            id=op_id, parent_id=parent, type=op_type, sub_type=sub, action=OperationAction.START
        )

    flat_map, item = child_id(None, 1), child_id(child_id(None, 1), 1)
    updates = [
        start(flat_map, OperationType.CONTEXT, "Map", None),
        # a flat map's step keeps its nested id (root/1/1/1) but names the map as its parent
        start(child_id(item, 1), OperationType.STEP, "Step", flat_map),
        start(child_id(item, 2), OperationType.STEP, "Step", item),
        start(child_id(None, 2), OperationType.STEP, None, None),
        start(child_id(None, 3), OperationType.CONTEXT, "Step", None),
    ]
    assert render_checkpoints([updates]) == (
        "#1 START   root/1 map\n"
        "#1 START   root/1/1/1 step parent=root/1\n"
        "#1 START   root/1/1/2 step\n"
        "#1 START   root/2 step type=STEP/-\n"
        "#1 START   root/3 step type=CONTEXT/Step\n"
    )


def test_verbatim_shows_payloads_errors_and_options_as_written() -> None:
    arn = "arn:aws:lambda:us-east-1:1:function:f"
    update = OperationUpdate(
        id=child_id(None, 1), type=OperationType.STEP, sub_type="Step", action=OperationAction.RETRY,
        payload='{"t":"m","v":{"b":{"t":"i","v":1}}}', error=ErrorObject(error_type="E", error_message=arn),
    )
    assert render_checkpoints([[update]]) == '#1 RETRY   root/1 step payload={"b":1} error=E: <arn-1>\n'
    assert render_checkpoints([[update]], verbatim=True) == (
        f'#1 RETRY   root/1 step payload={update.payload} error=E: {arn}\n'
    )


_SNAPSHOT_TEST = """
from eventflow import DurableContext

NAME = {name!r}

def handler(event, ctx: DurableContext):
    ctx.step(lambda _: 1, name="one")
    return ctx.step(lambda _: 2, name=NAME)

def test_checkpoints(run_durable, checkpoint_snapshot):
    assert run_durable(handler).batches == checkpoint_snapshot
"""


def _pytest(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path), *args],
        capture_output=True,
        text=True,
        cwd=path.parent,
        timeout=120,
        check=False,
    )


def test_plugin_fixture_writes_text_snapshots_and_shows_line_diffs(tmp_path: Path) -> None:
    test_file = tmp_path / "test_flow.py"
    test_file.write_text(_SNAPSHOT_TEST.format(name="two"))
    created = _pytest(test_file, "--snapshot-update")
    assert created.returncode == 0, created.stdout + created.stderr
    stored = tmp_path / "__snapshots__" / "test_flow" / "test_checkpoints.txt"
    assert stored.read_text().splitlines()[-1] == '#2 SUCCEED root/2 step "two" payload=2'

    test_file.write_text(_SNAPSHOT_TEST.format(name="renamed"))
    changed = _pytest(test_file)
    assert changed.returncode == 1
    assert '- #2 SUCCEED root/2 step "two" payload=2' in changed.stdout
    assert '+ #2 SUCCEED root/2 step "renamed" payload=2' in changed.stdout
    assert 'root/1 step "one"' not in "\n".join(
        line for line in changed.stdout.splitlines() if line.startswith(("- ", "+ "))
    )  # unchanged lines are not reported as changed


def test_a_whole_run_snapshots_as_outcome_checkpoints_and_history() -> None:
    text = to_snapshot_text(DurableHarness().run(_handler, {"x": 1}))
    assert text.startswith(
        'status: SUCCEEDED\nresult: [2,"done"]\n\ncheckpoints:\n#1 START   root/1 step "charge"\n'
    )
    assert '\nhistory:\n  1 +0s      ExecutionStarted       input={"x":1}\n' in text
    assert text.endswith('ExecutionSucceeded     result=[2,"done"]\n')
