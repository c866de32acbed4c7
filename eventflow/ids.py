"""Operation ids, computed exactly as the official SDK computes them (PROTOCOL.md §3).

Every context numbers its operations 1, 2, 3, ... The raw id is that number at the root and
``"{parent_id}-{n}"`` inside a child context; the wire id is the first 64 hex digits of its blake2b
digest. Map items and parallel branches are numbered from 0 under the batch operation's id.
"""

from __future__ import annotations

from hashlib import blake2b


def hash_id(raw: str) -> str:
    """The wire id of a raw id."""
    return blake2b(raw.encode()).hexdigest()[:64]


def child_id(parent_id: str | None, n: int) -> str:
    """The wire id of the ``n``-th operation (1-based) of a context whose own id is ``parent_id``."""
    return hash_id(str(n) if parent_id is None else f"{parent_id}-{n}")


def branch_id(batch_id: str, index: int) -> str:
    """The wire id of item/branch ``index`` (0-based) of the map or parallel operation ``batch_id``."""
    return hash_id(f"{batch_id}-{index}")
