"""Serdes: plain JSON by default, pydantic models, and the official SDK's typed envelope (read and written).

The envelope vectors below were produced by the official SDK's ``ExtendedTypeSerDes`` (3.0.0) and are
checked byte for byte, so payloads are interchangeable in both directions.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from eventflow import AsyncDurableContext, DurableContext
from eventflow.batch import BatchItem, BatchItemStatus, BatchResult, CompletionReason
from eventflow.envelope import EnvelopeSerDes
from eventflow.errors import SerDesError
from eventflow.events.wire import ErrorObject
from eventflow.handler import DurableHandler
from eventflow.local import LocalService
from eventflow.serdes import JsonSerDes, PydanticSerDes, SerDesContext, deserialize, round_trip, serialize
from eventflow.testing import DurableHarness, IdLabeler, RecordingBackend, render_checkpoints

CTX = SerDesContext("op-1", "arn:test")
ENVELOPE = EnvelopeSerDes()


# -- the typed envelope, against the official writer's bytes -------------------------------------------

OFFICIAL_VECTORS: list[tuple[Any, str]] = [
    (42, "42"),
    ("abc", '"abc"'),
    (None, "null"),
    ([1, "a", None, True], '[1,"a",null,true]'),
    ({"x": 1}, '{"t":"m","v":{"x":{"t":"i","v":1}}}'),
    ((1, "a"), '{"t":"t","v":[{"t":"i","v":1},{"t":"s","v":"a"}]}'),
    ([1, [2, [None]]], '[1,[2,[null]]]'),
    ([1, {"a": 2}], '{"t":"l","v":[{"t":"i","v":1},{"t":"m","v":{"a":{"t":"i","v":2}}}]}'),
    (b"\x00\xff", '{"t":"B","v":"AP8="}'),
    (
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        '{"t":"u","v":"12345678-1234-5678-1234-567812345678"}',
    ),
    (Decimal("1.10"), '{"t":"d","v":"1.10"}'),
    (
        datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        '{"t":"dt","v":"2025-01-02T03:04:05.000006+00:00"}',
    ),
    (date(2025, 1, 2), '{"t":"D","v":"2025-01-02"}'),
    (
        {"ok": False, "f": 1.5, "n": None, "s": "é"},
        '{"t":"m","v":{"ok":{"t":"b","v":false},"f":{"t":"f","v":1.5},"n":{"t":"n","v":null},'
        '"s":{"t":"s","v":"\\u00e9"}}}',
    ),
]


@pytest.mark.parametrize(("value", "wire"), OFFICIAL_VECTORS)
def test_envelope_writes_the_official_bytes_and_reads_them_back(value: Any, wire: str) -> None:
    assert ENVELOPE.serialize(value, CTX) == wire
    back = ENVELOPE.deserialize(wire, CTX)
    assert back == value
    assert type(back) is type(value)


def test_envelope_batch_result_uses_the_br_tag_and_rebuilds_the_batch() -> None:
    batch = BatchResult(
        [
            BatchItem(0, BatchItemStatus.SUCCEEDED, {"a": 1}),
            BatchItem(1, BatchItemStatus.FAILED, None, ErrorObject(error_message="boom", error_type="E")),
        ],
        CompletionReason.ALL_COMPLETED,
    )
    wire = ENVELOPE.serialize(batch, CTX)
    assert wire.startswith('{"t":"br","v":{"all":{"t":"l","v":[{"t":"m","v":{"index":{"t":"i","v":0}')
    assert '"completionReason":{"t":"s","v":"ALL_COMPLETED"}' in wire
    back = ENVELOPE.deserialize(wire, CTX)
    assert isinstance(back, BatchResult)
    assert back.to_dict() == batch.to_dict()


def test_envelope_reads_a_trailing_z_and_lenient_nested_values() -> None:
    assert ENVELOPE.deserialize('{"t":"dt","v":"2025-01-02T03:04:05Z"}', CTX) == datetime(
        2025, 1, 2, 3, 4, 5, tzinfo=UTC
    )
    # A nested value that is not an envelope is taken as it is, as the official reader does.
    assert ENVELOPE.deserialize('{"t":"m","v":{"raw":[1,2]}}', CTX) == {"raw": [1, 2]}


@pytest.mark.parametrize(
    ("wire", "fragment"),
    [
        ('{"x":1}', 'no "t" and "v"'),
        ('{"t":"zz","v":1}', "unknown typed-envelope tag 'zz'"),
        ('{"t":"i","v":"x"}', "malformed typed-envelope value for tag 'i'"),
        ('{"t":"l","v":{}}', "not an array"),
        ('{"t":"B","v":"%%%"}', "tag 'B'"),
    ],
)
def test_envelope_rejects_malformed_payloads_with_a_serdes_error(wire: str, fragment: str) -> None:
    with pytest.raises(SerDesError, match=fragment):
        deserialize(ENVELOPE, wire, *CTX)


def test_envelope_refuses_types_it_has_no_tag_for() -> None:
    with pytest.raises(SerDesError, match="no tag for set"):
        serialize(ENVELOPE, {"s": {1, 2}}, *CTX)
    with pytest.raises(SerDesError, match="dict key of type tuple"):
        serialize(ENVELOPE, {(1, 2): 3}, *CTX)


def test_envelope_round_trip_gives_the_first_run_what_a_replay_reads() -> None:
    value = {"when": datetime(2025, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=2))), "blob": b"hi",
             "pair": (1, 2), 7: "int key"}
    payload, seen = round_trip(ENVELOPE, value, CTX.operation_id, CTX.execution_arn)
    assert seen == ENVELOPE.deserialize(payload, CTX)
    assert seen["pair"] == (1, 2) and isinstance(seen["pair"], tuple)
    assert seen["blob"] == b"hi"
    assert seen["when"].utcoffset() == timedelta(hours=2)
    assert "7" in seen and 7 not in seen  # a JSON key is a string: the first run sees that already


# -- pydantic ------------------------------------------------------------------------------------------


class Order(BaseModel):
    id: str
    amount: Decimal
    placed: datetime


def test_pydantic_serdes_models_in_models_out() -> None:
    serdes = PydanticSerDes(Order)
    order = Order(id="o1", amount=Decimal("9.99"), placed=datetime(2025, 1, 1, tzinfo=UTC))
    payload = serdes.serialize(order, CTX)
    assert json.loads(payload) == {"id": "o1", "amount": "9.99", "placed": "2025-01-01T00:00:00Z"}
    assert serdes.deserialize(payload, CTX) == order


def test_pydantic_serdes_takes_any_type_through_a_type_adapter() -> None:
    serdes: PydanticSerDes[list[Order]] = PydanticSerDes(list[Order])
    orders = [Order(id=str(i), amount=Decimal(i), placed=datetime(2025, 1, 1, tzinfo=UTC)) for i in range(2)]
    assert serdes.deserialize(serdes.serialize(orders, CTX), CTX) == orders


def test_pydantic_serdes_failures_are_serdes_errors() -> None:
    serdes = PydanticSerDes(Order)
    with pytest.raises(SerDesError, match="cannot serialize"):
        serialize(serdes, {"id": "not a model"}, *CTX)
    with pytest.raises(SerDesError, match="cannot deserialize"):
        deserialize(serdes, '{"id": 1}', *CTX)


# -- through a handler: first run == replay, sync == async, terminal failures ------------------------------


def sync_models(event: Any, ctx: DurableContext) -> Any:
    order = ctx.step(
        lambda _: Order(id="o1", amount=Decimal("5"), placed=datetime(2025, 1, 1, tzinfo=UTC)),
        name="load", serdes=PydanticSerDes(Order),
    )
    assert isinstance(order, Order)
    typed = ctx.step(lambda _: {"at": order.placed, "tags": ("a", "b"), "raw": b"\x01"}, name="typed")
    assert typed["tags"] == ("a", "b") and isinstance(typed["at"], datetime)
    return [order.id, str(order.amount), typed["at"].isoformat(), list(typed["tags"])]


async def async_models(event: Any, ctx: AsyncDurableContext) -> Any:
    async def load(_: Any) -> Order:
        return Order(id="o1", amount=Decimal("5"), placed=datetime(2025, 1, 1, tzinfo=UTC))

    order = await ctx.step(load, name="load", serdes=PydanticSerDes(Order))
    assert isinstance(order, Order)
    typed = await ctx.step(lambda _: {"at": order.placed, "tags": ("a", "b"), "raw": b"\x01"}, name="typed")
    assert typed["tags"] == ("a", "b") and isinstance(typed["at"], datetime)
    return [order.id, str(order.amount), typed["at"].isoformat(), list(typed["tags"])]


EXPECTED_CHECKPOINTS = """\
#1 START   root/1 step "load"
#1 SUCCEED root/1 step "load" payload={"id":"o1","amount":"5","placed":"2025-01-01T00:00:00Z"}
#2 START   root/2 step "typed"
#2 SUCCEED root/2 step "typed" payload={"t":"m","v":{"at":{"t":"dt","v":"2025-01-01T00:00:00+00:00"},\
"tags":{"t":"t","v":[{"t":"s","v":"a"},{"t":"s","v":"b"}]},"raw":{"t":"B","v":"AQ=="}}}
"""


def _run(fn: Any, **options: Any) -> tuple[LocalService, RecordingBackend, Any]:
    run = DurableHarness().run(DurableHandler(fn, None, **options), {})
    return run.service, run.recorder, run.execution


@pytest.mark.parametrize("fn", [sync_models, async_models])
def test_handler_wide_envelope_serdes_and_a_per_step_pydantic_serdes(fn: Any) -> None:
    service, recorder, execution = _run(fn, serdes=EnvelopeSerDes())
    assert execution.result == '["o1", "5", "2025-01-01T00:00:00+00:00", ["a", "b"]]'
    assert render_checkpoints(recorder.batches, IdLabeler(), verbatim=True) == EXPECTED_CHECKPOINTS
    # Replay the finished history: the same values come back, no checkpoint is written.
    replay = RecordingBackend(service)
    output = DurableHandler(fn, replay, serdes=EnvelopeSerDes())(service.invocation_input(execution), None)
    assert output == {"Status": "SUCCEEDED", "Result": execution.result}
    assert replay.batches == []


def test_a_history_written_by_the_official_sdk_replays_with_the_envelope_serdes() -> None:
    calls: list[str] = []

    def handler(event: Any, ctx: DurableContext) -> Any:
        def fetch(_: Any) -> dict[str, Any]:
            calls.append("fetch")
            return {}

        value = ctx.step(fetch, name="fetch")
        return [value["id"].hex, str(value["price"]), value["when"].isoformat(), value["pair"][1]]

    service, _, execution = _run(handler, serdes=EnvelopeSerDes())
    # Rewrite the recorded result as the official SDK would have written it, then replay that history.
    official = (
        '{"t":"m","v":{"id":{"t":"u","v":"12345678-1234-5678-1234-567812345678"},'
        '"price":{"t":"d","v":"2.50"},"when":{"t":"dt","v":"2025-03-04T05:06:07+00:00"},'
        '"pair":{"t":"t","v":[{"t":"i","v":1},{"t":"b","v":true}]}}}'
    )
    event = service.invocation_input(execution)
    step_op = next(op for op in event["InitialExecutionState"]["Operations"] if op["Type"] == "STEP")
    step_op["StepDetails"]["Result"] = official
    calls.clear()
    output = DurableHandler(handler, RecordingBackend(service), serdes=EnvelopeSerDes())(event, None)
    assert output == {
        "Status": "SUCCEEDED",
        "Result": '["12345678123456781234567812345678", "2.50", "2025-03-04T05:06:07+00:00", true]',
    }
    assert calls == []


def test_an_unserializable_step_result_fails_the_execution_for_good() -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.step(lambda _: {1, 2}, name="bad")

    _, recorder, execution = _run(handler)
    assert execution.status == "FAILED"
    assert execution.error is not None and execution.error.error_type == "eventflow.errors.SerDesError"
    assert "cannot serialize the result of operation" in (execution.error.error_message or "")
    assert [u.action for u in recorder.updates] == ["START", "FAIL"]


def test_plain_json_stays_the_default() -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.step(lambda _: {"x": [1, 2]}, name="plain")

    _, recorder, _ = _run(handler)
    assert recorder.updates[-1].payload == '{"x":[1,2]}'
    assert isinstance(JsonSerDes().deserialize('{"x":[1,2]}', CTX), dict)


# -- the default JSON never hands back an official envelope as data ---------------------------------------


@pytest.mark.parametrize(("value", "wire"), [(v, w) for v, w in OFFICIAL_VECTORS if w.startswith('{"t"')])
def test_default_json_reads_every_official_envelope_as_its_value(value: Any, wire: str) -> None:
    assert JsonSerDes().deserialize(wire, CTX) == value
    assert deserialize(JsonSerDes(), wire, "op", "arn") == value
    from eventflow.serdes import DEFAULT_SERDES

    assert deserialize(DEFAULT_SERDES, wire, "op", "arn") == value  # the hot path reads it the same way


def test_default_json_writes_a_dict_shaped_like_an_envelope_as_an_envelope() -> None:
    for value in ({"t": "s", "v": "x"}, {"t": "m", "v": {}}):
        payload, read = round_trip(JsonSerDes(), value, "op", "arn")
        assert read == value  # not "x" or {}: the dict comes back as itself
        assert json.loads(payload)["t"] == "m"  # ... because it went out as an envelope
        assert ENVELOPE.deserialize(payload, CTX) == value  # which the official SDK reads the same way
    # Dicts that only resemble one are plain JSON, as before.
    for value in ({"t": "zz", "v": 1}, {"t": "s", "v": "x", "w": 0}, {"t": "s"}):
        assert serialize(JsonSerDes(), value, "op", "arn") == json.dumps(value, separators=(",", ":"))
        assert JsonSerDes().deserialize(json.dumps(value), CTX) == value


def test_a_malformed_official_envelope_is_a_serdes_error_naming_the_envelope_serdes() -> None:
    with pytest.raises(SerDesError, match="EnvelopeSerDes"):
        JsonSerDes().deserialize('{"t":"i","v":"not a number"}', CTX)


def test_a_history_written_by_the_official_sdk_replays_with_the_default_serdes() -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        value = ctx.step(lambda _: {"placeholder": True}, name="fetch")
        return sorted(value)

    service, _, execution = _run(handler)
    event = service.invocation_input(execution)
    step_op = next(op for op in event["InitialExecutionState"]["Operations"] if op["Type"] == "STEP")
    step_op["StepDetails"]["Result"] = '{"t":"m","v":{"b":{"t":"i","v":2},"a":{"t":"i","v":1}}}'
    output = DurableHandler(handler, RecordingBackend(service))(event, None)
    assert output == {"Status": "SUCCEEDED", "Result": '["a", "b"]'}  # not ["t", "v"]
