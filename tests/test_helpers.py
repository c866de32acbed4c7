"""Deterministic helpers: ``ctx.now()``, ``ctx.random()``, ``ctx.uuid4()`` are steps, so a replay returns
the value the first run recorded instead of asking the clock or the RNG again."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from eventflow import AsyncDurableContext, DurableContext
from eventflow.envelope import EnvelopeSerDes
from eventflow.handler import DurableHandler
from eventflow.local import LocalService
from eventflow.testing import DurableHarness, IdLabeler, RecordingBackend, render_checkpoints

seen: list[tuple[datetime, float, uuid.UUID]] = []


def sync_handler(event: Any, ctx: DurableContext) -> Any:
    when, r, uid = ctx.now(), ctx.random(), ctx.uuid4()
    seen.append((when, r, uid))
    ctx.wait(seconds=1)  # forces a second invocation that replays the three helpers
    return [when.isoformat(), r, str(uid)]


async def async_handler(event: Any, ctx: AsyncDurableContext) -> Any:
    when, r, uid = await ctx.now(), await ctx.random(), await ctx.uuid4()
    seen.append((when, r, uid))
    await ctx.wait(seconds=1)
    return [when.isoformat(), r, str(uid)]


def _run(fn: Any, **options: Any) -> tuple[LocalService, RecordingBackend, Any]:
    run = DurableHarness().run(DurableHandler(fn, None, **options), {})
    return run.service, run.recorder, run.execution


@pytest.mark.parametrize("fn", [sync_handler, async_handler])
def test_helpers_are_recorded_once_and_replayed_exactly(fn: Any) -> None:
    seen.clear()
    _, recorder, execution = _run(fn)
    assert execution.status == "SUCCEEDED"
    assert len(seen) == 2  # the first run and the replay after the wait
    first, replayed = seen
    assert first == replayed
    when, r, uid = first
    assert when.tzinfo is not None and when.utcoffset() == UTC.utcoffset(None)
    assert isinstance(r, float) and 0.0 <= r < 1.0
    assert isinstance(uid, uuid.UUID) and uid.version == 4
    text = render_checkpoints(recorder.batches, IdLabeler(), verbatim=True)
    text = re.sub(r'payload="[^"]*"', 'payload="…"', text)
    text = re.sub(r"payload=0\.\d+", "payload=0.…", text)
    assert text == (
        '#1 START   root/1 step "now"\n'
        '#1 SUCCEED root/1 step "now" payload="…"\n'
        '#2 START   root/2 step "random"\n'
        '#2 SUCCEED root/2 step "random" payload=0.…\n'
        '#3 START   root/3 step "uuid4"\n'
        '#3 SUCCEED root/3 step "uuid4" payload="…"\n'
        '#4 START   root/4 wait WaitSeconds=1\n'
    )
    assert recorder.batches[0][1].payload == f'"{when.isoformat()}"'
    assert recorder.batches[2][1].payload == f'"{uid}"'


def test_sync_and_async_write_the_same_operations() -> None:
    seen.clear()
    _, sync_rec, _ = _run(sync_handler)
    _, async_rec, _ = _run(async_handler)
    shape = [[(u.action, u.type, u.name) for u in b] for b in sync_rec.batches]
    assert shape == [[(u.action, u.type, u.name) for u in b] for b in async_rec.batches]


def test_helpers_keep_their_format_under_a_handler_wide_serdes_and_take_names() -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        return str(ctx.uuid4(name="order id")), ctx.now(name="t0").year

    _, recorder, execution = _run(handler, serdes=EnvelopeSerDes())
    assert [u.name for u in recorder.updates] == ["order id", "order id", "t0", "t0"]
    assert recorder.updates[1].payload is not None and recorder.updates[1].payload.startswith('"')
    assert execution.status == "SUCCEEDED"
