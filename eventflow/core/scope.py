"""One context's id namespace: its parent operation and its counter (PROTOCOL.md §3)."""

from __future__ import annotations

from eventflow.ids import child_id


class Scope:
    """The ids a context hands out: ``blake2b(n)`` at the root, ``blake2b(f"{parent}-{n}")`` below."""

    __slots__ = ("counter", "parent_id")

    def __init__(self, parent_id: str | None = None) -> None:
        self.parent_id = parent_id
        self.counter = 0

    def next_id(self) -> str:
        self.counter += 1
        return child_id(self.parent_id, self.counter)
