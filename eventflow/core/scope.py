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


class VirtualScope(Scope):
    """A virtual context's namespace: ids derive from the context's own id (``prefix``), while ParentId is
    the enclosing context's (a virtual context is never recorded). FLAT map/parallel items use it."""

    __slots__ = ("prefix",)

    def __init__(self, prefix: str, parent_id: str | None) -> None:
        super().__init__(parent_id)
        self.prefix = prefix

    def next_id(self) -> str:
        self.counter += 1
        return child_id(self.prefix, self.counter)
