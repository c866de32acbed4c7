"""Labels for every operation of one execution, derived parent by parent: ``root/2``, ``root/2[7]/1``.

The labels are the CLI views' (`eventflow.testing.labels.IdLabeler` through `testing.lines.op_label`): the
same derivations (the Python SDKs' blake2b ids and the JS SDK's md5 ids), the same candidate order (a
context's children ``n`` first, then, under the root or a JS-derived parent, the JS ids, then the branches
``[i]`` of a map or parallel), the same fallback (an id no position explains, shortened to 12 digits).

Why not `IdLabeler` itself: it searches a fixed ``fanout`` of candidates under every parent it knows, so
items past the 64th of a map are unknown ids, and each unknown id sends it through every candidate parent
it holds (seconds for a 2,000-item map). The console has the whole execution at hand, so it knows how many
children each parent has and derives exactly that many candidates: one pass, linear in the operations.
"""

from __future__ import annotations

from collections.abc import Sequence

from eventflow.events.enums import OperationType
from eventflow.events.wire import Operation
from eventflow.ids import branch_id, child_id
from eventflow.testing.labels import js_id

SLACK = 2
"""Candidates derived past a parent's child count, for positions whose operations were never recorded."""


def operation_labels(operations: Sequence[Operation]) -> dict[str, str]:
    """Operation id -> label for ``operations`` in creation order (a parent before its children)."""
    children: dict[str | None, int] = {}
    for op in operations:
        if op.type != OperationType.EXECUTION:
            children[op.parent_id] = children.get(op.parent_id, 0) + 1
    found: dict[str, str] = {}  # id -> position label, without the "root/" prefix
    js_paths: dict[str, str] = {}  # a JS-derived id -> its raw path
    derived: set[str | None] = set()
    labels: dict[str, str] = {}
    for op in operations:
        if op.type == OperationType.EXECUTION:
            labels[op.id] = "execution"
            continue
        parent = op.parent_id
        if parent not in derived and (parent is None or parent in found):
            derived.add(parent)
            _derive(parent, children.get(parent, 0) + SLACK, found, js_paths)
        label = found.get(op.id)
        labels[op.id] = f"root/{label}" if label is not None else op.id[:12]
    return labels


def _derive(parent: str | None, count: int, found: dict[str, str], js_paths: dict[str, str]) -> None:
    prefix = "" if parent is None else found[parent] + "/"
    js_parent = None if parent is None else js_paths.get(parent)
    fresh: dict[str, str] = {}

    def add(op_id: str, label: str) -> bool:
        if op_id in found or op_id in fresh:
            return False
        fresh[op_id] = label
        return True

    for n in range(1, count + 1):
        add(child_id(parent, n), f"{prefix}{n}")
        if parent is None or js_parent is not None:
            raw = str(n) if js_parent is None else f"{js_parent}-{n}"
            if add(js_id(raw), f"{prefix}{n}"):
                js_paths[js_id(raw)] = raw
    if parent is not None:
        for i in range(count):
            add(branch_id(parent, i), f"{found[parent]}[{i}]")
    found.update(fresh)
