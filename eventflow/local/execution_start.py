"""Starting executions: StartDurableExecution (and chained invokes' child executions).

An execution starts with its EXECUTION operation, the ExecutionStarted event, a first checkpoint token, its
execution timeout armed, and its first invocation queued. A DurableExecutionName makes a start idempotent:
the same name with the same input is the same execution.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from eventflow.events.enums import OperationStatus, OperationType
from eventflow.events.wire import ExecutionDetails, Operation
from eventflow.local import history
from eventflow.local.errors import ExecutionAlreadyStartedError, InvalidParameterValueError
from eventflow.local.model import LocalExecution, function_arn
from eventflow.local.state import ServiceState
from eventflow.local.timers import TimerKey, TimerQueue
from eventflow.local.tracing import new_trace_header

EXECUTION_TIMEOUT_TIMER = "timeout"
"""Timer kind: the execution's own timeout (`execution_end.ExecutionEnder.time_out` fires it)."""


def execution_timeout_timer(arn: str) -> TimerKey:
    return (EXECUTION_TIMEOUT_TIMER, arn, "")


MAX_EXECUTION_DURATION = timedelta(days=366)
"""No execution outlives this from its start, paused or not (ExecutionTimeout is at most 31,622,400 s)."""


def execution_deadline(execution: LocalExecution) -> datetime | None:
    """When the execution times out: its timeout counted from its start, moved on by the time it spent
    paused with the timeout paused; while so paused, only the 366-day limit. None: it never times out."""
    limit = execution.started_at + MAX_EXECUTION_DURATION
    pause = execution.pause
    if pause is not None and pause.timeout_paused:
        return limit
    if not execution.timeout_seconds:
        return limit if pause is not None else None
    moved = timedelta(seconds=execution.timeout_seconds, microseconds=execution.paused_us)
    return min(limit, execution.started_at + moved)


def arm_execution_timeout(timers: TimerQueue, execution: LocalExecution) -> None:
    """Arm the execution's timeout at `execution_deadline` (or drop it, if it has none)."""
    deadline = execution_deadline(execution)
    if deadline is None:
        timers.cancel(execution_timeout_timer(execution.arn))
    else:
        timers.arm(execution_timeout_timer(execution.arn), deadline)


def execution_operation_id(arn: str) -> str:
    """The EXECUTION operation's Id: the last path segment of the execution ARN (PROTOCOL.md §2). The
    official SDK finds its execution operation, and so its input, by this segment: any other id hands its
    handlers an empty event."""
    return arn.rsplit("/", 1)[-1]


class ExecutionStarter:
    """Creates executions: started from outside, or as the child of a chained invoke."""

    def __init__(self, state: ServiceState) -> None:
        self._state = state

    def start(
        self,
        function_name: str,
        input_payload: str | None,
        name: str | None,
        timeout_seconds: int | None,
        version: str | None = None,
    ) -> LocalExecution:
        """StartDurableExecution, idempotent by ``name`` (see `LocalService.start_execution`); without a
        ``timeout_seconds`` it takes the function's own. ``version`` is the qualifier the start named
        (a version or alias; default ``$LATEST``): the execution's ARN and Version carry it."""
        state = self._state
        with state.cond:
            spec = state.function(function_name)
            if not spec.durable:
                raise InvalidParameterValueError(f"function {function_name!r} is not durable")
            if name is not None:
                existing = state.store.find_by_name(function_name, name)
                if existing is not None:
                    execution = state.get(existing)
                    if execution.input_payload != input_payload:
                        raise ExecutionAlreadyStartedError(
                            f"an execution named {name!r} of {function_name!r} has another payload",
                            arn=existing,
                        )
                    return execution
            execution = self.create(
                function_name, name, input_payload, timeout_seconds or spec.timeout_seconds, version=version
            )
            state.commit()
            return execution

    def create(
        self,
        function_name: str,
        name: str | None,
        input_payload: str | None,
        timeout_seconds: int | None,
        parent: tuple[str, str] | None = None,
        version: str | None = None,
        trace_header: str | None = None,
    ) -> LocalExecution:
        """A new RUNNING execution with its first invocation queued; ``parent`` is the (ARN, operation id)
        of the chained invoke it runs for. Called with the lock held; the caller commits."""
        state = self._state
        name = name or str(uuid.uuid4())
        execution_id = str(uuid.uuid4())
        version = version or "$LATEST"
        arn = f"{function_arn(function_name, version)}/durable-execution/{name}/{execution_id}"
        now = state.clock.now()
        execution = LocalExecution(arn, function_name, name, input_payload, now, timeout_seconds)
        execution.version = version
        spec = state.registry.get(function_name)
        if spec is not None:
            execution.retention_days = spec.retention_days
        if parent is not None:
            execution.parent_arn, execution.parent_op_id = parent
        execution.trace_header = trace_header or new_trace_header(now)
        op = Operation(
            id=execution_operation_id(arn),
            type=OperationType.EXECUTION,
            status=OperationStatus.STARTED,
            start_timestamp=now,
            execution_details=ExecutionDetails(input_payload=input_payload),
        )
        execution.execution_op_id = op.id
        state.executions[arn] = execution
        state.put(execution, op)
        state.append(
            execution, lambda i: history.execution_started(i, op, now, input_payload, timeout_seconds)
        )
        execution.token = state.new_token(execution)
        arm_execution_timeout(state.timers, execution)
        state.queue_invocation(arn)
        return execution
