"""Writing a tamper-evident audit log: each record carries the hash of the one before, a head seals it.

Why: a history exported as plain JSON can be edited without a trace. Chained hashes make any change to a
record, any record dropped, inserted or moved, visible to `eventflow.audit.verify`. The head record
fixes the count and the last hash; signed with a key (HMAC-SHA256), it also stops someone who rewrites the
whole chain from the edit onwards, since they cannot re-sign the head without the key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from eventflow.audit.canonical import GENESIS, record_hash, sign
from eventflow.audit.schema import CURRENT_VERSION
from eventflow.events.history import Event
from eventflow.events.wire import Operation

__all__ = ["AuditWriter", "audit_lines", "write_audit_log"]


class AuditWriter:
    """Builds the records of one audit log in order; `seal` adds the head."""

    def __init__(self, key: bytes | None = None) -> None:
        self.key = key
        self.records: list[dict[str, Any]] = []
        self._prev = GENESIS
        self._sealed = False

    def append(self, body: dict[str, Any], kind: str = "event") -> dict[str, Any]:
        """Add one record holding ``body`` (a wire dict) and return it."""
        if self._sealed:
            raise ValueError("the audit log is sealed")
        record: dict[str, Any] = {
            "v": CURRENT_VERSION,
            "seq": len(self.records) + 1,
            "kind": kind,
            "prev": self._prev,
            "body": body,
        }
        record["hash"] = record_hash(record)
        self._prev = record["hash"]
        self.records.append(record)
        return record

    def seal(self) -> dict[str, Any]:
        """Add the head: the record count and last hash, HMAC-signed when the writer has a key."""
        head: dict[str, Any] = {
            "v": CURRENT_VERSION,
            "seq": len(self.records) + 1,
            "kind": "head",
            "prev": self._prev,
            "count": len(self.records),
            "alg": "HMAC-SHA256" if self.key else None,
        }
        if self.key:
            head["sig"] = sign(self.key, head)
        head["hash"] = record_hash(head)
        self.records.append(head)
        self._sealed = True
        return head

    def lines(self) -> str:
        return "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in self.records)


def _body(item: Event | Operation | dict[str, Any]) -> tuple[str, dict[str, Any]]:
    from eventflow.testing.histories import wire_dict

    if isinstance(item, Event):
        return "event", wire_dict(item)
    if isinstance(item, Operation):
        return "operation", wire_dict(item)
    return "event", dict(item)


def audit_lines(items: Iterable[Event | Operation | dict[str, Any]], key: bytes | None = None) -> str:
    """A sealed audit log of ``items`` (history events or operations) as JSONL text."""
    writer = AuditWriter(key)
    for item in items:
        kind, body = _body(item)
        writer.append(body, kind)
    writer.seal()
    return writer.lines()


def write_audit_log(
    path: str | Path, items: Iterable[Event | Operation | dict[str, Any]], key: bytes | None = None
) -> None:
    """`audit_lines` written to ``path``."""
    Path(path).write_text(audit_lines(items, key), encoding="utf-8")
