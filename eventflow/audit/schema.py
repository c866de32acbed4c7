"""The audit record schema, its versions, and the upcasters that read old records as the current version.

Why: audit files outlive the code that wrote them. Every record names its schema version; readers upcast
older records step by step (v1 -> v2 -> ...) to the current shape before interpreting them. Hashes are
never recomputed on the upcast form: a record's hash covers the bytes as they were written, so upcasting
changes how a record is read, never whether it verifies.

Version 2 (current), one JSON object per line::

    {"v": 2, "seq": 1, "kind": "event", "prev": "<sha256 of record seq-1, or 64 zeros>",
     "body": {<a history event, or an operation, in the API's wire shape>}, "hash": "<sha256>"}

and a final head record ``{"v": 2, "seq": n+1, "kind": "head", "prev": ..., "count": n, "alg": ...,
"sig": "<HMAC-SHA256 hex, when signed>", "hash": ...}``.

Version 1 (the first draft, still read): ``{"version": 1, "index": <0-based>, "prev_hash": ...,
"event": {...}, "hash": ...}``, events only and no head.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventflow.errors import InvalidInputError

__all__ = ["CURRENT_VERSION", "UPCASTERS", "upcast", "version_of"]

CURRENT_VERSION = 2


def _v1_to_v2(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "v": 2,
        "seq": int(record["index"]) + 1,
        "kind": "event",
        "prev": record["prev_hash"],
        "body": record["event"],
        "hash": record.get("hash"),
    }


UPCASTERS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}
"""``UPCASTERS[n]`` turns a version-n record into a version n+1 record."""


def version_of(record: dict[str, Any]) -> int:
    version = record.get("v", record.get("version"))
    if not isinstance(version, int) or isinstance(version, bool):
        raise InvalidInputError("audit record has no schema version")
    return version


def upcast(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` in the current schema version. Raises `InvalidInputError` for unknown or newer versions."""
    version = version_of(record)
    if version > CURRENT_VERSION:
        raise InvalidInputError(f"audit record version {version} is newer than this eventflow reads")
    while version < CURRENT_VERSION:
        step = UPCASTERS.get(version)
        if step is None:
            raise InvalidInputError(f"no upcaster from audit record version {version}")
        try:
            record = step(record)
        except KeyError as exc:
            raise InvalidInputError(f"audit record version {version} lacks {exc}") from None
        version += 1
    return record
