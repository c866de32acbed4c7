"""The console's parts on their own: labels, the state-machine drawing, the service's change counter."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from eventflow import durable_execution
from eventflow.events.enums import OperationType
from eventflow.local import LocalService
from eventflow.local.console.diagram import machine_svg, parse_state_diagram, render_svg
from eventflow.local.console.labels import operation_labels
from eventflow.machine.definitions import DEFINITIONS
from eventflow.machine.diagrams import to_mermaid
from eventflow.testing.labels import IdLabeler
from eventflow.testing.lines import op_label


@durable_execution
def nested(event: Any, ctx: Any) -> Any:
    ctx.step(lambda _: 1, name="first")

    def inner(child: Any) -> Any:
        child.step(lambda _: 2, name="inside")
        return child.child_context(lambda grandchild: grandchild.step(lambda _: 3), name="deeper")

    ctx.child_context(inner, name="outer")
    ctx.map(list(range(event["items"])), lambda c, item, i, items: c.step(lambda _: item), name="fan")
    ctx.parallel([lambda c: c.step(lambda _: "a"), lambda c: c.step(lambda _: "b")], name="both")
    return "done"


def _operations(items: int) -> list[Any]:
    service = LocalService()
    service.register("nested", nested)
    execution = service.start_execution("nested", {"items": items})
    service.run(execution.arn)
    stored = service.get(execution.arn)
    return [stored.operations[op_id] for op_id in stored.op_order]


def test_labels_are_the_cli_views_labels() -> None:
    operations = _operations(items=5)
    labeler = IdLabeler()
    expected = {
        op.id: "execution" if op.type == OperationType.EXECUTION else op_label(labeler, op.id, op.parent_id)
        for op in operations
    }
    got = operation_labels(operations)
    assert got == expected
    assert "root/2/2/1" in got.values()  # a context inside a context
    assert len(set(got.values())) == len(got)


def test_labels_reach_past_the_cli_labelers_fanout() -> None:
    """Items past IdLabeler's 64 candidates still get position labels, each one distinct."""
    operations = _operations(items=150)
    labels = operation_labels(operations)
    assert not [label for label in labels.values() if not label.startswith("root/") and label != "execution"]
    assert len(set(labels.values())) == len(labels)
    assert "root/3/149/1" in labels.values()


def test_an_id_no_position_explains_is_shortened() -> None:
    operations = _operations(items=1)
    foreign = operations[1].model_copy(update={"id": "f" * 64, "parent_id": None})
    assert operation_labels([operations[0], foreign])[foreign.id] == "f" * 12


@pytest.mark.parametrize("op_type", list(OperationType))
def test_every_machine_is_drawn_with_its_states_and_triggers(op_type: OperationType) -> None:
    svg = machine_svg(op_type)
    tree = ET.fromstring(svg)  # well-formed XML
    texts = {node.text for node in tree.iter() if node.tag.endswith("text")}
    definition = DEFINITIONS[op_type]
    assert set(definition.states) <= texts
    triggers = " / ".join(sorted(texts - set(definition.states), key=len))
    for spec in definition.transitions:
        assert spec["trigger"] in triggers


def test_the_parser_reads_what_the_exporter_writes_and_nothing_else() -> None:
    diagram = parse_state_diagram(to_mermaid(OperationType.CALLBACK))
    assert diagram.initial == "NEW"
    assert diagram.edges[("STARTED", "TIMED_OUT")] == ["callback_timed_out", "heartbeat_timed_out"]
    assert diagram.terminal == {"SUCCEEDED", "FAILED", "TIMED_OUT"}
    with pytest.raises(ValueError, match="unsupported"):
        parse_state_diagram("stateDiagram-v2\n    state Fork <<fork>>\n")
    with pytest.raises(ValueError, match="not a stateDiagram"):
        parse_state_diagram("flowchart TD\n")


def test_names_are_escaped_in_the_svg() -> None:
    svg = render_svg(parse_state_diagram("stateDiagram-v2\n    A --> B: x<y&z\n"), "<t>")
    assert "x&lt;y&amp;z" in svg and "&lt;t&gt;" in svg
    ET.fromstring(svg)


def test_wait_for_change_wakes_on_a_commit_and_times_out_without_one() -> None:
    service = LocalService()
    service.register("nested", nested)
    seen = service.generation
    assert service.wait_for_change(seen, 0.01) == seen  # nothing happened
    woke: list[int] = []
    waiter = threading.Thread(target=lambda: woke.append(service.wait_for_change(seen, 30)))
    waiter.start()
    service.start_execution("nested", {"items": 1})
    waiter.join(30)
    assert woke and woke[0] > seen
