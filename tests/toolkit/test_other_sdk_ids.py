"""Histories whose operation ids another SDK derived (the JS SDK: md5 of the raw path, PROTOCOL.md §8)
are viewed and audited like any other: labels where the id derives, the id itself where it does not."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from eventflow import DurableContext
from eventflow.audit import audit_lines, verify_audit
from eventflow.cli import main
from eventflow.events.history import Event
from eventflow.testing.harness import DurableHarness
from eventflow.testing.histories import dumps_json, wire_dict
from eventflow.testing.labels import IdLabeler, js_id
from eventflow.views import execution_tree


def _handler(event: Any, ctx: DurableContext) -> Any:
    ctx.step(lambda _: 1, name="first")
    return ctx.child_context(lambda c: c.step(lambda _: {"parcel": 7}, name="label"), name="ship")


def _as_js_history() -> list[Event]:
    """The same execution with every id rewritten as the JS SDK derives it (raw path ``2-1`` for the first
    operation inside the second): what a JS-written history of this code holds."""
    run = DurableHarness().run(_handler)
    labeler = IdLabeler()
    raw = {op.id: labeler.label(op.id, op.parent_id).replace("root/", "").replace("/", "-")
           for op in run.operations[1:]}
    text = json.dumps([wire_dict(e) for e in run.history])
    for python_id, path in raw.items():
        text = text.replace(python_id, js_id(path))
    return [Event.from_wire(e) for e in json.loads(text)]


def test_a_js_written_history_is_viewed_with_labels() -> None:
    tree = execution_tree(_as_js_history())
    assert 'root/1 step "first"  SUCCEEDED' in tree
    assert 'root/2 child "ship"  SUCCEEDED' in tree
    assert 'root/2/1 step "label"  SUCCEEDED' in tree


def test_ids_no_sdk_derives_are_shown_as_they_are_and_the_search_does_not_grow() -> None:
    labeler = IdLabeler()
    assert labeler.label("0" * 16) == "0" * 16
    searched = len(labeler._labels)
    labels = [labeler.label(f"{i:016x}", None) for i in range(1, 2_000)]
    assert labels[6] == f"{7:016x}"
    # One unknown id searches a bounded candidate set; a thousand more search no further.
    assert len(labeler._labels) == searched


def test_a_js_written_history_is_sealed_verified_and_viewed_from_the_command_line(tmp_path: Path) -> None:
    events = _as_js_history()
    text = audit_lines(events, key=b"k")
    assert verify_audit(text.splitlines(), key=b"k").ok
    tampered = text.replace('"first"', '"fist"', 1)
    report = verify_audit(tampered.splitlines(), key=b"k")
    assert not report.ok
    assert "root/1" in str(report)  # the finding names the operation by its label
    path = tmp_path / "js.json"
    path.write_text(dumps_json(events))
    out = io.StringIO()
    assert main(["view", str(path), "--tree"], out) == 0
    assert 'root/2/1 step "label"' in out.getvalue()
