"""The HTTP server, driven by a plain boto3 ``lambda`` client over a real socket on 127.0.0.1.

The durable handlers here checkpoint over HTTP too (eventflow's `LambdaBackend` on a boto3 client pointed at
the server), so every durable-execution route is exercised through botocore's own serializer and parser.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from eventflow import durable_execution
from eventflow.backends.aws import LambdaBackend
from eventflow.events.enums import OperationAction, OperationStatus, OperationType
from eventflow.events.wire import CallbackOptions, Operation, OperationUpdate, WaitOptions
from eventflow.local import LocalService, VirtualClock
from eventflow.local.client import lambda_client
from eventflow.local.http import LocalHttpServer

client = lambda_client  # a lambda client as users make one, at the test server's URL, without retries


@pytest.fixture
def server() -> Iterator[LocalHttpServer]:
    with LocalHttpServer(LocalService(VirtualClock())) as running:
        yield running


def approval_handler(url: str) -> Any:
    """A durable handler written against the raw protocol, checkpointing over HTTP: a step, a 30 s wait,
    then a callback whose answer it returns. It decides from the replayed state, as an SDK does."""
    backend = LambdaBackend(client(url))

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        arn, token = event["DurableExecutionArn"], event["CheckpointToken"]
        ops = {op["Id"]: Operation.from_wire(op) for op in event["InitialExecutionState"]["Operations"]}
        marker = event["InitialExecutionState"].get("NextMarker")
        while marker:
            page = backend.get_state(arn, token, marker)
            ops.update({op.id: op for op in page.operations})
            marker = page.next_marker
        if "wait" not in ops:
            backend.checkpoint(
                arn,
                token,
                [
                    OperationUpdate(
                        id="step",
                        name="reserve",
                        type=OperationType.STEP,
                        sub_type="Step",
                        action=OperationAction.START,
                    ),
                    OperationUpdate(
                        id="step",
                        name="reserve",
                        type=OperationType.STEP,
                        sub_type="Step",
                        action=OperationAction.SUCCEED,
                        payload='"r-1"',
                    ),
                    OperationUpdate(
                        id="wait",
                        type=OperationType.WAIT,
                        sub_type="Wait",
                        action=OperationAction.START,
                        wait_options=WaitOptions(wait_seconds=30),
                    ),
                ],
            )
            return {"Status": "PENDING"}
        if "cb" not in ops:
            backend.checkpoint(
                arn,
                token,
                [
                    OperationUpdate(
                        id="cb",
                        name="approval",
                        type=OperationType.CALLBACK,
                        sub_type="Callback",
                        action=OperationAction.START,
                        callback_options=CallbackOptions(timeout_seconds=0),
                    ),
                ],
            )
            return {"Status": "PENDING"}
        callback = ops["cb"]
        if callback.status == OperationStatus.SUCCEEDED:
            return {"Status": "SUCCEEDED", "Result": callback.callback_details.result}
        return {"Status": "PENDING"}

    return handler


def wait_until(predicate: Any, timeout: float = 10.0) -> Any:
    """Poll the API (each poll is a real HTTP round trip) until ``predicate`` returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
    raise AssertionError("condition not reached in time")


def test_full_execution_with_a_wait_and_a_callback_over_boto3(server: LocalHttpServer) -> None:
    server.service.register("approve", approval_handler(server.url))
    lam = client(server.url)

    started = lam.invoke(
        FunctionName="approve",
        InvocationType="Event",
        Payload=b'{"order": 7}',
        DurableExecutionName="order-7",
    )
    assert started["StatusCode"] == 202
    arn = started["DurableExecutionArn"]
    again = lam.invoke(
        FunctionName="approve",
        InvocationType="Event",
        Payload=b'{"order": 7}',
        DurableExecutionName="order-7",
    )
    assert again["DurableExecutionArn"] == arn  # DurableExecutionName makes the start idempotent
    with pytest.raises(ClientError) as conflict:
        lam.invoke(
            FunctionName="approve",
            InvocationType="Event",
            Payload=b'{"order": 8}',
            DurableExecutionName="order-7",
        )
    assert conflict.value.response["Error"]["Code"] == "DurableExecutionAlreadyStartedException"

    def callback_id() -> str | None:
        events = lam.get_durable_execution_history(DurableExecutionArn=arn, IncludeExecutionData=True)[
            "Events"
        ]
        started = [e for e in events if e["EventType"] == "CallbackStarted"]
        return started[0]["CallbackStartedDetails"]["CallbackId"] if started else None

    cid = wait_until(callback_id)
    assert lam.get_durable_execution(DurableExecutionArn=arn)["Status"] == "RUNNING"
    lam.send_durable_execution_callback_heartbeat(CallbackId=cid)
    lam.send_durable_execution_callback_success(CallbackId=cid, Result=b'{"approved": true}')

    done = wait_until(
        lambda: (d := lam.get_durable_execution(DurableExecutionArn=arn))["Status"] != "RUNNING" and d
    )
    assert done["Status"] == "SUCCEEDED" and done["Result"] == '{"approved": true}'
    assert done["DurableExecutionName"] == "order-7" and done["InputPayload"] == '{"order": 7}'
    assert done["EndTimestamp"] >= done["StartTimestamp"]

    events = lam.get_durable_execution_history(DurableExecutionArn=arn, IncludeExecutionData=True)["Events"]
    assert [e["EventType"] for e in events] == [
        "ExecutionStarted",
        "StepStarted",
        "StepSucceeded",
        "WaitStarted",
        "InvocationCompleted",
        "WaitSucceeded",
        "CallbackStarted",
        "InvocationCompleted",
        "CallbackSucceeded",
        "InvocationCompleted",
        "ExecutionSucceeded",
    ]
    assert [e["EventId"] for e in events] == list(range(1, 12))
    assert events[3]["WaitStartedDetails"]["Duration"] == 30
    assert (events[5]["EventTimestamp"] - events[3]["EventTimestamp"]).total_seconds() == 30  # virtual time
    assert events[8]["CallbackSucceededDetails"]["Result"]["Payload"] == '{"approved": true}'

    page = lam.get_durable_execution_history(DurableExecutionArn=arn, MaxItems=4, ReverseOrder=True)
    assert [e["EventId"] for e in page["Events"]] == [11, 10, 9, 8] and page["NextMarker"]
    listed = lam.list_durable_executions_by_function(FunctionName="approve")["DurableExecutions"]
    assert [(e["DurableExecutionArn"], e["Status"]) for e in listed] == [(arn, "SUCCEEDED")]

    with pytest.raises(ClientError) as gone:
        lam.send_durable_execution_callback_success(CallbackId=cid, Result=b"again")
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_request_response_invoke_runs_an_eventflow_handler_over_http(server: LocalHttpServer) -> None:
    """An eventflow durable handler whose checkpoints and state pages all travel over HTTP."""
    server.service.page_size = 3

    @durable_execution(backend=LambdaBackend(client(server.url)))
    def handler(event: Any, ctx: Any) -> Any:
        values = [ctx.step(lambda _, i=i: i * event["k"], name=f"s{i}") for i in range(5)]
        ctx.wait(seconds=10)
        return {"sum": sum(values) + ctx.step(lambda _: 1, name="last")}

    server.service.register("sum", handler)
    lam = client(server.url)
    answer = lam.invoke(FunctionName="sum", Payload=json.dumps({"k": 2}).encode())
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    assert json.loads(answer["Payload"].read()) == {"sum": 21}
    assert answer["ExecutedVersion"] == "$LATEST" and answer["DurableExecutionArn"]


def test_stop_over_http(server: LocalHttpServer) -> None:
    server.service.register("approve", approval_handler(server.url))
    lam = client(server.url)
    arn = lam.invoke(FunctionName="approve", InvocationType="Event", Payload=b"{}")["DurableExecutionArn"]
    wait_until(
        lambda: any(
            e["EventType"] == "CallbackStarted"
            for e in lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
        )
    )
    stopped = lam.stop_durable_execution(
        DurableExecutionArn=arn, Error={"ErrorType": "Ops", "ErrorMessage": "halt"}
    )
    described = lam.get_durable_execution(DurableExecutionArn=arn)
    assert described["Status"] == "STOPPED" and described["Error"] == {
        "ErrorType": "Ops",
        "ErrorMessage": "halt",
    }
    assert described["EndTimestamp"] == stopped["StopTimestamp"]
    events = lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
    assert events[-1]["EventType"] == "ExecutionStopped"
    assert events[-1]["ExecutionStoppedDetails"]["Error"]["Payload"]["ErrorMessage"] == "halt"


@pytest.mark.parametrize(
    ("call", "code", "status"),
    [
        (
            lambda lam: lam.get_durable_execution(DurableExecutionArn="arn:nope"),
            "ResourceNotFoundException",
            404,
        ),
        (
            lambda lam: lam.send_durable_execution_callback_failure(CallbackId="nope"),
            "ResourceNotFoundException",
            404,
        ),
        (lambda lam: lam.invoke(FunctionName="missing", Payload=b"{}"), "ResourceNotFoundException", 404),
        (
            lambda lam: lam.checkpoint_durable_execution(DurableExecutionArn="arn:nope", CheckpointToken="t"),
            "ResourceNotFoundException",
            404,
        ),
        (
            lambda lam: lam.get_durable_execution_state(DurableExecutionArn="arn:nope", CheckpointToken="t"),
            "ResourceNotFoundException",
            404,
        ),
    ],
)
def test_errors_come_back_in_the_service_shapes(
    server: LocalHttpServer, call: Any, code: str, status: int
) -> None:
    with pytest.raises(ClientError) as info:
        call(client(server.url))
    assert info.value.response["Error"]["Code"] == code
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def raw(
    server: LocalHttpServer, method: str, path: str, body: bytes = b"", **headers: str
) -> tuple[int, Any]:
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        return (
            response.status,
            (json.loads(data) if data else None),
        )
    finally:
        connection.close()


def test_malformed_requests_get_4xx_never_500(server: LocalHttpServer) -> None:
    server.service.register("approve", approval_handler(server.url))
    arn = server.service.start_execution("approve").arn
    quoted = arn.replace("/", "%2F").replace(":", "%3A").replace("$", "%24")
    cases = [
        ("POST", f"/2025-12-01/durable-executions/{quoted}/checkpoint", b"{not json"),
        ("POST", f"/2025-12-01/durable-executions/{quoted}/checkpoint", b"[]"),
        (
            "POST",
            f"/2025-12-01/durable-executions/{quoted}/checkpoint",
            b'{"CheckpointToken": "x", "Updates": [{}]}',
        ),
        ("GET", f"/2025-12-01/durable-executions/{quoted}/history?MaxItems=abc", b""),
        ("GET", "/2025-12-01/functions/approve/durable-executions?Statuses=BOGUS", b""),
        ("POST", "/2015-03-31/functions/approve/invocations", b"{bad"),
        ("GET", "/no/such/route", b""),
    ]
    for method, path, body in cases:
        status, payload = raw(server, method, path, body)
        assert 400 <= status < 500, (path, status, payload)
        assert payload["message"], payload


def test_oversized_bodies_are_refused_without_reading_them(server: LocalHttpServer) -> None:
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), port, timeout=10)
    connection.putrequest("POST", "/2025-12-01/durable-execution-callbacks/x/succeed")
    connection.putheader("Content-Length", str(64 * 1024 * 1024))
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413 and response.getheader("X-Amzn-ErrorType") == "RequestTooLargeException"
    connection.close()


def test_an_invoke_body_that_is_not_json_is_a_400_not_a_500(server: LocalHttpServer) -> None:
    server.service.register("fn", durable_execution(lambda event, ctx: event))
    host, port = server.server_address[:2]
    for body in (b"\x80\x81", b"{not json"):
        connection = http.client.HTTPConnection(str(host), int(port), timeout=30)
        connection.request("POST", "/2015-03-31/functions/fn/invocations", body=body)
        response = connection.getresponse()
        assert response.status == 400
        assert response.getheader("X-Amzn-ErrorType", "").startswith("InvalidRequestContentException")
        response.read()
        connection.close()


def test_a_plain_function_that_raises_answers_200_with_the_function_error(server: LocalHttpServer) -> None:
    def plain(event: Any, context: Any) -> Any:
        raise ValueError("bad order")

    server.service.register("plain", plain, durable=False)
    answer = client(server.url).invoke(FunctionName="plain", Payload=b"{}")
    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    assert json.loads(answer["Payload"].read()) == {"errorType": "ValueError", "errorMessage": "bad order"}


def test_a_plain_function_past_its_invocation_timeout_answers_with_it(server: LocalHttpServer) -> None:
    import threading

    release = threading.Event()

    def plain(event: Any, context: Any) -> Any:
        release.wait(5)  # released below, once the Invoke has been answered
        return "late"

    server.service.register("plain", plain, durable=False, invocation_timeout_seconds=0.05)
    try:
        answer = client(server.url).invoke(FunctionName="plain", Payload=b"{}")
    finally:
        release.set()
    assert answer["StatusCode"] == 200 and answer["FunctionError"] == "Unhandled"
    assert json.loads(answer["Payload"].read()) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "Task timed out after 0.05 seconds",
    }


def test_an_event_invocation_of_a_plain_function_runs_it_in_the_background(server: LocalHttpServer) -> None:
    import threading

    called = threading.Event()
    seen: list[Any] = []

    def plain(event: Any, context: Any) -> None:
        seen.append(event)
        called.set()

    server.service.register("plain", plain, durable=False)
    answer = client(server.url).invoke(FunctionName="plain", InvocationType="Event", Payload=b'{"n": 1}')
    assert answer["StatusCode"] == 202
    assert called.wait(timeout=30)
    assert seen == [{"n": 1}]


def finish_at_once(event: Any, context: Any) -> dict[str, str]:
    """A raw durable handler: its history is ExecutionStarted, InvocationCompleted, ExecutionSucceeded."""
    return {"Status": "SUCCEEDED", "Result": '"done"'}


def test_history_pages_past_the_end_are_empty_over_http(server: LocalHttpServer) -> None:
    server.service.register("quick", finish_at_once)
    lam = client(server.url)
    arn = lam.invoke(FunctionName="quick", Payload=b"{}")["DurableExecutionArn"]

    def page(**paging: Any) -> tuple[list[int], str | None]:
        answer = lam.get_durable_execution_history(DurableExecutionArn=arn, **paging)
        return [e["EventId"] for e in answer["Events"]], answer.get("NextMarker")

    assert page() == ([1, 2, 3], None)
    assert page(ReverseOrder=True, MaxItems=2) == ([3, 2], "2")
    assert page(ReverseOrder=True, MaxItems=2, Marker="2") == ([1], None)
    for marker in ("3", "5", "1000"):
        assert page(ReverseOrder=True, Marker=marker) == ([], None)
        assert page(Marker=marker) == ([], None)
    with pytest.raises(ClientError) as refused:
        page(ReverseOrder=True, Marker="-1")
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_list_executions_by_function_filters_by_qualifier(server: LocalHttpServer) -> None:
    server.service.register("quick", finish_at_once)
    lam = client(server.url)
    arns = [lam.invoke(FunctionName="quick", Payload=b"{}")["DurableExecutionArn"] for _ in range(2)]

    def listed(**request: Any) -> list[str]:
        answer = lam.list_durable_executions_by_function(**request)["DurableExecutions"]
        return [e["DurableExecutionArn"] for e in answer]

    function_arn = "arn:aws:lambda:us-east-1:000000000000:function:quick"
    assert listed(FunctionName="quick") == arns
    assert listed(FunctionName="quick", Qualifier="$LATEST") == arns
    assert listed(FunctionName="quick", Qualifier="7") == []
    assert listed(FunctionName="quick", Qualifier="prod", ReverseOrder=True) == []
    assert listed(FunctionName="quick:$LATEST") == arns  # the qualifier may come in the name, or an ARN
    assert listed(FunctionName="quick:7") == []
    assert listed(FunctionName=f"{function_arn}:$LATEST") == arns
    assert listed(FunctionName=function_arn, Qualifier="7") == []
    assert listed(FunctionName="000000000000:function:quick", Qualifier="$LATEST") == arns
    with pytest.raises(ClientError) as mismatch:
        listed(FunctionName="quick:7", Qualifier="$LATEST")
    assert mismatch.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_stopping_the_server_leaves_the_service_and_its_store_open(tmp_path: Path) -> None:
    """`LocalService.shutdown` (which stopping the server calls) only wakes the worker: whoever created the
    service still reads from it, and closes its store."""
    from eventflow.local.sqlite_store import SqliteStore

    service = LocalService(VirtualClock(), store=SqliteStore(tmp_path / "flows.db"))
    service.register("quick", finish_at_once)
    with LocalHttpServer(service) as running:
        arn = client(running.url).invoke(FunctionName="quick", Payload=b"{}")["DurableExecutionArn"]
    service.shutdown()  # again: harmless
    assert [row.arn for row in service.list_executions("quick")[0]] == [arn]  # a query of the store itself
    assert service.store.running() == []
    service.store.close()
