"""The one guard every pager of GetDurableExecutionState answers uses: a marker seen twice is an error.

A service (or a proxy, or a bug) that answers the same page again would otherwise be paged forever. The
core pages the invocation's initial state with it, and the AWS backend the state a checkpoint answer
continues in further pages; one guard, so the two cannot drift apart.
"""

from __future__ import annotations

from eventflow.errors import CheckpointError

__all__ = ["MarkerGuard"]


class MarkerGuard:
    """Remembers the markers one paging has followed; `follow` refuses a repeated one."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def follow(self, marker: str) -> None:
        """Record that the pager is about to ask for `marker`'s page; `CheckpointError` if it did already."""
        if marker in self._seen:
            raise CheckpointError(f"GetDurableExecutionState returned marker {marker!r} twice")
        self._seen.add(marker)
