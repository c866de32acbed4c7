"""How an operation gets its Name when the caller gives none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def resolve_name(name: str | None, fn: Callable[..., Any]) -> tuple[str | None, bool]:
    """``(name, inferred)``: the given name, else the function's ``__name__`` (never ``<lambda>``)."""
    if name:
        return name, False
    inferred = getattr(fn, "__name__", None)
    if not isinstance(inferred, str) or inferred == "<lambda>":
        return None, False
    return inferred, True
