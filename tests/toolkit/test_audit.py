"""The tamper-evident audit log: every kind of tampering is found and the record is named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eventflow.audit import CURRENT_VERSION, AuditReport, audit_lines, upcast, verify_audit, verify_audit_file
from eventflow.audit.canonical import GENESIS, canonical_json, record_hash
from eventflow.errors import InvalidInputError
from eventflow.testing.harness import DurableHarness

KEY = b"audit-key"


def _handler(event: Any, ctx: Any) -> Any:
    one = ctx.step(lambda _: 1, name="one")
    ctx.wait(seconds=2, name="pause")
    return ctx.step(lambda _: one + 1, name="charge")


@pytest.fixture(scope="module")
def lines() -> list[str]:
    history = DurableHarness().run(_handler).history
    return audit_lines(history, key=KEY).splitlines()


def _record(lines: list[str], i: int) -> dict[str, Any]:
    return json.loads(lines[i])  # type: ignore[no-any-return]


def _only(report: AuditReport) -> tuple[str, int | None, str]:
    assert len(report.problems) == 1, str(report)
    (problem,) = report.problems
    return problem.kind, problem.line, problem.message


def test_an_untouched_log_verifies_with_its_key(lines: list[str]) -> None:
    report = verify_audit(lines, KEY)
    assert report.ok and report.signature_checked
    assert report.records == len(lines) - 1
    first, head = _record(lines, 0), _record(lines, -1)
    assert first["prev"] == GENESIS and first["v"] == CURRENT_VERSION
    assert _record(lines, 1)["prev"] == first["hash"]  # each record carries the hash of the one before
    assert head["kind"] == "head" and head["count"] == len(lines) - 1 and head["alg"] == "HMAC-SHA256"


def test_an_edited_event_is_named(lines: list[str]) -> None:
    record = _record(lines, 2)
    record["body"]["StepSucceededDetails"]["Result"]["Payload"] = "1000"
    kind, line, message = _only(verify_audit([*lines[:2], json.dumps(record), *lines[3:]], KEY))
    assert (kind, line) == ("edited", 3)
    assert 'event 3 StepSucceeded root/1 step "one"' in message


def test_an_edited_event_with_a_recomputed_hash_is_still_found(lines: list[str]) -> None:
    record = _record(lines, 2)
    record["body"]["StepSucceededDetails"]["Result"]["Payload"] = "1000"
    record["hash"] = record_hash(record)
    kind, line, message = _only(verify_audit([*lines[:2], json.dumps(record), *lines[3:]], KEY))
    assert (kind, line) == ("edited", 3) and "hash was recomputed" in message


def test_a_dropped_event_is_named(lines: list[str]) -> None:
    kind, line, message = _only(verify_audit([*lines[:3], *lines[4:]], KEY))
    assert (kind, line) == ("dropped", 4)
    assert "seq 4 missing before event 5" in message


def test_events_dropped_at_the_start_and_the_end(lines: list[str]) -> None:
    assert _only(verify_audit(lines[1:], KEY))[0] == "dropped"
    kind, _, message = _only(verify_audit([*lines[:-2], lines[-1]], KEY))
    assert kind == "dropped" and "before head" in message
    assert _only(verify_audit(lines[:-2], KEY))[0] == "truncated"  # the head went too


def test_an_inserted_event_is_named(lines: list[str]) -> None:
    forged = _record(lines, 3)
    forged["body"]["EventId"] = 99
    forged["hash"] = record_hash(forged)
    kind, line, message = _only(verify_audit([*lines[:4], json.dumps(forged), *lines[4:]], KEY))
    assert (kind, line) == ("inserted", 5) and "event 99" in message

    forged["prev"] = "ab" * 32  # linking to nothing
    forged["hash"] = record_hash(forged)
    assert _only(verify_audit([*lines[:4], json.dumps(forged), *lines[4:]], KEY))[:2] == ("inserted", 5)


@pytest.mark.parametrize(
    ("order", "moved_line", "named"),
    [
        ([0, 1, 2, 4, 3, 5], 4, "event 5"),  # two neighbours swapped
        ([0, 2, 3, 4, 5, 1], 6, "event 2 StepStarted"),  # one event moved down
    ],
)
def test_reordered_events_are_named(lines: list[str], order: list[int], moved_line: int, named: str) -> None:
    shuffled = [lines[i] for i in order] + lines[len(order) :]
    kind, line, message = _only(verify_audit(shuffled, KEY))
    assert (kind, line) == ("reordered", moved_line)
    assert named in message


def test_a_rewritten_chain_is_caught_only_by_the_signature(lines: list[str]) -> None:
    # Rewriting from record 3 on, hashes and head recomputed: consistent without the key.
    records = [_record(lines, i) for i in range(len(lines))]
    records[2]["body"]["StepSucceededDetails"]["Result"]["Payload"] = "1000"
    for i in range(2, len(records)):
        records[i]["prev"] = records[i - 1]["hash"]
        records[i]["hash"] = record_hash(records[i])
    rewritten = [json.dumps(r) for r in records]
    assert verify_audit(rewritten).ok  # nothing to see without the key...
    kind, _, message = _only(verify_audit(rewritten, KEY))
    assert kind == "signature" and "HMAC" in message
    assert _only(verify_audit(lines, b"wrong key"))[0] == "signature"


def test_version_1_records_are_upcast_and_verified(tmp_path: Path) -> None:
    prev, written = GENESIS, []
    for index, event_id in enumerate((1, 2)):
        record = {
            "version": 1,
            "index": index,
            "prev_hash": prev,
            "event": {"EventType": "StepStarted", "EventId": event_id},
        }
        record["hash"] = record_hash(record)
        prev = record["hash"]
        written.append(json.dumps(record))
    path = tmp_path / "old.jsonl"
    path.write_text("\n".join(written) + "\n")
    assert verify_audit_file(path).ok  # v1 logs had no head: not reported as truncated
    upcast_record = upcast(json.loads(written[1]))
    assert upcast_record == {
        "v": 2,
        "seq": 2,
        "kind": "event",
        "prev": json.loads(written[0])["hash"],
        "body": {"EventType": "StepStarted", "EventId": 2},
        "hash": prev,
    }
    tampered = json.loads(written[1])
    tampered["event"]["EventId"] = 7
    path.write_text(written[0] + "\n" + json.dumps(tampered) + "\n")
    assert _only(verify_audit_file(path))[:2] == ("edited", 2)


def test_unknown_versions_and_garbage_are_reported() -> None:
    with pytest.raises(InvalidInputError, match="newer"):
        upcast({"v": CURRENT_VERSION + 1})
    report = verify_audit(["not json", json.dumps({"no": "version"})])
    assert [p.kind for p in report.problems][:2] == ["malformed", "malformed"]


def test_canonical_json_is_key_order_and_whitespace_independent() -> None:
    assert (
        canonical_json({"b": 1, "a": [1, {"d": "é", "c": None}]})
        == b'{"a":[1,{"c":null,"d":"\xc3\xa9"}],"b":1}'
    )
