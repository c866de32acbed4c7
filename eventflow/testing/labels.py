"""Stable, readable labels for operation ids, so snapshots read ``2/1`` instead of 64 hex digits.

Ids are hashes of their position (PROTOCOL.md §3), so a label is recovered by re-deriving the ids a
parent can have: ``3`` is the root's third operation, ``3/1`` the first operation inside it, ``1[0]``
branch 0 of the map or parallel operation ``1``.
"""

from __future__ import annotations

from eventflow.ids import branch_id, child_id


class IdLabeler:
    """Labels ids by searching each known parent's first ``fanout`` children and branches."""

    def __init__(self, fanout: int = 64) -> None:
        self.fanout = fanout
        self._labels: dict[str, str] = {}
        self._expanded: set[str | None] = set()

    def label(self, op_id: str | None, parent_id: str | None = None) -> str:
        """The label of ``op_id`` (searched under ``parent_id`` first); the id itself if not found."""
        if op_id is None:
            return "-"
        if op_id not in self._labels:
            self._expand(parent_id)
        if op_id not in self._labels:
            for parent in list(self._labels):
                self._expand(parent)
                if op_id in self._labels:
                    break
        return self._labels.get(op_id, op_id)

    def _expand(self, parent_id: str | None) -> None:
        if parent_id in self._expanded:
            return
        self._expanded.add(parent_id)
        prefix = "" if parent_id is None else self.label(parent_id) + "/"
        for n in range(1, self.fanout + 1):
            self._labels.setdefault(child_id(parent_id, n), f"{prefix}{n}")
        if parent_id is not None:
            base = self.label(parent_id)
            for i in range(self.fanout):
                self._labels.setdefault(branch_id(parent_id, i), f"{base}[{i}]")
