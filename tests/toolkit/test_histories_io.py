"""Export and import of histories and operation logs: JSONL, AWS-shaped JSON, and AWS itself (stubbed)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from eventflow.errors import InvalidInputError
from eventflow.events.history import Event, GetDurableExecutionHistoryResponse
from eventflow.events.wire import GetDurableExecutionStateResponse
from eventflow.testing.harness import DurableHarness, DurableRun
from eventflow.testing.histories import dumps_json, dumps_jsonl, fetch_aws_history, loads_record

ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST/durable-execution/o-1/abc"


def _handler(event: Any, ctx: Any) -> Any:
    ctx.step(lambda _: {"sku": event["sku"]}, name="reserve")
    ctx.wait(seconds=5)
    return "done"


@pytest.fixture(scope="module")
def run() -> DurableRun:
    return DurableHarness().run(_handler, {"sku": "book"})


def test_json_export_is_the_api_shape_and_round_trips(run: DurableRun) -> None:
    text = dumps_json(run.history, run.operations)
    data = json.loads(text)
    # The documents validate as the API's own response shapes.
    assert GetDurableExecutionHistoryResponse.from_wire({"Events": data["Events"]}).events == run.history
    assert (
        GetDurableExecutionStateResponse.from_wire({"Operations": data["Operations"]}).operations
        == run.operations
    )
    assert isinstance(data["Events"][0]["EventTimestamp"], str)  # ISO-8601, as the AWS CLI prints
    record = loads_record(text)
    assert record.events == run.history
    assert record.operations == run.operations


def test_jsonl_is_one_record_per_line_and_round_trips(run: DurableRun) -> None:
    text = dumps_jsonl([*run.history, *run.operations])
    assert len(text.splitlines()) == len(run.history) + len(run.operations)
    record = loads_record(text)
    assert (record.events, record.operations) == (run.history, run.operations)


def test_invocation_input_and_pages_load(run: DurableRun) -> None:
    invocation = run.service.invocation_input(run.execution)
    record = loads_record(json.dumps(invocation))
    assert record.arn == run.execution.arn
    assert [op.id for op in record.operations] == [op.id for op in run.operations]
    pages = [
        {"Events": [e.to_wire() for e in run.history[:3]]},
        {"Events": [e.to_wire() for e in run.history[3:]]},
    ]
    assert loads_record(json.dumps(pages)).events == run.history


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("[1]", "expected a JSON object"),
        ('{"Foo": 1}', "neither a history"),
        ("{\n{", "not JSON"),
    ],
)
def test_bad_input_is_named(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        loads_record(text, source="bad.json")


def test_fetch_from_aws_pages_through_get_durable_execution_history() -> None:
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    started = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    first = {
        "EventType": "ExecutionStarted",
        "EventId": 1,
        "Id": "exec",
        "EventTimestamp": started,
        "ExecutionStartedDetails": {"Input": {"Payload": '{"sku": "book"}'}, "ExecutionTimeout": 900},
    }
    second = {
        "EventType": "StepStarted",
        "EventId": 2,
        "Id": "1ced8f5be2db23a6513eba4d819c73806424748a7bc6fa0d792cc1c7d1775a97",
        "Name": "reserve",
        "SubType": "Step",
        "EventTimestamp": started,
        "StepStartedDetails": {},
    }
    with Stubber(client) as stub:
        stub.add_response(
            "get_durable_execution_history",
            {"Events": [first], "NextMarker": "m1"},
            {"DurableExecutionArn": ARN, "IncludeExecutionData": True, "MaxItems": 1},
        )
        stub.add_response(
            "get_durable_execution_history",
            {"Events": [second]},
            {"DurableExecutionArn": ARN, "IncludeExecutionData": True, "MaxItems": 1, "Marker": "m1"},
        )
        record = fetch_aws_history(ARN, client, page_size=1)
        stub.assert_no_pending_responses()
    assert record.arn == ARN
    assert [e.event_id for e in record.events] == [1, 2]
    assert record.events[0].event_timestamp == started
    assert isinstance(record.events[1], Event) and record.events[1].name == "reserve"
