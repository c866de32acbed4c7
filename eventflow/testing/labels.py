"""Stable, readable labels for operation ids, so snapshots read ``2/1`` instead of 64 hex digits.

Ids are hashes of their position (PROTOCOL.md §3), so a label is recovered by re-deriving the ids a
parent can have: ``3`` is the root's third operation, ``3/1`` the first operation inside it, ``1[0]``
branch 0 of the map or parallel operation ``1``.

Two derivations are known: the Python SDKs' (blake2b of ``"{parent id}-{n}"``) and the JS SDK's (the first
16 hex digits of md5 of the raw path ``"3-1"``, PROTOCOL.md §8), so a history either wrote reads with
labels. An id neither derives (another SDK, or a position past ``fanout``) is shown as it is. A search
expands the ids it was asked about and one level of candidates under them (a flat map's item ids are never
asked about), no deeper: an unknown id costs one bounded pass, never a cascade, and is remembered.
"""

from __future__ import annotations

from hashlib import md5

from eventflow.ids import branch_id, child_id


def js_id(raw_path: str) -> str:
    """The JS SDK's id for a raw id path such as ``"3-1"``."""
    return md5(raw_path.encode(), usedforsecurity=False).hexdigest()[:16]


class IdLabeler:
    """Labels ids by searching each known parent's first ``fanout`` children and branches."""

    def __init__(self, fanout: int = 64) -> None:
        self.fanout = fanout
        self._labels: dict[str, str] = {}
        self._js_paths: dict[str, str] = {}  # a JS-derived id -> its raw path, to derive its children
        self._expanded: set[str | None] = set()
        self._resolved: dict[str, None] = {}  # ids asked about and found
        self._near: dict[str, None] = {}  # candidates one level under a resolved id (or the root)
        self._unknown: set[str] = set()

    def label(self, op_id: str | None, parent_id: str | None = None) -> str:
        """The label of ``op_id`` (searched under ``parent_id`` first); the id itself if not found."""
        if op_id is None:
            return "-"
        if op_id in self._unknown:
            return op_id
        if op_id not in self._labels:
            self._expand(parent_id)
        if op_id not in self._labels:
            for parent in [*self._resolved, *self._near]:
                self._expand(parent)
                if op_id in self._labels:
                    break
        found = self._labels.get(op_id)
        if found is None:
            self._unknown.add(op_id)
            return op_id
        self._resolved[op_id] = None
        return found

    def _expand(self, parent_id: str | None) -> None:
        if parent_id in self._expanded:
            return
        self._expanded.add(parent_id)
        if parent_id is not None and parent_id not in self._labels:
            self.label(parent_id)
            if parent_id not in self._labels:
                return  # an unknown parent: nothing can be derived under it
        near = parent_id is None or parent_id in self._resolved
        prefix = "" if parent_id is None else self._labels[parent_id] + "/"
        js_parent = None if parent_id is None else self._js_paths.get(parent_id)
        for n in range(1, self.fanout + 1):
            self._add(child_id(parent_id, n), f"{prefix}{n}", near)
            if parent_id is None or js_parent is not None:
                raw = str(n) if js_parent is None else f"{js_parent}-{n}"
                if self._add(js_id(raw), f"{prefix}{n}", near):
                    self._js_paths[js_id(raw)] = raw
        if parent_id is not None:
            base = self._labels[parent_id]
            for i in range(self.fanout):
                self._add(branch_id(parent_id, i), f"{base}[{i}]", near)

    def _add(self, op_id: str, label: str, near: bool) -> bool:
        if op_id in self._labels:
            return False
        self._labels[op_id] = label
        if near:
            self._near[op_id] = None
        return True
