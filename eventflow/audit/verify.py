"""Verifying an audit log: find every edited, dropped, inserted or reordered record and name it.

Why each check:

- a record whose content no longer hashes to its ``hash`` was **edited**;
- a record whose ``prev`` is not the hash of the record before it breaks the chain; the sequence numbers
  and the hashes around it say how: the records between were **dropped** (a gap in ``seq``), the record
  before it was **inserted** (``prev`` skips it and points at the one before), or records were
  **reordered** (``seq`` goes backwards, or ``prev`` points at a record further down);
- the head's count and ``prev`` catch records **dropped at the end**; its HMAC, checked with the key,
  catches a chain rewritten from some point on (hashes recomputed), which no unkeyed check can.

Records are named by line, sequence number and what they hold (``event 7 StepSucceeded root/2 step
"charge"``), so an auditor can go straight to them.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eventflow.audit.canonical import GENESIS, record_hash, signatures_match
from eventflow.audit.schema import upcast
from eventflow.errors import InvalidInputError

__all__ = ["AuditProblem", "AuditReport", "verify_audit", "verify_audit_file"]


@dataclass(frozen=True)
class AuditProblem:
    """One finding: its kind (edited, dropped, inserted, reordered, truncated, signature, malformed)."""

    kind: str
    line: int | None
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "log"
        return f"{self.kind.upper()} at {where}: {self.message}"


@dataclass
class AuditReport:
    """The verdict over one audit log."""

    records: int = 0
    signed: bool = False
    signature_checked: bool = False
    problems: list[AuditProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        if self.ok:
            how = (
                "signature verified"
                if self.signature_checked
                else ("signed, signature NOT checked (no key)" if self.signed else "unsigned head")
            )
            return f"OK: {self.records} records, chain intact, {how}"
        return "\n".join(str(p) for p in self.problems)


@dataclass
class _Row:
    line: int
    raw: dict[str, Any]
    record: dict[str, Any]

    @property
    def seq(self) -> int:
        return int(self.record.get("seq", 0))

    @property
    def stored_hash(self) -> str:
        return str(self.raw.get("hash", ""))

    @property
    def prev(self) -> str:
        return str(self.record.get("prev", ""))


def describe(record: dict[str, Any]) -> str:
    """What a record holds, for messages: ``event 7 StepSucceeded root/2 step "charge"``."""
    from eventflow.testing.labels import IdLabeler
    from eventflow.testing.lines import kind_of, op_label

    if record.get("kind") == "head":
        return f"head (count {record.get('count')})"
    body = record.get("body") or {}
    op_id, parent = body.get("Id"), body.get("ParentId")
    label = op_label(IdLabeler(), op_id, parent) if op_id else ""
    name = f' "{body["Name"]}"' if body.get("Name") is not None else ""
    if "EventType" in body:
        event_type = body["EventType"]
        target = (
            ""
            if str(event_type).startswith(("Execution", "Invocation"))
            else (f" {label} {kind_of(None, body.get('SubType'))}{name}")
        )
        return f"event {body.get('EventId', '?')} {event_type}{target}"
    return f"operation {label} {kind_of(body.get('Type'), body.get('SubType'))}{name}".rstrip()


def _rows(lines: Iterable[str], report: AuditReport) -> list[_Row]:
    rows: list[_Row] = []
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            raw = json.loads(text)
            if not isinstance(raw, dict):
                raise InvalidInputError("not a JSON object")
            rows.append(_Row(number, raw, upcast(raw)))
        except (ValueError, InvalidInputError) as exc:
            report.problems.append(AuditProblem("malformed", number, None, f"unreadable record: {exc}"))
    return rows


def verify_audit(lines: Iterable[str], key: bytes | None = None) -> AuditReport:
    """Check an audit log given as lines of JSONL; with ``key``, also the head's HMAC signature."""
    report = AuditReport()
    rows = _rows(lines, report)
    head = rows[-1] if rows and rows[-1].record.get("kind") == "head" else None
    report.records = len(rows) - (1 if head else 0)
    for row in rows:
        if record_hash(row.raw) != row.stored_hash:
            report.problems.append(
                AuditProblem(
                    "edited", row.line, row.seq, f"{describe(row.record)} no longer matches its hash"
                )
            )
    chain = _walk(rows, report.problems)
    position = {index: k for k, index in enumerate(chain)}
    for before, after in itertools.pairwise(chain):
        if rows[after].line < rows[before].line:
            # Name the record that moved farthest from its place in the chain.
            moved = max((after, before), key=lambda i: abs(i - position[i]))
            k = position[moved]
            place = f"right after line {rows[chain[k - 1]].line}" if k else "first"
            report.problems.append(
                AuditProblem(
                    "reordered",
                    rows[moved].line,
                    rows[moved].seq,
                    f"{describe(rows[moved].record)} (seq {rows[moved].seq}) is out of order: "
                    f"the chain puts it {place}",
                )
            )
    # Version 1 logs had no head; from version 2 on a log without one lost its end.
    expects_head = any("v" in row.raw for row in rows)
    _check_head(head, report.records, key, report, expects_head=expects_head)
    return report


def _walk(rows: list[_Row], problems: list[AuditProblem]) -> list[int]:
    """Follow the chain from the genesis hash; report forks (insertions) and gaps (drops, rewrites).

    Returns the row indexes in chain order.
    """
    successors: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        successors.setdefault(row.prev, []).append(i)
    hashes = {row.stored_hash for row in rows}
    remaining = set(range(len(rows)))
    chain: list[int] = []
    current, last_seq = GENESIS, 0
    while remaining:
        candidates = [i for i in successors.get(current, ()) if i in remaining]
        if len(candidates) > 1:
            keep = max(
                candidates, key=lambda i: (_has_successor(rows[i], successors, remaining), -rows[i].line)
            )
            for i in candidates:
                if i != keep:
                    problems.append(
                        AuditProblem(
                            "inserted",
                            rows[i].line,
                            rows[i].seq,
                            f"{describe(rows[i].record)} is not part of the chain "
                            "(another record holds its place)",
                        )
                    )
                    remaining.discard(i)
            candidates = [keep]
        if candidates:
            index = candidates[0]
        else:
            # A record after a gap links to a hash no record has, and continues the sequence.
            orphans = [i for i in remaining if rows[i].prev not in hashes and rows[i].seq > last_seq]
            if not orphans:
                break
            index = min(orphans, key=lambda i: (rows[i].seq, rows[i].line))
            row = rows[index]
            if row.seq > last_seq + 1:
                missing = ", ".join(str(s) for s in range(last_seq + 1, row.seq))
                problems.append(
                    AuditProblem(
                        "dropped",
                        row.line,
                        row.seq,
                        f"record(s) with seq {missing} missing before {describe(row.record)}",
                    )
                )
            elif chain:
                changed = rows[chain[-1]]
                problems.append(
                    AuditProblem(
                        "edited",
                        changed.line,
                        changed.seq,
                        f"{describe(changed.record)} was replaced (its hash was recomputed; the next record "
                        "links to the original)",
                    )
                )
        chain.append(index)
        remaining.discard(index)
        current, last_seq = rows[index].stored_hash, rows[index].seq
    for i in sorted(remaining):
        problems.append(
            AuditProblem(
                "inserted",
                rows[i].line,
                rows[i].seq,
                f"{describe(rows[i].record)} does not link into the chain",
            )
        )
    return chain


def _has_successor(row: _Row, successors: dict[str, list[int]], remaining: set[int]) -> bool:
    return any(i in remaining for i in successors.get(row.stored_hash, ()))


def _check_head(
    head: _Row | None, records: int, key: bytes | None, report: AuditReport, *, expects_head: bool
) -> None:
    problems = report.problems
    if head is None:
        if expects_head:
            problems.append(
                AuditProblem("truncated", None, None, "no head record: the end of the log is missing")
            )
        return
    count = int(head.record.get("count", -1))
    if count != records and not any(p.kind in ("dropped", "inserted") for p in problems):
        problems.append(
            AuditProblem(
                "dropped" if count > records else "inserted",
                head.line,
                head.seq,
                f"the head counts {count} records but {records} are present",
            )
        )
    report.signed = "sig" in head.raw
    if key is not None:
        if not report.signed:
            problems.append(AuditProblem("signature", head.line, head.seq, "the head is not signed"))
        elif not signatures_match(key, head.raw):
            problems.append(
                AuditProblem(
                    "signature",
                    head.line,
                    head.seq,
                    "the head's HMAC does not match: the log was rewritten or the key is wrong",
                )
            )
        else:
            report.signature_checked = True


def verify_audit_file(path: str | Path, key: bytes | None = None) -> AuditReport:
    """`verify_audit` of a file."""
    return verify_audit(Path(path).read_text(encoding="utf-8").splitlines(), key)
