"""The AWS the suite's validator talks to, made of eventflow's local service.

The suite's validator takes pre-built boto3 clients (``lambda``, ``cloudformation``, ``logs``) and the suite's
own `Invoker` takes a lambda and a CloudFormation client: those are its seams, and this module fills them:

- `FakeLambda`: Invoke (RequestResponse runs the execution to its end; Event starts it and returns),
  GetDurableExecution, GetDurableExecutionHistory and SendDurableExecutionCallback{Success,Failure,
  Heartbeat}, answered by a `LocalService` in the shapes boto3 returns (PascalCase keys, timestamps as
  ``datetime``, payloads as strings).
- `FakeCloudFormation`: the stack's logical function names -> physical names.
- `FakeLogs`: FilterLogEvents over what `conformance.runtime.LOG_STREAM` captured, honouring the suite's
  execution-scoped JSON filter.

Time: the service runs on `ManualClock`, which only `World.advance` moves. The validator's polling loop and
the callback-action delays sleep through `VirtualTime`, which the runner hands to the suite's modules in
place of `time`; sleeping ``s`` seconds advances the service by ``s`` seconds, firing every timer (waits,
retries, callback timeouts) due on the way, in order. So a 1-hour wait takes no real time, and a callback
"sent after 3 s" is sent exactly 3 virtual seconds after the poll that saw it.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from conformance.runtime import InProcessHandler, LogGroup, RunawayExecutionError, SandboxHandler
from eventflow.events.enums import ExecutionStatus
from eventflow.events.wire import ErrorObject
from eventflow.local import LocalService

STACK_NAME = "eventflow-conformance"
MAX_INVOCATIONS = 500  # per requirement; the largest needs a handful
EPOCH_START = datetime(2026, 1, 1, tzinfo=UTC)


class ManualClock:
    """A clock that stands still until told to move. Not a `VirtualClock` on purpose: the service must not
    jump ahead on its own, because the validator decides when time passes."""

    def __init__(self, start: datetime = EPOCH_START) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = max(self._now, when)


@dataclass(frozen=True)
class Function:
    """One function of the "stack": its logical id (the suite's function name) and how to run it."""

    logical_id: str
    handler: Callable[[Any, Any], Any] | None = None
    sandbox_ref: str | None = None  # "module:attribute" to run in a child process instead

    @property
    def physical_name(self) -> str:
        return f"{STACK_NAME}-{self.logical_id}"


@dataclass
class World:
    """One local service, its clock and its log groups: everything one requirement runs in."""

    clock: ManualClock = field(default_factory=ManualClock)
    service: LocalService = field(init=False)
    functions: dict[str, Function] = field(default_factory=dict)  # by physical name
    logs: dict[str, LogGroup] = field(default_factory=dict)  # by log group name
    invocations: int = 0

    def __post_init__(self) -> None:
        self.service = LocalService(self.clock)

    def _count_invocation(self) -> None:
        self.invocations += 1
        if self.invocations > MAX_INVOCATIONS:
            raise RunawayExecutionError(f"more than {MAX_INVOCATIONS} invocations: the run does not converge")

    def deploy(self, function: Function) -> None:
        group = self.logs.setdefault(
            f"/aws/lambda/{function.physical_name}", LogGroup(f"/aws/lambda/{function.physical_name}")
        )
        runner: Callable[[Any, Any], Any]
        if function.sandbox_ref is not None:
            runner = SandboxHandler(function.sandbox_ref, group, self.clock.now, self._count_invocation)
        else:
            assert function.handler is not None
            runner = InProcessHandler(function.handler, group, self.clock.now, self._count_invocation)
        self.functions[function.physical_name] = function
        self.service.register(function.physical_name, runner)

    # -- time ---------------------------------------------------------------------------------------

    def settle(self) -> None:
        """Do everything that is due now: queued invocations and timers whose time has come."""
        self.service.run_all(timeout=0)

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass, doing everything that falls due on the way, in order."""
        target = self.clock.now() + timedelta(seconds=seconds)
        while True:
            self.settle()
            upcoming = self.service.next_timer()
            if upcoming is None or upcoming > target:
                break
            self.clock.set(upcoming)
        self.clock.set(target)
        self.settle()

    def run_to_end(self, arn: str, *, limit: timedelta = timedelta(days=400)) -> None:
        """Run an execution until it ends, jumping to each timer; stop when only the outside world (an
        unanswered callback without a timeout) could move it on."""
        deadline = self.clock.now() + limit
        execution = self.service.get(arn)
        while True:
            self.settle()
            if not execution.running:
                return
            upcoming = self.service.next_timer()
            if upcoming is None or upcoming > deadline:
                return
            self.clock.set(upcoming)

    def epoch_seconds(self) -> float:
        return self.clock.now().timestamp()


class VirtualTime:
    """Stands in for the `time` module inside the suite's validator: its sleeps move the world's clock."""

    def __init__(self, world: World) -> None:
        self._world = world

    def time(self) -> float:
        return self._world.epoch_seconds()

    def monotonic(self) -> float:
        return self._world.epoch_seconds()

    def sleep(self, seconds: float) -> None:
        self._world.advance(seconds)


def _client_error(operation: str, exc: Exception) -> ClientError:
    code = getattr(exc, "code", None) or type(exc).__name__
    return ClientError({"Error": {"Code": str(code), "Message": str(exc)}}, operation)


_TIMESTAMP_KEY = re.compile(r"Timestamp$")


def _boto_shape(value: Any, key: str = "") -> Any:
    """eventflow's wire dict (epoch-millisecond timestamps) as boto3 returns it (timestamps as datetime)."""
    if isinstance(value, dict):
        return {k: _boto_shape(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_boto_shape(v) for v in value]
    if _TIMESTAMP_KEY.search(key) and isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC)
    return value


class FakeLambda:
    """The Lambda API calls the suite makes, answered by the world's local service."""

    def __init__(self, world: World) -> None:
        self._world = world

    def invoke(
        self,
        *,
        FunctionName: str,
        InvocationType: str = "RequestResponse",
        Qualifier: str | None = None,
        Payload: bytes = b"",
    ) -> dict[str, Any]:
        world = self._world
        if FunctionName not in world.functions:
            raise ClientError(
                {
                    "Error": {
                        "Code": "ResourceNotFoundException",
                        "Message": f"Function not found: {FunctionName}",
                    }
                },
                "Invoke",
            )
        text = Payload.decode() if isinstance(Payload, bytes) else str(Payload)
        execution = world.service.start_execution(FunctionName, input_payload=text)
        response: dict[str, Any] = {
            "DurableExecutionArn": execution.arn,
            "ExecutedVersion": Qualifier or "$LATEST",
        }
        if InvocationType == "Event":
            world.settle()
            response.update(StatusCode=202, Payload=io.BytesIO(b""))
            return response
        world.run_to_end(execution.arn)
        execution = world.service.get(execution.arn)
        if execution.status is ExecutionStatus.SUCCEEDED:
            body = execution.result or "null"
        elif execution.error is not None:
            body = json.dumps(
                {"errorType": execution.error.error_type, "errorMessage": execution.error.error_message}
            )
            response["FunctionError"] = "Unhandled"
        else:
            body = "null"
        response.update(StatusCode=200, Payload=io.BytesIO(body.encode()))
        return response

    def get_durable_execution(self, *, DurableExecutionArn: str) -> dict[str, Any]:
        try:
            described = self._world.service.describe(DurableExecutionArn)
        except Exception as exc:
            raise _client_error("GetDurableExecution", exc) from exc
        shaped: dict[str, Any] = _boto_shape(described.to_wire())
        return shaped

    def get_durable_execution_history(
        self,
        *,
        DurableExecutionArn: str,
        IncludeExecutionData: bool = False,
        MaxItems: int | None = None,
        Marker: str | None = None,
        ReverseOrder: bool = False,
    ) -> dict[str, Any]:
        try:
            events, marker = self._world.service.get_history(
                DurableExecutionArn,
                max_items=MaxItems,
                marker=Marker,
                reverse=ReverseOrder,
                include_data=IncludeExecutionData,
            )
        except Exception as exc:
            raise _client_error("GetDurableExecutionHistory", exc) from exc
        response: dict[str, Any] = {"Events": [_boto_shape(event.to_wire()) for event in events]}
        if marker:
            response["NextMarker"] = marker
        return response

    def send_durable_execution_callback_success(
        self, *, CallbackId: str, Result: bytes | str | None = None
    ) -> dict[str, Any]:
        return self._callback(
            "SendDurableExecutionCallbackSuccess",
            lambda: self._world.service.send_callback_success(CallbackId, Result),
        )

    def send_durable_execution_callback_failure(
        self, *, CallbackId: str, Error: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        error = ErrorObject.from_wire(Error) if Error else None
        return self._callback(
            "SendDurableExecutionCallbackFailure",
            lambda: self._world.service.send_callback_failure(CallbackId, error),
        )

    def send_durable_execution_callback_heartbeat(self, *, CallbackId: str) -> dict[str, Any]:
        return self._callback(
            "SendDurableExecutionCallbackHeartbeat",
            lambda: self._world.service.send_callback_heartbeat(CallbackId),
        )

    def _callback(self, operation: str, send: Callable[[], None]) -> dict[str, Any]:
        try:
            send()
        except Exception as exc:
            raise _client_error(operation, exc) from exc
        self._world.settle()  # the service re-invokes the execution right away
        return {"ResponseMetadata": {"HTTPStatusCode": 200}}


class _Paginator:
    def __init__(self, pages: Callable[[], list[dict[str, Any]]]) -> None:
        self._pages = pages

    def paginate(self, **_: Any) -> Iterator[dict[str, Any]]:
        yield from self._pages()


class FakeCloudFormation:
    """The stack: each deployed function's logical id and physical name."""

    def __init__(self, world: World) -> None:
        self._world = world

    def _summaries(self) -> list[dict[str, Any]]:
        return [
            {
                "StackResourceSummaries": [
                    {
                        "LogicalResourceId": f.logical_id,
                        "PhysicalResourceId": f.physical_name,
                        "ResourceType": "AWS::Lambda::Function",
                    }
                    for f in self._world.functions.values()
                ]
            }
        ]

    def get_paginator(self, operation: str) -> _Paginator:
        if operation != "list_stack_resources":
            raise NotImplementedError(operation)
        return _Paginator(self._summaries)

    def describe_stack_resource(self, *, StackName: str, LogicalResourceId: str) -> dict[str, Any]:
        for function in self._world.functions.values():
            if function.logical_id == LogicalResourceId:
                return {"StackResourceDetail": {"PhysicalResourceId": function.physical_name}}
        raise ClientError(
            {"Error": {"Code": "ValidationError", "Message": f"Resource {LogicalResourceId} does not exist"}},
            "DescribeStackResource",
        )


_QUOTED = r'"((?:[^"\\]|\\.)*)"'
_EXECUTION_FILTER = re.compile(
    r"^\{ \(\$\.durableExecutionArn = " + _QUOTED + r"\) \|\| \(\$\.executionArn = " + _QUOTED + r"\) \}$"
)


def _unescape(text: str) -> str:
    return text.replace('\\"', '"').replace("\\\\", "\\")


class FakeLogs:
    """FilterLogEvents over the captured log groups.

    Only the filter pattern the suite uses is understood (a JSON filter on a top-level ``durableExecutionArn``
    or ``executionArn``); any other pattern is refused rather than silently ignored.
    """

    def __init__(self, world: World) -> None:
        self._world = world

    def filter_log_events(
        self,
        *,
        logGroupName: str,
        startTime: int | None = None,
        endTime: int | None = None,
        filterPattern: str | None = None,
        nextToken: str | None = None,
    ) -> dict[str, Any]:
        group = self._world.logs.get(logGroupName)
        if group is None:
            raise ClientError(
                {
                    "Error": {
                        "Code": "ResourceNotFoundException",
                        "Message": "The specified log group does not exist.",
                    }
                },
                "FilterLogEvents",
            )
        arns: set[str] | None = None
        if filterPattern:
            matched = _EXECUTION_FILTER.match(filterPattern)
            if matched is None:
                raise NotImplementedError(f"filter pattern not understood by the local logs: {filterPattern}")
            arns = {_unescape(matched[1]), _unescape(matched[2])}
        events = []
        for event in group.events:
            if startTime is not None and event["timestamp"] < startTime:
                continue
            if endTime is not None and event["timestamp"] > endTime:
                continue
            if arns is not None and not _json_arn_matches(event["message"], arns):
                continue
            events.append(dict(event))
        return {"events": events}


def _json_arn_matches(message: str, arns: set[str]) -> bool:
    try:
        record = json.loads(message)
    except ValueError:
        return False
    if not isinstance(record, dict):
        return False
    return record.get("durableExecutionArn") in arns or record.get("executionArn") in arns
