"""Canonical JSON and the hashes over it: the one byte form every audit hash and signature is computed on.

Why: a hash chain is only verifiable if writer and verifier serialize a record to the same bytes. Canonical
here means: keys sorted, no insignificant whitespace, UTF-8 without escaping non-ASCII, no NaN/Infinity.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

__all__ = ["GENESIS", "canonical_json", "record_hash", "sign", "signatures_match"]

GENESIS = "0" * 64
"""The ``prev`` of the first record: there is nothing before it."""


def canonical_json(value: Any) -> bytes:
    """``value`` as canonical JSON bytes."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def record_hash(record: dict[str, Any]) -> str:
    """SHA-256 (hex) of the record's canonical JSON without its own ``hash`` member."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def sign(key: bytes, record: dict[str, Any]) -> str:
    """HMAC-SHA256 (hex) of the record's canonical JSON without its ``hash`` and ``sig`` members."""
    body = {k: v for k, v in record.items() if k not in ("hash", "sig")}
    return hmac.new(key, canonical_json(body), hashlib.sha256).hexdigest()


def signatures_match(key: bytes, record: dict[str, Any]) -> bool:
    """Whether the record's ``sig`` is `sign(key, record)`, compared in constant time."""
    return hmac.compare_digest(str(record.get("sig", "")), sign(key, record))
