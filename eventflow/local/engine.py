"""`LocalService`: the durable-execution service's semantics, in process.

It starts executions, invokes handlers with the plain invocation input, applies checkpoint batches
through the same state machines as the SDK (rejecting stale tokens, illegal transitions, duplicate ids
and oversized payloads), keeps the history with dense EventIds, and re-invokes when a timer fires.
It is also a `Backend`: handlers it invokes checkpoint straight back into it.

Every checkpoint is O(size of the batch): operations live in a dict by id, timers in a heap.
"""

from __future__ import annotations

import heapq
import itertools
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from eventflow.backends.base import CheckpointResult, StatePage, use_backend
from eventflow.core.batching import split_batches
from eventflow.core.failures import error_object
from eventflow.errors import CheckpointError, IllegalTransitionError, InvalidInputError
from eventflow.events.enums import (
    TERMINAL_STATUSES,
    ExecutionStatus,
    InvocationStatus,
    OperationAction,
    OperationStatus,
    OperationType,
)
from eventflow.events.history import Event
from eventflow.events.wire import (
    ContextDetails,
    ErrorObject,
    ExecutionDetails,
    Operation,
    OperationUpdate,
    StepDetails,
    WaitDetails,
)
from eventflow.local import history
from eventflow.local.clock import Clock, VirtualClock
from eventflow.machine.table import NEW, next_state

MAX_PAYLOAD_BYTES = 256 * 1024
MAX_LAMBDA_RETRIES = 2  # how often Lambda re-runs an invocation whose handler raised

Handler = Callable[[dict[str, Any], Any], Any]


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
    operations: dict[str, Operation] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    token: str = ""
    token_serial: int = 0
    invocations: int = 0
    ready: bool = True  # something happened that the handler has not seen yet
    checkpointed_result: str | None = None
    failed_invocations: int = 0  # consecutive invocations that raised; Lambda gives up after a few

    @property
    def execution_op(self) -> Operation:
        return next(iter(self.operations.values()))


@dataclass
class LambdaContext:
    """The parts of Lambda's context object that handlers commonly read."""

    aws_request_id: str
    function_name: str
    invoked_function_arn: str
    deadline: datetime
    clock: Clock

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - self.clock.now()).total_seconds() * 1000))


class LocalService:
    """An in-process durable-execution service. See the module docstring."""

    def __init__(self, clock: Clock | None = None, *, page_size: int = 1000) -> None:
        self.clock: Clock = clock or VirtualClock()
        self.page_size = page_size
        self.functions: dict[str, Handler] = {}
        self.executions: dict[str, LocalExecution] = {}
        self._timers: list[tuple[datetime, int, str, str]] = []
        self._timer_seq = itertools.count()

    # -- functions and executions -----------------------------------------------------------------

    def register(self, function_name: str, handler: Handler) -> None:
        self.functions[function_name] = handler

    def start_execution(
        self,
        function_name: str,
        input: Any = None,
        *,
        name: str | None = None,
        timeout_seconds: int | None = None,
        input_payload: str | None = None,
    ) -> LocalExecution:
        """Create an execution (its EXECUTION operation and ExecutionStarted event); invoke nothing yet."""
        import json

        if function_name not in self.functions:
            raise InvalidInputError(f"no function named {function_name!r} is registered")
        name = name or str(uuid.uuid4())
        arn = f"arn:aws:lambda:us-east-1:000000000000:function:{function_name}:$LATEST/durable-execution/{name}/{uuid.uuid4()}"
        if input_payload is None:
            input_payload = json.dumps(input) if input is not None else None
        now = self.clock.now()
        execution = LocalExecution(arn, function_name, name, input_payload, now, timeout_seconds)
        execution.token = self._new_token(execution)
        op = Operation(
            id=str(uuid.uuid4()), type=OperationType.EXECUTION, status=OperationStatus.STARTED,
            start_timestamp=now, execution_details=ExecutionDetails(input_payload=input_payload),
        )
        execution.operations[op.id] = op
        self._append(execution, history.execution_started(op, now, input_payload, timeout_seconds))
        self.executions[arn] = execution
        return execution

    def get(self, arn: str) -> LocalExecution:
        try:
            return self.executions[arn]
        except KeyError:
            raise InvalidInputError(f"no durable execution with ARN {arn!r}") from None

    # -- the Backend protocol -----------------------------------------------------------------------

    def checkpoint(self, arn: str, token: str, updates: Sequence[OperationUpdate]) -> CheckpointResult:
        """CheckpointDurableExecution: all of the batch applies, or none of it does."""
        execution = self.get(arn)
        if token != execution.token:
            raise CheckpointError(
                f"Invalid checkpoint token for {arn}: it is stale or was already used",
                code="InvalidParameterValueException",
            )
        if execution.status is not ExecutionStatus.RUNNING:
            raise CheckpointError(
                f"execution {arn} is {execution.status.value}", terminal=True, code="InvalidParameterValueException"
            )
        if len(split_batches(updates)) > 1:
            raise CheckpointError(
                "a batch may carry one update per operation id (a STEP or CONTEXT START with its completion "
                "excepted) and at most 250 updates",
                terminal=True,
                code="InvalidParameterValueException",
            )
        now = self.clock.now()
        staged: dict[str, Operation] = {}
        steps: list[tuple[OperationUpdate, Operation, int]] = []  # each update with its snapshot and attempt
        for update in updates:
            # The execution's own result may exceed the per-operation limit: that is how a result too
            # large for Lambda's response is returned (PROTOCOL.md §2).
            if (
                update.payload is not None
                and update.type != OperationType.EXECUTION
                and len(update.payload.encode()) > MAX_PAYLOAD_BYTES
            ):
                raise CheckpointError(
                    f"payload of operation {update.id} is over {MAX_PAYLOAD_BYTES} bytes",
                    terminal=True,
                    code="InvalidParameterValueException",
                )
            current = staged.get(update.id) or execution.operations.get(update.id)
            if update.parent_id is not None and update.parent_id not in staged and update.parent_id not in execution.operations:
                raise CheckpointError(
                    f"operation {update.id} names parent {update.parent_id}, which is not started",
                    terminal=True,
                    code="InvalidParameterValueException",
                )
            try:
                status = next_state(update.type, current.status if current else NEW, update.action, op_id=update.id)
            except IllegalTransitionError as exc:
                raise CheckpointError(str(exc), terminal=True, code="InvalidParameterValueException") from exc
            staged[update.id] = _apply(current, update, status, now)
            steps.append((update, staged[update.id], _attempt_of(current, update)))
        # Validated: commit.
        for update, op, attempt in steps:
            execution.operations[update.id] = op
            event = history.for_update(update, op, now, attempt)
            if event is not None:
                self._append(execution, event)
            self._after_update(execution, update, op)
        execution.token = self._new_token(execution)
        changed = [staged[op_id] for op_id in dict.fromkeys(u.id for u in updates)]
        return CheckpointResult(execution.token, changed)

    def get_state(self, arn: str, token: str, marker: str) -> StatePage:
        """GetDurableExecutionState: operations in creation order, ``page_size`` at a time."""
        execution = self.get(arn)
        if token != execution.token:
            raise CheckpointError(f"Invalid checkpoint token for {arn}", code="InvalidParameterValueException")
        return self._page(execution, int(marker or 0))

    def _page(self, execution: LocalExecution, start: int) -> StatePage:
        ops = list(itertools.islice(execution.operations.values(), start, start + self.page_size))
        end = start + len(ops)
        return StatePage(ops, str(end) if end < len(execution.operations) else None)

    # -- invoking -----------------------------------------------------------------------------------

    def invocation_input(self, execution: LocalExecution) -> dict[str, Any]:
        """The plain JSON dict Lambda hands a durable handler."""
        page = self._page(execution, 0)
        state: dict[str, Any] = {"Operations": [op.to_wire() for op in page.operations]}
        if page.next_marker:
            state["NextMarker"] = page.next_marker
        return {
            "DurableExecutionArn": execution.arn,
            "CheckpointToken": execution.token,
            "InitialExecutionState": state,
        }

    def invoke(self, arn: str) -> dict[str, Any] | None:
        """One invocation of the execution's handler; returns its output (None if it raised)."""
        execution = self.get(arn)
        handler = self.functions[execution.function_name]
        execution.ready = False
        execution.invocations += 1
        request_id = str(uuid.uuid4())
        start = self.clock.now()
        context = LambdaContext(
            request_id, execution.function_name, execution.arn.split("/durable-execution/")[0],
            start + timedelta(minutes=15), self.clock,
        )
        error: ErrorObject | None = None
        output: dict[str, Any] | None = None
        try:
            with use_backend(self):
                output = handler(self.invocation_input(execution), context)
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            error = error_object(exc)
        except BaseException as exc:  # the sandbox died (sys.exit, a crash stand-in): Lambda's ExitError
            error = ErrorObject(error_type="Runtime.ExitError", error_message=f"the runtime exited: {exc!r}")
        self._append(execution, history.invocation_completed(start, self.clock.now(), request_id, error))
        if output is None:
            self._handler_raised(execution, error)
        else:
            execution.failed_invocations = 0
            self._take_output(execution, output)
        return output

    def _take_output(self, execution: LocalExecution, output: Mapping[str, Any]) -> None:
        if execution.status is not ExecutionStatus.RUNNING:
            return
        status = output.get("Status")
        if status == InvocationStatus.SUCCEEDED:
            # An oversized result arrives checkpointed on the EXECUTION operation, with an empty Result.
            result = output.get("Result") or execution.checkpointed_result
            self._close(execution, ExecutionStatus.SUCCEEDED, result=result)
        elif status == InvocationStatus.FAILED:
            error = output.get("Error")
            self._close(
                execution, ExecutionStatus.FAILED, error=ErrorObject.from_wire(error) if error else None
            )
        elif status == InvocationStatus.PENDING:
            if not self._timers_for(execution) and not self._has_external_wait(execution):
                self._close(
                    execution,
                    ExecutionStatus.FAILED,
                    error=ErrorObject(error_type="InvalidState", error_message="PENDING with nothing pending"),
                )
        else:
            self._close(
                execution,
                ExecutionStatus.FAILED,
                error=ErrorObject(error_type="InvalidOutput", error_message=f"unknown invocation status {status!r}"),
            )

    def _handler_raised(self, execution: LocalExecution, error: ErrorObject | None) -> None:
        execution.failed_invocations += 1
        if execution.failed_invocations > MAX_LAMBDA_RETRIES and execution.status is ExecutionStatus.RUNNING:
            self._close(execution, ExecutionStatus.FAILED, error=error)
        else:
            execution.ready = True

    def _close(
        self,
        execution: LocalExecution,
        status: ExecutionStatus,
        *,
        result: str | None = None,
        error: ErrorObject | None = None,
    ) -> None:
        now = self.clock.now()
        execution.status, execution.result, execution.error, execution.ended_at = status, result, error, now
        op = execution.execution_op
        if status is ExecutionStatus.SUCCEEDED:
            self._append(execution, history.execution_succeeded(op, now, result))
        else:
            self._append(execution, history.execution_failed(op, now, error))

    # -- timers ---------------------------------------------------------------------------------------

    def _after_update(self, execution: LocalExecution, update: OperationUpdate, op: Operation) -> None:
        if update.type == OperationType.WAIT and update.action == OperationAction.START:
            assert op.wait_details is not None and op.wait_details.scheduled_end_timestamp is not None
            self._schedule(op.wait_details.scheduled_end_timestamp, execution.arn, op.id)
        elif update.type == OperationType.STEP and update.action == OperationAction.RETRY:
            assert op.step_details is not None and op.step_details.next_attempt_timestamp is not None
            self._schedule(op.step_details.next_attempt_timestamp, execution.arn, op.id)
        elif update.type == OperationType.EXECUTION and update.action == OperationAction.SUCCEED:
            execution.checkpointed_result = update.payload

    def _schedule(self, when: datetime, arn: str, op_id: str) -> None:
        heapq.heappush(self._timers, (when, next(self._timer_seq), arn, op_id))

    def _timers_for(self, execution: LocalExecution) -> bool:
        return any(arn == execution.arn for _, _, arn, _ in self._timers)

    def _has_external_wait(self, execution: LocalExecution) -> bool:
        return any(
            op.status == OperationStatus.STARTED and op.type in (OperationType.CALLBACK, OperationType.CHAINED_INVOKE)
            for op in execution.operations.values()
        )

    def next_timer(self) -> datetime | None:
        return self._timers[0][0] if self._timers else None

    def fire_due_timers(self) -> int:
        """Complete every timer due by now: waits succeed, retrying steps become READY."""
        fired = 0
        now = self.clock.now()
        while self._timers and self._timers[0][0] <= now:
            _, _, arn, op_id = heapq.heappop(self._timers)
            execution = self.executions[arn]
            op = execution.operations[op_id]
            if execution.status is not ExecutionStatus.RUNNING or op.status in TERMINAL_STATUSES:
                continue
            if op.type == OperationType.WAIT:
                status = next_state(op.type, op.status, "timer_elapsed", op_id=op_id)
                op = op.model_copy(update={"status": status, "end_timestamp": now})
                duration = _wait_duration(op)
                self._append(execution, history.wait_succeeded(op, now, duration))
            else:
                status = next_state(op.type, op.status, "retry_delay_elapsed", op_id=op_id)
                op = op.model_copy(update={"status": status})
            execution.operations[op_id] = op
            execution.ready = True
            fired += 1
        return fired

    # -- running to the end -----------------------------------------------------------------------------

    def run(self, arn: str, *, max_invocations: int = 100_000) -> LocalExecution:
        """Invoke, fire timers (jumping a virtual clock to each), and re-invoke until the execution ends or
        waits for something only the outside world can do (a callback)."""
        execution = self.get(arn)
        for _ in range(max_invocations):
            if execution.status is not ExecutionStatus.RUNNING:
                return execution
            if not execution.ready:
                when = self.next_timer()
                if when is None:
                    return execution
                if isinstance(self.clock, VirtualClock):
                    self.clock.advance_to(when)
                self.fire_due_timers()
                continue
            self.invoke(arn)
        raise RuntimeError(f"execution {arn} did not finish within {max_invocations} invocations")

    def history(self, arn: str) -> list[Event]:
        return list(self.get(arn).events)

    # -- helpers ------------------------------------------------------------------------------------

    def _append(self, execution: LocalExecution, event: Event) -> None:
        execution.events.append(event.model_copy(update={"event_id": len(execution.events) + 1}))

    @staticmethod
    def _new_token(execution: LocalExecution) -> str:
        execution.token_serial += 1
        return f"{execution.token_serial}.{secrets.token_hex(8)}"


def _attempt_of(previous: Operation | None, update: OperationUpdate) -> int:
    """The attempt a STEP update belongs to: finished attempts so far, plus one."""
    done = previous.step_details.attempt if previous and previous.step_details else 0
    return (done or 0) + 1


def _wait_duration(op: Operation) -> int | None:
    if op.start_timestamp and op.wait_details and op.wait_details.scheduled_end_timestamp:
        return round((op.wait_details.scheduled_end_timestamp - op.start_timestamp).total_seconds())
    return None


def _apply(current: Operation | None, update: OperationUpdate, status: str, now: datetime) -> Operation:
    """The operation's snapshot after ``update`` moved it to ``status``."""
    ended = now if status in TERMINAL_STATUSES else None
    if current is None:
        current = Operation(
            id=update.id, parent_id=update.parent_id, name=update.name, type=update.type,
            sub_type=update.sub_type, start_timestamp=now, status=status,
        )
    changes: dict[str, Any] = {"status": status, "end_timestamp": ended}
    kind, action = update.type, update.action
    if kind == OperationType.STEP:
        details = current.step_details or StepDetails(attempt=0)
        attempt = details.attempt or 0
        if action == OperationAction.RETRY:
            delay = update.step_options.next_attempt_delay_seconds if update.step_options else None
            changes["step_details"] = StepDetails(
                attempt=attempt + 1, error=update.error, result=update.payload,
                next_attempt_timestamp=now + timedelta(seconds=delay or 1),
            )
        elif action in (OperationAction.SUCCEED, OperationAction.FAIL):
            changes["step_details"] = StepDetails(
                attempt=attempt + 1, result=update.payload, error=update.error
            )
        else:
            changes["step_details"] = StepDetails(attempt=attempt, result=details.result)
    elif kind == OperationType.CONTEXT and action != OperationAction.START:
        changes["context_details"] = ContextDetails(
            result=update.payload, error=update.error,
            replay_children=update.context_options.replay_children if update.context_options else None,
        )
    elif kind == OperationType.WAIT and action == OperationAction.START:
        seconds = update.wait_options.wait_seconds if update.wait_options else 1
        changes["wait_details"] = WaitDetails(scheduled_end_timestamp=now + timedelta(seconds=seconds or 1))
    elif kind == OperationType.EXECUTION and action == OperationAction.SUCCEED:
        changes["execution_details"] = current.execution_details
    if action == OperationAction.START and current.start_timestamp is None:
        changes["start_timestamp"] = now
    return current.model_copy(update=changes)
