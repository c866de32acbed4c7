"""The protocol limits and the service side's batch rule (`eventflow.events.limits`), against the SDK's
splitter: every batch the splitter cuts is one the service takes, and the service refuses on its own what
the splitter would have cut."""

from __future__ import annotations

from eventflow.core.batching import split_batches
from eventflow.core.operations import invoke
from eventflow.events.enums import OperationAction, OperationType
from eventflow.events.limits import (
    MAX_BATCH_BYTES,
    MAX_BATCH_UPDATES,
    MAX_INVOKE_PAYLOAD_BYTES,
    MAX_PAYLOAD_BYTES,
    batch_refusal,
)
from eventflow.events.wire import OperationUpdate
from eventflow.local import checkpoint

A = OperationAction


def update(
    op_id: str, action: OperationAction, kind: OperationType = OperationType.STEP, payload: str = ""
) -> OperationUpdate:
    return OperationUpdate(id=op_id, type=kind, action=action, payload=payload or None)


def test_the_service_takes_a_start_with_its_completion_but_not_two_updates_for_one_id() -> None:
    assert batch_refusal([update("s", A.START), update("s", A.SUCCEED, payload="1")]) is None
    refusal = batch_refusal(
        [update("w", A.START, OperationType.WAIT), update("w", A.CANCEL, OperationType.WAIT)]
    )
    assert refusal is not None and "w has two" in refusal
    assert batch_refusal([update("s", A.START), update("s", A.START)]) is not None


def test_the_service_counts_updates_itself() -> None:
    many = [update(str(i), A.START) for i in range(MAX_BATCH_UPDATES + 1)]
    assert "at most 250 updates" in (batch_refusal(many) or "")
    assert batch_refusal(many[:-1]) is None


def test_the_sdk_cuts_at_its_own_byte_cap_which_the_service_does_not_impose() -> None:
    big = "x" * (MAX_BATCH_BYTES // 3 + 1)
    heavy = [update(str(i), A.SUCCEED, payload=big) for i in range(3)]
    assert len(split_batches(heavy)) == 2
    assert batch_refusal(heavy) is None


def test_every_batch_the_sdk_cuts_is_one_the_service_takes() -> None:
    big = "y" * (200 * 1024)
    updates = [
        *(update(f"s{i}", A.START) for i in range(300)),
        *(u for i in range(6) for u in (update(f"c{i}", A.START), update(f"c{i}", A.SUCCEED, payload=big))),
        update("w", A.START, OperationType.WAIT),
        update("w", A.CANCEL, OperationType.WAIT),
    ]
    batches = split_batches(updates)
    assert len(batches) > 2
    assert all(batch_refusal(batch) is None for batch in batches)


def test_both_sides_take_the_one_chained_invoke_limit() -> None:
    # The SDK refused over 256 KiB and the local service over 1 MiB; now both hold the operation limit.
    assert vars(invoke)["MAX_INVOKE_PAYLOAD_BYTES"] is MAX_INVOKE_PAYLOAD_BYTES == MAX_PAYLOAD_BYTES
    assert vars(checkpoint)["MAX_INVOKE_PAYLOAD_BYTES"] is MAX_INVOKE_PAYLOAD_BYTES
