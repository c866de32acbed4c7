"""PauseDurableExecution, ResumeDurableExecution, DeleteDurableExecution and retention, through a plain boto3
``lambda`` client against a real `LocalHttpServer` (requests over a socket, the service driven by the test
itself, so "nothing ran" is a fact and not a race), and GetDurableExecution's newer fields.

A paused execution runs no code; its waits and callbacks still complete; resume continues from its last
checkpoint; both are idempotent by ClientToken; delete works on ended executions only; ended executions
are deleted RetentionPeriodInDays after their end on the service's clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from eventflow import durable_execution
from eventflow.context import DurableContext
from eventflow.events.enums import ExecutionStatus
from eventflow.local import LocalService, VirtualClock
from eventflow.local.errors import ResourceConflictError
from eventflow.local.http import LocalHttpServer
from eventflow.local.sqlite_store import SqliteStore

from .test_http import client

RUNS: list[str] = []  # what user code ran, in order


@durable_execution
def approval(event: Any, ctx: DurableContext) -> Any:
    ctx.step(lambda _: RUNS.append("before") or 1, name="before")
    callback = ctx.create_callback(name="approve")
    answer = callback.result()
    ctx.wait(30, name="cool-off")
    ctx.step(lambda _: RUNS.append("after") or 2, name="after")
    return {"answer": answer}


@pytest.fixture
def service() -> Iterator[LocalService]:
    RUNS.clear()
    svc = LocalService(VirtualClock())
    svc.register("approve", approval, timeout_seconds=3600)
    yield svc


@pytest.fixture
def lam(service: LocalService) -> Iterator[Any]:
    with LocalHttpServer(service, drive=False) as server:  # requests over HTTP; the test drives the service
        yield client(server.url)


def event_types(service: LocalService, arn: str) -> list[str]:
    return [event.event_type.value for event in service.history(arn)]


def start(lam: Any, service: LocalService, name: str = "order-1") -> str:
    answer = lam.invoke(
        FunctionName="approve", InvocationType="Event", Payload=b"{}", DurableExecutionName=name
    )
    arn = str(answer["ResponseMetadata"]["HTTPHeaders"]["x-amz-durable-execution-arn"])
    service.run_due()  # up to the callback (a virtual clock would jump to the execution timeout)
    return arn


def callback_id(service: LocalService, arn: str) -> str:
    for event in service.history(arn):
        if event.callback_started_details is not None:
            assert event.callback_started_details.callback_id
            return event.callback_started_details.callback_id
    raise AssertionError("no callback started")


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    response: Any = excinfo.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def test_a_paused_execution_runs_no_code_while_its_callback_and_wait_complete(
    service: LocalService, lam: Any
) -> None:
    arn = start(lam, service)
    lam.pause_durable_execution(DurableExecutionArn=arn, Reason="audit")
    described = lam.get_durable_execution(DurableExecutionArn=arn)
    assert described["Status"] == "PAUSED"
    assert described["PauseDetails"]["Reason"] == "audit"
    assert described["PauseDetails"]["ExecutionTimeoutPaused"] is True
    invocations = event_types(service, arn).count("InvocationCompleted")

    lam.send_durable_execution_callback_success(CallbackId=callback_id(service, arn), Result=b"yes")
    service.run_all()  # nothing may run: the answer is recorded, no invocation starts
    types = event_types(service, arn)
    assert types[-2:] == ["ExecutionPaused", "CallbackSucceeded"]
    assert types.count("InvocationCompleted") == invocations
    assert RUNS == ["before"]

    lam.resume_durable_execution(DurableExecutionArn=arn, Reason="done")
    assert lam.get_durable_execution(DurableExecutionArn=arn)["Status"] == "RUNNING"
    service.run_due()  # the resumed invocation starts the 30 s wait, and returns
    lam.pause_durable_execution(DurableExecutionArn=arn)
    service.clock.advance(31)  # type: ignore[attr-defined]
    service.run_due()
    types = event_types(service, arn)
    assert types[-2:] == ["ExecutionPaused", "WaitSucceeded"]  # the wait ended while paused
    assert RUNS == ["before"]

    lam.resume_durable_execution(DurableExecutionArn=arn)
    service.run(arn)
    described = lam.get_durable_execution(DurableExecutionArn=arn)
    assert described["Status"] == "SUCCEEDED" and described["Result"] == '{"answer": "yes"}'
    assert "PauseDetails" not in described
    assert RUNS == ["before", "after"]  # continued from the last checkpoint: "before" did not run again
    paused = [e for e in service.history(arn) if e.execution_paused_details is not None]
    resumed = [e for e in service.history(arn) if e.execution_resumed_details is not None]
    assert len(paused) == len(resumed) == 2
    assert paused[0].execution_paused_details.reason.payload == "audit"  # type: ignore[union-attr]
    assert resumed[0].execution_resumed_details.reason.payload == "done"  # type: ignore[union-attr]


def test_pause_and_resume_are_idempotent_by_client_token_and_refused_otherwise(
    service: LocalService, lam: Any
) -> None:
    arn = start(lam, service)
    lam.pause_durable_execution(DurableExecutionArn=arn, ClientToken="p-1")
    lam.pause_durable_execution(DurableExecutionArn=arn, ClientToken="p-1")  # a retry: no second event
    assert event_types(service, arn).count("ExecutionPaused") == 1
    with pytest.raises(ClientError) as excinfo:
        lam.pause_durable_execution(DurableExecutionArn=arn, ClientToken="p-2")
    assert error_code(excinfo) == (409, "ResourceConflictException")

    lam.resume_durable_execution(DurableExecutionArn=arn, ClientToken="r-1")
    lam.resume_durable_execution(DurableExecutionArn=arn, ClientToken="r-1")
    assert event_types(service, arn).count("ExecutionResumed") == 1
    with pytest.raises(ClientError) as excinfo:
        lam.resume_durable_execution(DurableExecutionArn=arn, ClientToken="r-2")
    assert error_code(excinfo) == (409, "ResourceConflictException")

    lam.stop_durable_execution(DurableExecutionArn=arn)
    with pytest.raises(ClientError) as excinfo:
        lam.pause_durable_execution(DurableExecutionArn=arn)
    assert error_code(excinfo) == (409, "ResourceConflictException")
    with pytest.raises(ClientError) as excinfo:
        lam.pause_durable_execution(DurableExecutionArn=arn + "x")
    assert error_code(excinfo) == (404, "ResourceNotFoundException")


def test_starting_with_a_paused_executions_name_returns_it_and_stop_ends_it(
    service: LocalService, lam: Any
) -> None:
    arn = start(lam, service)
    lam.pause_durable_execution(DurableExecutionArn=arn)
    again = lam.invoke(
        FunctionName="approve", InvocationType="Event", Payload=b"{}", DurableExecutionName="order-1"
    )
    assert again["ResponseMetadata"]["HTTPHeaders"]["x-amz-durable-execution-arn"] == arn
    assert lam.get_durable_execution(DurableExecutionArn=arn)["Status"] == "PAUSED"
    rows = lam.list_durable_executions_by_function(FunctionName="approve", Statuses=["PAUSED"])
    assert [row["DurableExecutionArn"] for row in rows["DurableExecutions"]] == [arn]
    lam.stop_durable_execution(DurableExecutionArn=arn)
    assert lam.get_durable_execution(DurableExecutionArn=arn)["Status"] == "STOPPED"


def test_the_execution_timeout_stands_still_while_paused_unless_asked_otherwise(
    service: LocalService, lam: Any
) -> None:
    clock = service.clock
    assert isinstance(clock, VirtualClock)
    arn = start(lam, service, "standing")
    started = lam.get_durable_execution(DurableExecutionArn=arn)
    expected = started["ExpectedExecutionTimeoutTimestamp"]
    assert expected == started["StartTimestamp"] + timedelta(seconds=3600)
    assert started["DurableConfig"] == {"RetentionPeriodInDays": 14, "ExecutionTimeout": 3600}
    lam.pause_durable_execution(DurableExecutionArn=arn)
    clock.advance(7200)  # twice the timeout, paused
    service.run_due()
    assert lam.get_durable_execution(DurableExecutionArn=arn)["Status"] == "PAUSED"

    other = start(lam, service, "running-down")
    lam.pause_durable_execution(DurableExecutionArn=other, ExecutionTimeoutPaused=False)
    clock.advance(3601)
    service.run_due()
    assert lam.get_durable_execution(DurableExecutionArn=other)["Status"] == "TIMED_OUT"
    assert lam.get_durable_execution(DurableExecutionArn=arn)["Status"] == "PAUSED"

    lam.resume_durable_execution(DurableExecutionArn=arn)
    moved = lam.get_durable_execution(DurableExecutionArn=arn)["ExpectedExecutionTimeoutTimestamp"]
    assert moved == expected + timedelta(seconds=7200 + 3601)
    assert lam.get_durable_execution(DurableExecutionArn=arn)["Status"] == "RUNNING"


def test_a_paused_execution_still_ends_366_days_after_its_start(service: LocalService, lam: Any) -> None:
    arn = start(lam, service)
    lam.pause_durable_execution(DurableExecutionArn=arn)
    service.run_all()  # the limit is not something a virtual clock jumps to: it waits for a resume
    assert lam.get_durable_execution(DurableExecutionArn=arn)["Status"] == "PAUSED"
    service.clock.advance(366 * 24 * 3600)  # type: ignore[attr-defined]
    service.run_due()
    described = lam.get_durable_execution(DurableExecutionArn=arn)
    assert described["Status"] == "TIMED_OUT"
    assert "366 days" in described["Error"]["ErrorMessage"]


def test_delete_works_on_ended_executions_only(service: LocalService, lam: Any) -> None:
    arn = start(lam, service)
    with pytest.raises(ClientError) as excinfo:
        lam.delete_durable_execution(DurableExecutionArn=arn)
    assert error_code(excinfo) == (409, "ResourceConflictException")
    lam.stop_durable_execution(DurableExecutionArn=arn)
    deleted = lam.delete_durable_execution(DurableExecutionArn=arn)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert deleted["DeletionRequestTimestamp"] is not None
    for call in (lam.get_durable_execution, lam.get_durable_execution_history, lam.delete_durable_execution):
        with pytest.raises(ClientError) as excinfo:
            call(DurableExecutionArn=arn)
        assert error_code(excinfo) == (404, "ResourceNotFoundException")
    assert lam.list_durable_executions_by_function(FunctionName="approve")["DurableExecutions"] == []
    fresh = start(lam, service)  # the name is free again
    assert fresh != arn


@pytest.mark.parametrize("durable_store", [False, True], ids=["memory", "sqlite"])
def test_ended_executions_are_deleted_after_their_retention_on_the_services_clock(
    tmp_path: Path, durable_store: bool
) -> None:
    RUNS.clear()
    store = SqliteStore(tmp_path / "kept.db") if durable_store else None
    service = LocalService(VirtualClock(), store=store) if store else LocalService(VirtualClock())
    service.register("approve", approval, retention_days=2)
    service.register("other", approval)  # the default, 14 days
    short = service.start_execution("approve", {})
    long = service.start_execution("other", {})
    service.run_all()  # not one jump towards a retention: both still exist after running to quiescence
    service.stop(short.arn)
    service.stop(long.arn)
    service.run_all()
    assert service.describe(short.arn).durable_config.retention_period_in_days == 2  # type: ignore[union-attr]
    service.clock.advance(2 * 24 * 3600 - 1)  # type: ignore[attr-defined]
    service.run_due()
    assert service.describe(short.arn).status is ExecutionStatus.STOPPED
    service.clock.advance(1)  # type: ignore[attr-defined]
    service.run_due()
    with pytest.raises(Exception, match="no durable execution"):
        service.describe(short.arn)
    assert service.describe(long.arn).status is ExecutionStatus.STOPPED
    if store is not None:  # a restarted service knows the next expiry from the file
        store.close()
        reopened = LocalService(VirtualClock(service.clock.now()), store=SqliteStore(tmp_path / "kept.db"))
        reopened.register("other", approval)
        reopened.clock.advance(12 * 24 * 3600)  # type: ignore[attr-defined]
        reopened.run_due()
        with pytest.raises(Exception, match="no durable execution"):
            reopened.describe(long.arn)
        reopened.store.close()


def test_retention_days_are_checked() -> None:
    service = LocalService()
    for days in (0, 91):
        with pytest.raises(Exception, match="RetentionPeriodInDays"):
            service.register("f", approval, retention_days=days)


def test_pausing_during_an_invocation_lets_it_finish_then_holds(service: LocalService) -> None:
    seen: list[str] = []

    @durable_execution
    def pauses_itself(event: Any, ctx: DurableContext) -> Any:
        arn = ctx.step(lambda s: "x", name="one")
        if not seen:
            execution = next(iter(service.executions.values()))
            service.pause(execution.arn, client_token="in-flight")
            seen.append(service.get(execution.arn).status.value)
        ctx.wait(5, name="w")
        return arn

    service.register("self", pauses_itself)
    arn = service.start_execution("self", {}).arn
    service.run_all()
    assert seen == ["PAUSING"]
    assert service.get(arn).status is ExecutionStatus.PAUSED  # the invocation ended: the pause holds
    types = event_types(service, arn)
    assert types[-4:] == ["ExecutionPaused", "WaitStarted", "InvocationCompleted", "WaitSucceeded"]
    with pytest.raises(ResourceConflictError):
        service.delete(arn)
    service.resume(arn)
    assert service.run(arn).status is ExecutionStatus.SUCCEEDED


def test_bad_pause_requests_are_4xx(service: LocalService) -> None:
    import http.client
    import json
    from urllib.parse import quote

    with LocalHttpServer(service, drive=False) as server:
        arn = quote(start(client(server.url), service), safe="")
        host, port = server.server_address[:2]
        for body in (
            b"[1]",
            b"{not json",
            b'{"ExecutionTimeoutPaused": "yes"}',
            b'{"Reason": 5}',
            b'{"ClientToken": ""}',
            json.dumps({"Reason": "r" * 1025}).encode(),
        ):
            connection = http.client.HTTPConnection(str(host), int(port), timeout=10)
            connection.request("POST", f"/2025-12-01/durable-executions/{arn}/pause", body)
            response = connection.getresponse()
            payload = json.loads(response.read())
            assert response.status == 400, body
            assert response.getheader("X-Amzn-ErrorType") == "InvalidParameterValueException"
            assert payload["message"]
            connection.close()
        connection = http.client.HTTPConnection(str(host), int(port), timeout=10)
        connection.request("PUT", f"/2025-12-01/durable-executions/{arn}/resume", b"{}")
        assert connection.getresponse().status == 405
        connection.close()


def test_a_qualified_start_carries_its_version(service: LocalService, lam: Any) -> None:
    answer = lam.invoke(FunctionName="approve:7", InvocationType="Event", Payload=b"{}")
    headers = answer["ResponseMetadata"]["HTTPHeaders"]
    arn = headers["x-amz-durable-execution-arn"]
    assert headers["x-amz-executed-version"] == "7"
    described = lam.get_durable_execution(DurableExecutionArn=arn)
    assert described["Version"] == "7" and described["FunctionArn"].endswith(":function:approve:7")
    assert ":function:approve:7/durable-execution/" in arn
    plain = lam.invoke(FunctionName="approve", InvocationType="Event", Payload=b"{}")
    plain_arn = plain["ResponseMetadata"]["HTTPHeaders"]["x-amz-durable-execution-arn"]
    assert lam.get_durable_execution(DurableExecutionArn=plain_arn)["Version"] == "$LATEST"
    rows = lam.list_durable_executions_by_function(FunctionName="approve", Qualifier="7")
    assert [row["DurableExecutionArn"] for row in rows["DurableExecutions"]] == [arn]
    service.run_due()
    assert lam.get_durable_execution(DurableExecutionArn=arn)["Status"] == "RUNNING"  # it runs like any
