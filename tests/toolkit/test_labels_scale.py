"""Labels come from each operation's parent link and the id rule in linear work, whatever the shape: maps
of thousands of items (nested and FLAT), gaps in a context's numbering, ids no rule derives."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

from eventflow import DurableContext, MapConfig, NestingType
from eventflow.cli import main
from eventflow.ids import branch_id, child_id
from eventflow.testing.harness import DurableHarness
from eventflow.testing.histories import dumps_json
from eventflow.testing.labels import WINDOW, IdLabeler

ROOT = Path(__file__).resolve().parents[2]


def _fan_out(event: Any, ctx: DurableContext) -> int:
    ctx.map(list(range(1500)), lambda c, x, i, items: c.step(lambda _: x, name="n"), name="nested")
    flat: MapConfig[int] = MapConfig(nesting_type=NestingType.FLAT)
    ctx.map(list(range(1500)), lambda c, x, i, items: c.step(lambda _: x, name="f"), name="flat", config=flat)
    return 0


def test_the_fan_out_runs() -> None:
    assert DurableHarness().run(_fan_out).result == 0


def test_every_operation_of_a_large_fan_out_gets_its_label_with_linear_work(tmp_path: Path) -> None:
    run = DurableHarness().run(_fan_out)
    labeler = IdLabeler()
    labels = {op.id: labeler.label(op.id, op.parent_id) for op in run.operations[1:]}
    assert all(label != op_id for op_id, label in labels.items())  # none left as a raw id
    assert labels[branch_id(child_id(None, 1), 1499)] == "1/1499"
    assert labels[child_id(branch_id(child_id(None, 2), 1499), 1)] == "2/1499/1"  # a FLAT item's step
    assert len(labeler._labels) <= 3 * len(labels)  # derived candidates: a few per operation, no search
    path = tmp_path / "h.json"
    path.write_text(dumps_json(run.history))
    out = io.StringIO()
    assert main(["view", str(path), "--tree"], out) == 0
    assert 'root/2/1499/1 step "f"' in out.getvalue()


def test_gaps_in_a_context_s_numbering_are_bridged_once_per_window() -> None:
    parent = child_id(None, 1)
    labeler = IdLabeler()
    assert labeler.label(parent) == "1"
    assert labeler.label(child_id(parent, WINDOW // 2), parent) == f"1/{WINDOW // 2}"
    assert labeler.label(child_id(parent, WINDOW // 2 + 40), parent) == f"1/{WINDOW // 2 + 40}"
    derived = len(labeler._labels)
    far = child_id(parent, 100_000)  # beyond any window: shown as it is, and costs nothing more
    assert labeler.label(far, parent) == far
    assert labeler.label(far, parent) == far
    assert len(labeler._labels) <= derived + 4 * WINDOW


def test_an_operation_under_an_unknown_parent_is_shown_as_it_is() -> None:
    labeler = IdLabeler()
    assert labeler.label("c" * 64, "d" * 64) == "c" * 64
    assert labeler.label(None) == "-"


def test_the_views_benchmark_runs(tmp_path: Path) -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from benchmarks import views

    report = tmp_path / "views.json"
    assert views.main(["--smoke", "--json", str(report)]) == 0
    rows = json.loads(report.read_text())["rows"]
    assert {row["view"] for row in rows} == set(views.VIEWS)
    assert all(row["unlabelled_lines"] == 0 for row in rows)
