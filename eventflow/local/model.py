"""What the local service keeps per execution: the execution record, its callbacks and chained invokes.

Plain dataclasses, mutated only by `LocalService` under its lock. Alongside the operations themselves the
record keeps the indexes that make every service step O(1): creation order (`op_order`, for paging state
by position), the ids of operations the service still has to complete (`waiting`, for "is anything
pending?"), and the operations changed by the service since the last token was handed out (`changed`,
returned by the next checkpoint).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from eventflow.events.enums import ExecutionStatus
from eventflow.events.wire import ErrorObject, Operation
from eventflow.local.history import HistoryItem
from eventflow.machine.rules import WAITING_ON_SERVICE

ACCOUNT = "000000000000"
REGION = "us-east-1"



LIVE_STATUSES = frozenset({ExecutionStatus.RUNNING, ExecutionStatus.PAUSING, ExecutionStatus.PAUSED})
"""Statuses of an execution that has not ended: its timers fire and its callbacks take answers."""

PAUSED_STATUSES = frozenset({ExecutionStatus.PAUSING, ExecutionStatus.PAUSED})
"""Statuses in which the service runs none of the execution's code (PAUSING: the invocation already in
flight is let finish; PAUSED: nothing runs until ResumeDurableExecution)."""

DEFAULT_RETENTION_DAYS = 14
"""How long an ended execution and its history are kept (DurableConfig.RetentionPeriodInDays, 1 to 90)."""


def function_arn(function_name: str, version: str = "$LATEST") -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}:{version}"


@dataclass
class CallbackRecord:
    """An open or finished callback: which operation it completes, and its timeouts (0 = none)."""

    callback_id: str
    arn: str
    op_id: str
    timeout_seconds: int = 0
    heartbeat_timeout_seconds: int = 0
    timeout_at: datetime | None = None
    heartbeat_deadline: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "CallbackId": self.callback_id,
            "Arn": self.arn,
            "OpId": self.op_id,
            "Timeout": self.timeout_seconds,
            "HeartbeatTimeout": self.heartbeat_timeout_seconds,
            "TimeoutAt": _ts(self.timeout_at),
            "HeartbeatDeadline": _ts(self.heartbeat_deadline),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CallbackRecord:
        return cls(
            data["CallbackId"],
            data["Arn"],
            data["OpId"],
            data["Timeout"],
            data["HeartbeatTimeout"],
            _dt(data.get("TimeoutAt")),
            _dt(data.get("HeartbeatDeadline")),
        )


@dataclass
class InvokeRecord:
    """A chained invoke: its target, and the child execution running it (None for a plain target)."""

    op_id: str
    function_name: str
    payload: str | None
    child_arn: str | None
    tenant_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "OpId": self.op_id,
            "FunctionName": self.function_name,
            "Payload": self.payload,
            "ChildArn": self.child_arn,
            "TenantId": self.tenant_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InvokeRecord:
        return cls(
            data["OpId"],
            data["FunctionName"],
            data.get("Payload"),
            data.get("ChildArn"),
            data.get("TenantId"),
        )


@dataclass(frozen=True)
class PauseRecord:
    """Why and since when an execution is paused (PauseDurableExecution), and whether its execution
    timeout stands still meanwhile."""

    requested_at: datetime
    reason: str | None
    timeout_paused: bool

    def to_json(self) -> dict[str, Any]:
        return {"At": _ts(self.requested_at), "Reason": self.reason, "TimeoutPaused": self.timeout_paused}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PauseRecord:
        at = _dt(data["At"])
        assert at is not None
        return cls(at, data.get("Reason"), bool(data["TimeoutPaused"]))


@dataclass
class LocalExecution:
    """One durable execution as the service keeps it."""

    arn: str
    function_name: str
    name: str
    input_payload: str | None
    started_at: datetime
    timeout_seconds: int | None
    status: ExecutionStatus = ExecutionStatus.RUNNING
    result: str | None = None
    error: ErrorObject | None = None
    ended_at: datetime | None = None
    token: str = ""
    token_serial: int = 0
    invocations: int = 0
    failed_invocations: int = 0  # consecutive invocations whose handler raised
    ready: bool = True  # something happened that the handler has not seen yet
    invoking: bool = False  # an invocation started and has not completed (persisted: a crash leaves it set)
    invocation_request_id: str | None = None  # the request id of the latest invocation
    invocation_started_at: datetime | None = None  # when the latest invocation started
    checkpointed_result: str | None = None
    checkpointed_error: ErrorObject | None = None
    parent_arn: str | None = None
    parent_op_id: str | None = None
    trace_header: str | None = None  # its X-Ray header (`eventflow.local.tracing`); not persisted
    version: str = "$LATEST"
    execution_op_id: str = ""
    operations: dict[str, Operation] = field(default_factory=dict)
    op_order: list[str] = field(default_factory=list)
    events: list[HistoryItem] = field(default_factory=list)
    waiting: set[str] = field(default_factory=set)
    changed: dict[str, None] = field(default_factory=dict)
    callbacks: dict[str, CallbackRecord] = field(default_factory=dict)  # by callback id
    invokes: dict[str, InvokeRecord] = field(default_factory=dict)  # by operation id
    pause: PauseRecord | None = None  # set while PAUSING or PAUSED
    paused_us: int = 0  # time spent paused with the timeout paused: the execution timeout moves by it
    pause_client_token: str | None = None  # the ClientToken of the latest pause (idempotency)
    resume_client_token: str | None = None  # the ClientToken of the latest resume (idempotency)
    retention_days: int = DEFAULT_RETENTION_DAYS

    @property
    def execution_op(self) -> Operation:
        return self.operations[self.execution_op_id]

    @property
    def function_arn(self) -> str:
        return function_arn(self.function_name, self.version)

    @property
    def running(self) -> bool:
        """Not ended: RUNNING, PAUSING or PAUSED. Its timers fire and its callbacks take answers."""
        return self.status in LIVE_STATUSES

    @property
    def paused(self) -> bool:
        """PAUSING or PAUSED: the service starts no invocation of it."""
        return self.status in PAUSED_STATUSES

    @property
    def runnable(self) -> bool:
        """RUNNING: the service may invoke its handler."""
        return self.status is ExecutionStatus.RUNNING

    @property
    def expires_at(self) -> datetime | None:
        """When an ended execution and its history are deleted (RetentionPeriodInDays after its end)."""
        return None if self.ended_at is None else self.ended_at + timedelta(days=self.retention_days)

    def index(self, op: Operation) -> None:
        """Record ``op`` (new or changed) and keep the order and waiting indexes in step."""
        if op.id not in self.operations:
            self.op_order.append(op.id)
        self.operations[op.id] = op
        if (op.type, op.status) in WAITING_ON_SERVICE:
            self.waiting.add(op.id)
        else:
            self.waiting.discard(op.id)

    # -- persistence of the scalar part (operations, events, callbacks and invokes are stored as rows) --

    def meta_json(self) -> dict[str, Any]:
        """The execution's own fields (not its operations or history) as JSON, for the store."""
        return {
            "Arn": self.arn,
            "FunctionName": self.function_name,
            "Name": self.name,
            "InputPayload": self.input_payload,
            "StartedAt": _ts(self.started_at),
            "TimeoutSeconds": self.timeout_seconds,
            "Status": self.status.value,
            "Result": self.result,
            "Error": self.error.to_wire() if self.error else None,
            "EndedAt": _ts(self.ended_at),
            "Token": self.token,
            "TokenSerial": self.token_serial,
            "Invocations": self.invocations,
            "FailedInvocations": self.failed_invocations,
            "Ready": self.ready,
            "Invoking": self.invoking,
            "InvocationRequestId": self.invocation_request_id,
            "InvocationStartedAt": _ts(self.invocation_started_at),
            "CheckpointedResult": self.checkpointed_result,
            "CheckpointedError": self.checkpointed_error.to_wire() if self.checkpointed_error else None,
            "ParentArn": self.parent_arn,
            "ParentOpId": self.parent_op_id,
            "Version": self.version,
            "ExecutionOpId": self.execution_op_id,
            "Changed": list(self.changed),
            "Pause": self.pause.to_json() if self.pause else None,
            "PausedUs": self.paused_us,
            "PauseClientToken": self.pause_client_token,
            "ResumeClientToken": self.resume_client_token,
            "RetentionDays": self.retention_days,
        }

    @classmethod
    def from_meta_json(cls, data: dict[str, Any]) -> LocalExecution:
        """Rebuild an execution's own fields from `meta_json`'s output."""
        started = _dt(data["StartedAt"])
        assert started is not None
        return cls(
            arn=data["Arn"],
            function_name=data["FunctionName"],
            name=data["Name"],
            input_payload=data.get("InputPayload"),
            started_at=started,
            timeout_seconds=data.get("TimeoutSeconds"),
            status=ExecutionStatus(data["Status"]),
            result=data.get("Result"),
            error=ErrorObject.from_wire(data["Error"]) if data.get("Error") else None,
            ended_at=_dt(data.get("EndedAt")),
            token=data["Token"],
            token_serial=data["TokenSerial"],
            invocations=data["Invocations"],
            failed_invocations=data["FailedInvocations"],
            ready=data["Ready"],
            invoking=data.get("Invoking", False),
            invocation_request_id=data.get("InvocationRequestId"),
            invocation_started_at=_dt(data.get("InvocationStartedAt")),
            checkpointed_result=data.get("CheckpointedResult"),
            checkpointed_error=(
                ErrorObject.from_wire(data["CheckpointedError"]) if data.get("CheckpointedError") else None
            ),
            parent_arn=data.get("ParentArn"),
            parent_op_id=data.get("ParentOpId"),
            version=data.get("Version") or "$LATEST",
            execution_op_id=data["ExecutionOpId"],
            changed=dict.fromkeys(data.get("Changed") or ()),
            pause=PauseRecord.from_json(data["Pause"]) if data.get("Pause") else None,
            paused_us=data.get("PausedUs") or 0,
            pause_client_token=data.get("PauseClientToken"),
            resume_client_token=data.get("ResumeClientToken"),
            retention_days=data.get("RetentionDays") or DEFAULT_RETENTION_DAYS,
        )


@dataclass(frozen=True)
class ExecutionSummary:
    """What ListDurableExecutionsByFunction shows of an execution."""

    arn: str
    function_name: str
    name: str
    status: ExecutionStatus
    started_at: datetime
    ended_at: datetime | None
    input_payload: str | None = None
    version: str = "$LATEST"  # the function version it runs (a Qualifier selects by it)


def summary_of(execution: LocalExecution) -> ExecutionSummary:
    return ExecutionSummary(
        execution.arn,
        execution.function_name,
        execution.name,
        execution.status,
        execution.started_at,
        execution.ended_at,
        execution.input_payload,
        execution.version,
    )


def to_epoch_us(value: datetime) -> int:
    """Integer microseconds since the epoch: exact, so a store round trip keeps timestamps equal."""
    return (value - _EPOCH) // _MICROSECOND


def from_epoch_us(value: int) -> datetime:
    return _EPOCH + value * _MICROSECOND


def _ts(value: datetime | None) -> int | None:
    return None if value is None else to_epoch_us(value)


def _dt(value: int | None) -> datetime | None:
    return None if value is None else from_epoch_us(value)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
