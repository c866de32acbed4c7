"""`LocalService`: the durable-execution service's semantics, in process.

It starts executions, invokes handlers with the plain invocation input, applies checkpoint batches through
the same state machines as the SDK (rejecting stale tokens, illegal transitions, duplicate ids and
oversized payloads), keeps the history with dense EventIds, and completes what only the service can
complete: waits and retry delays (timers), callbacks (answered from outside, or timed out), chained invokes
(the target runs as its own execution), execution timeouts and stops. It is also a `Backend`: handlers it
invokes checkpoint straight back into it.

Cost: every service step is O(size of the step). Operations live in a dict with a creation-order list (state
pages are slices), the operations still waiting on the service are a set, timers are one heap with lazy
deletion (`TimerQueue`), callbacks are indexed by id, and the store writes only a step's `ChangeSet`.

Threads: one re-entrant lock guards all state; handlers run *outside* it, so an HTTP thread can answer a
callback while an invocation is in flight. `run` never sleeps a fixed time: with a `VirtualClock` it jumps
to the next timer; with a real clock it waits on a condition variable until the next timer is due or
another thread changes something.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from eventflow.backends.base import CheckpointResult, StatePage, use_backend
from eventflow.core.failures import error_object
from eventflow.errors import CheckpointError
from eventflow.events.enums import (
    TERMINAL_STATUSES,
    EventType,
    ExecutionStatus,
    InvocationStatus,
    OperationAction,
    OperationStatus,
    OperationType,
)
from eventflow.events.history import Event
from eventflow.events.wire import (
    CallbackDetails,
    ChainedInvokeDetails,
    ErrorObject,
    ExecutionDetails,
    GetDurableExecutionResponse,
    Operation,
    OperationUpdate,
)
from eventflow.local import history
from eventflow.local.checkpoint import MAX_INVOKE_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES, invalid, stage
from eventflow.local.clock import Clock, VirtualClock
from eventflow.local.errors import (
    CallbackNotFoundError,
    CallbackTimedOutError,
    ExecutionAlreadyStartedError,
    ExecutionNotFoundError,
    FunctionNotFoundError,
    InvalidParameterValueError,
    RequestTooLargeError,
)
from eventflow.local.history import EventRecord
from eventflow.local.model import (
    CallbackRecord,
    ExecutionSummary,
    InvokeRecord,
    LocalExecution,
    function_arn,
)
from eventflow.local.store import ChangeSet, MemoryStore, Store
from eventflow.local.timers import TimerKey, TimerQueue
from eventflow.machine.definitions import ServiceTrigger
from eventflow.machine.table import next_state

MAX_LAMBDA_RETRIES = 2  # how often Lambda re-runs an invocation whose handler raised
CALLBACK_TIMEOUT = "Callback.Timeout"
CALLBACK_HEARTBEAT = "Callback.Heartbeat"
CHAINED_INVOKE_TIMEOUT = "ChainedInvoke.Timeout"

Handler = Callable[[Any, Any], Any]
Action = Callable[[], object]

_INVOKE_ENDINGS: dict[ExecutionStatus, tuple[ServiceTrigger, EventType]] = {
    ExecutionStatus.SUCCEEDED: (ServiceTrigger.INVOKE_SUCCEEDED, EventType.CHAINED_INVOKE_SUCCEEDED),
    ExecutionStatus.FAILED: (ServiceTrigger.INVOKE_FAILED, EventType.CHAINED_INVOKE_FAILED),
    ExecutionStatus.TIMED_OUT: (ServiceTrigger.INVOKE_TIMED_OUT, EventType.CHAINED_INVOKE_TIMED_OUT),
    ExecutionStatus.STOPPED: (ServiceTrigger.INVOKE_STOPPED, EventType.CHAINED_INVOKE_STOPPED),
}
_EXECUTION_EVENTS: dict[ExecutionStatus, EventType] = {
    ExecutionStatus.SUCCEEDED: EventType.EXECUTION_SUCCEEDED,
    ExecutionStatus.FAILED: EventType.EXECUTION_FAILED,
    ExecutionStatus.TIMED_OUT: EventType.EXECUTION_TIMED_OUT,
    ExecutionStatus.STOPPED: EventType.EXECUTION_STOPPED,
}
_EXECUTION_ENDINGS: dict[ExecutionStatus, str] = {
    ExecutionStatus.SUCCEEDED: OperationAction.SUCCEED,
    ExecutionStatus.FAILED: OperationAction.FAIL,
    ExecutionStatus.TIMED_OUT: ServiceTrigger.EXECUTION_TIMED_OUT,
    ExecutionStatus.STOPPED: ServiceTrigger.STOPPED,
}

WorkItem = tuple[str, str, str]
"""("invoke", arn, "") runs the execution's handler; ("call", arn, op_id) runs a plain invoke target."""


@dataclass(frozen=True)
class RegisteredFunction:
    """A function the service can invoke: a durable handler, or a plain one called with the payload."""

    name: str
    handler: Handler
    durable: bool = True
    timeout_seconds: int | None = None


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

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        store: Store | None = None,
        page_size: int = 1000,
        on_event: Callable[[str, Event], None] | None = None,
    ) -> None:
        """``on_event(arn, event)`` is called for every history event as it is appended (under the service's
        lock: keep it short), e.g. to show progress."""

        self.clock: Clock = clock or VirtualClock()
        self.store: Store = store or MemoryStore()
        self.page_size = page_size
        self.on_event = on_event
        self.registry: dict[str, RegisteredFunction] = {}
        self.functions: dict[str, Handler] = {}  # name -> handler, as registered
        self.executions: dict[str, LocalExecution] = {}  # loaded executions, by ARN
        self._timers = TimerQueue()
        self._actions: dict[str, Action] = {}
        self._work: dict[WorkItem, None] = {}  # FIFO, deduplicated
        self._parked: dict[str, list[WorkItem]] = {}  # work for functions not registered yet
        self._inflight: set[str] = set()
        self._callback_arns: dict[str, str] = {}
        self._changes = ChangeSet()
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._resume()

    # -- functions and executions -----------------------------------------------------------------

    def register(
        self,
        function_name: str,
        handler: Handler,
        *,
        durable: bool = True,
        timeout_seconds: int | None = None,
    ) -> None:
        """Make ``handler`` invocable as ``function_name``. A plain (``durable=False``) handler is called
        with the decoded payload, as Lambda calls a function that is not durable."""
        with self._cond:
            self.registry[function_name] = RegisteredFunction(
                function_name, handler, durable, timeout_seconds
            )
            self.functions[function_name] = handler
            for item in self._parked.pop(function_name, ()):
                self._work[item] = None
            self._cond.notify_all()

    def start_execution(
        self,
        function_name: str,
        input: Any = None,
        *,
        name: str | None = None,
        timeout_seconds: int | None = None,
        input_payload: str | None = None,
    ) -> LocalExecution:
        """Create an execution (its EXECUTION operation and ExecutionStarted event) and queue its first
        invocation; `run` performs it. Reusing a ``name`` with the same input returns the existing execution
        (DurableExecutionName idempotency); with a different input it raises
        `ExecutionAlreadyStartedError`."""
        if input_payload is None and input is not None:
            input_payload = json.dumps(input)
        with self._cond:
            spec = self._function(function_name)
            if not spec.durable:
                raise InvalidParameterValueError(f"function {function_name!r} is not durable")
            if name is not None:
                existing = self.store.find_by_name(function_name, name)
                if existing is not None:
                    execution = self.get(existing)
                    if execution.input_payload != input_payload:
                        raise ExecutionAlreadyStartedError(
                            f"an execution named {name!r} of {function_name!r} has another payload",
                            arn=existing,
                        )
                    return execution
            execution = self._create(
                function_name, name, input_payload, timeout_seconds or spec.timeout_seconds
            )
            self._commit()
            return execution

    def _create(
        self,
        function_name: str,
        name: str | None,
        input_payload: str | None,
        timeout_seconds: int | None,
        parent: tuple[str, str] | None = None,
    ) -> LocalExecution:
        name = name or str(uuid.uuid4())
        arn = f"{function_arn(function_name)}/durable-execution/{name}/{uuid.uuid4()}"
        now = self.clock.now()
        execution = LocalExecution(arn, function_name, name, input_payload, now, timeout_seconds)
        if parent is not None:
            execution.parent_arn, execution.parent_op_id = parent
        op = Operation(
            id=str(uuid.uuid4()),
            type=OperationType.EXECUTION,
            status=OperationStatus.STARTED,
            start_timestamp=now,
            execution_details=ExecutionDetails(input_payload=input_payload),
        )
        execution.execution_op_id = op.id
        self.executions[arn] = execution
        self._put(execution, op)
        self._append(
            execution, lambda i: history.execution_started(i, op, now, input_payload, timeout_seconds)
        )
        execution.token = self._new_token(execution)
        if timeout_seconds:
            self._timers.arm(("timeout", arn, ""), now + timedelta(seconds=timeout_seconds))
        self._enqueue(("invoke", arn, ""))
        return execution

    def get(self, arn: str) -> LocalExecution:
        """The execution with this ARN (loaded from the store if need be)."""
        with self._lock:
            execution = self.executions.get(arn)
            if execution is None:
                execution = self.store.load(arn)
                if execution is None:
                    raise ExecutionNotFoundError(f"no durable execution with ARN {arn!r}")
                self.executions[arn] = execution
            return execution

    def _function(self, function_name: str) -> RegisteredFunction:
        try:
            return self.registry[function_name]
        except KeyError:
            raise FunctionNotFoundError(f"no function named {function_name!r} is registered") from None

    # -- the Backend protocol ---------------------------------------------------------------------

    def checkpoint(self, arn: str, token: str, updates: Sequence[OperationUpdate]) -> CheckpointResult:
        """CheckpointDurableExecution: all of the batch applies, or none of it does."""
        with self._cond:
            try:
                execution = self.get(arn)
            except ExecutionNotFoundError as exc:
                raise CheckpointError(str(exc), terminal=True, code="ResourceNotFoundException") from exc
            if token != execution.token:
                raise CheckpointError(
                    f"Invalid checkpoint token for {arn}: it is stale or was already used",
                    code="InvalidParameterValueException",
                )
            if not execution.running:
                raise invalid(f"execution {arn} is {execution.status.value}")
            now = self.clock.now()
            applied = stage(execution.operations, updates, now)
            # Validated: commit.
            for update, op in applied:
                self._put(execution, op)
                self._after_update(execution, update, op, now)
            execution.token = self._new_token(execution)
            ids = dict.fromkeys(u.id for u in updates)
            ids.update(execution.changed)
            execution.changed.clear()
            self._touch(execution)
            try:
                self._commit()
            except Exception as exc:  # nothing was stored: the same token and batch may be sent again
                raise CheckpointError(f"the service could not store the checkpoint: {exc}") from exc
            return CheckpointResult(execution.token, [execution.operations[op_id] for op_id in ids])

    def get_state(self, arn: str, token: str, marker: str, max_items: int | None = None) -> StatePage:
        """GetDurableExecutionState: operations in creation order, a page at a time."""
        with self._lock:
            execution = self.get(arn)
            if token != execution.token:
                raise CheckpointError(
                    f"Invalid checkpoint token for {arn}", code="InvalidParameterValueException"
                )
            try:
                start = int(marker or 0)
            except ValueError:
                raise invalid(f"invalid marker {marker!r}") from None
            return self._page(execution, start, max_items)

    def _page(self, execution: LocalExecution, start: int, max_items: int | None = None) -> StatePage:
        end = start + (max_items or self.page_size)
        ids = execution.op_order[start:end]
        ops = [execution.operations[op_id] for op_id in ids]
        return StatePage(ops, str(end) if end < len(execution.op_order) else None)

    # -- what updates set in motion ---------------------------------------------------------------

    def _after_update(
        self, execution: LocalExecution, update: OperationUpdate, op: Operation, now: datetime
    ) -> None:
        """Append the update's event and arm or cancel what the service must do later because of it."""
        kind, action, arn = update.type, update.action, execution.arn
        if kind == OperationType.CHAINED_INVOKE:
            self._start_invoke(execution, update, op, now)
            return
        self._append(execution, lambda i: history.for_update(i, update, op, now, _attempt(op)))
        if kind == OperationType.WAIT:
            if action == OperationAction.START:
                assert op.wait_details is not None and op.wait_details.scheduled_end_timestamp is not None
                self._timers.arm(("wait", arn, op.id), op.wait_details.scheduled_end_timestamp)
            else:
                self._timers.cancel(("wait", arn, op.id))
        elif kind == OperationType.STEP and action == OperationAction.RETRY:
            assert op.step_details is not None and op.step_details.next_attempt_timestamp is not None
            self._timers.arm(("retry", arn, op.id), op.step_details.next_attempt_timestamp)
        elif kind == OperationType.CALLBACK:
            self._start_callback(execution, update, op, now)
        elif kind == OperationType.EXECUTION:
            if action == OperationAction.SUCCEED:
                execution.checkpointed_result = update.payload
            else:
                execution.checkpointed_error = update.error

    def _start_callback(
        self, execution: LocalExecution, update: OperationUpdate, op: Operation, now: datetime
    ) -> None:
        assert op.callback_details is not None and op.callback_details.callback_id is not None
        options = update.callback_options
        record = CallbackRecord(
            op.callback_details.callback_id,
            execution.arn,
            op.id,
            (options.timeout_seconds or 0) if options else 0,
            (options.heartbeat_timeout_seconds or 0) if options else 0,
        )
        if record.timeout_seconds:
            record.timeout_at = now + timedelta(seconds=record.timeout_seconds)
        if record.heartbeat_timeout_seconds:
            record.heartbeat_deadline = now + timedelta(seconds=record.heartbeat_timeout_seconds)
        self._put_callback(execution, record)
        self._arm_callback(record)

    def _arm_callback(self, record: CallbackRecord) -> None:
        if record.timeout_at is not None:
            self._timers.arm(("callback", record.arn, record.callback_id), record.timeout_at)
        if record.heartbeat_deadline is not None:
            self._timers.arm(("heartbeat", record.arn, record.callback_id), record.heartbeat_deadline)

    def _start_invoke(
        self, execution: LocalExecution, update: OperationUpdate, op: Operation, now: datetime
    ) -> None:
        """Resolve the target and start it: a durable one as its own execution, a plain one as a queued call.
        A target that is not registered fails the operation in the checkpoint's own answer."""
        options = update.chained_invoke_options
        assert options is not None
        target = self.registry.get(options.function_name)
        if target is None:
            self._append(execution, lambda i: history.for_update(i, update, op, now, 0, resolved=False))
            error = ErrorObject(
                error_type="ResourceNotFoundException",
                error_message=f"Function not found: {options.function_name} (not registered)",
            )
            self._end_invoke(execution, op, ExecutionStatus.FAILED, None, error, notify=False)
            return
        child_arn: str | None = None
        if target.durable:
            child = self._create(
                target.name, None, update.payload, target.timeout_seconds, parent=(execution.arn, op.id)
            )
            child_arn = child.arn
        record = InvokeRecord(op.id, target.name, update.payload, child_arn, options.tenant_id)
        execution.invokes[op.id] = record
        self._changes.invokes[execution.arn, op.id] = record
        if not target.durable:
            self._enqueue(("call", execution.arn, op.id))
        self._append(execution, lambda i: history.for_update(i, update, op, now, 0, child_arn=child_arn))

    # -- service completions ----------------------------------------------------------------------

    def _transition(
        self, execution: LocalExecution, op: Operation, trigger: str, **changes: Any
    ) -> Operation:
        """Move ``op`` by a service trigger; the checkpoint after this returns it as changed."""
        status = next_state(op.type, op.status, trigger, op_id=op.id)
        now = self.clock.now()
        updated = op.model_copy(
            update={
                "status": status,
                "end_timestamp": now if status in TERMINAL_STATUSES else None,
                **changes,
            }
        )
        self._put(execution, updated)
        execution.changed[op.id] = None
        return updated

    def _end_invoke(
        self,
        execution: LocalExecution,
        op: Operation,
        outcome: ExecutionStatus,
        result: str | None,
        error: ErrorObject | None,
        *,
        notify: bool = True,
    ) -> None:
        trigger, event_type = _INVOKE_ENDINGS[outcome]
        if (
            outcome is ExecutionStatus.SUCCEEDED
            and result is not None
            and len(result.encode()) > MAX_INVOKE_PAYLOAD_BYTES
        ):
            trigger, event_type = _INVOKE_ENDINGS[ExecutionStatus.FAILED]
            error, result = (
                ErrorObject(
                    error_message=f"the invoked function's result is over {MAX_INVOKE_PAYLOAD_BYTES} bytes"
                ),
                None,
            )
        details = ChainedInvokeDetails(result=result, error=error)
        op = self._transition(execution, op, trigger, chained_invoke_details=details)
        now = self.clock.now()
        self._append(
            execution,
            lambda i: history.ended(
                i, op, now, event_type, result if trigger is ServiceTrigger.INVOKE_SUCCEEDED else error
            ),
        )
        if notify:
            self._mark_ready(execution)

    def _fire(self, key: TimerKey) -> None:
        kind, arn, ref = key
        if kind == "action":
            action = self._actions.pop(ref)
            action()
            return
        execution = self.executions.get(arn)
        if execution is None or not execution.running:
            return
        now = self.clock.now()
        if kind == "timeout":
            seconds = execution.timeout_seconds
            error = ErrorObject(
                error_type="Execution.Timeout", error_message=f"Execution timed out after {seconds} seconds."
            )
            self._close(execution, ExecutionStatus.TIMED_OUT, error=error)
            return
        if kind in ("callback", "heartbeat"):
            record = execution.callbacks.get(ref)
            if record is None:
                return
            self._timers.cancel(("heartbeat" if kind == "callback" else "callback", arn, ref))
            op = execution.operations[record.op_id]
            if op.status != OperationStatus.STARTED:
                return
            trigger, error_type, message = (
                (ServiceTrigger.CALLBACK_TIMED_OUT, CALLBACK_TIMEOUT, "Callback timed out")
                if kind == "callback"
                else (ServiceTrigger.HEARTBEAT_TIMED_OUT, CALLBACK_HEARTBEAT, "Callback heartbeat timed out")
            )
            error = ErrorObject(error_type=error_type, error_message=message)
            details = CallbackDetails(callback_id=ref, error=error)
            op = self._transition(execution, op, trigger, callback_details=details)
            self._append(
                execution,
                lambda i: history.ended(i, op, now, EventType.CALLBACK_TIMED_OUT, error),
            )
        else:
            found = execution.operations.get(ref)
            if found is None or found.status in TERMINAL_STATUSES:
                return
            op = found
            if kind == "wait":
                op = self._transition(execution, op, ServiceTrigger.TIMER_ELAPSED)
                self._append(execution, lambda i: history.wait_succeeded(i, op, now, _wait_duration(op)))
            else:
                self._transition(execution, op, ServiceTrigger.RETRY_DELAY_ELAPSED)
        self._mark_ready(execution)

    # -- callbacks --------------------------------------------------------------------------------

    def send_callback_success(self, callback_id: str, result: str | bytes | None = None) -> None:
        """SendDurableExecutionCallbackSuccess: the callback SUCCEEDS with ``result`` (the raw string)."""
        if isinstance(result, bytes):
            try:
                result = result.decode()
            except UnicodeDecodeError:
                raise InvalidParameterValueError("a callback result must be UTF-8 text") from None
        if result is not None and len(result.encode()) > MAX_PAYLOAD_BYTES:
            raise RequestTooLargeError(f"a callback result may be at most {MAX_PAYLOAD_BYTES} bytes")
        details = CallbackDetails(callback_id=callback_id, result=result)
        self._answer_callback(
            callback_id, ServiceTrigger.CALLBACK_SUCCEEDED, EventType.CALLBACK_SUCCEEDED, details, result
        )

    def send_callback_failure(self, callback_id: str, error: ErrorObject | None = None) -> None:
        """SendDurableExecutionCallbackFailure: the callback FAILS with ``error``."""
        details = CallbackDetails(callback_id=callback_id, error=error)
        self._answer_callback(
            callback_id, ServiceTrigger.CALLBACK_FAILED, EventType.CALLBACK_FAILED, details, error
        )

    def _answer_callback(
        self,
        callback_id: str,
        trigger: ServiceTrigger,
        event_type: EventType,
        details: CallbackDetails,
        outcome: str | ErrorObject | None,
    ) -> None:
        """End an open callback the way its sender said, with its history event, and wake the execution."""
        with self._cond:
            execution, record, op = self._open_callback(callback_id)
            op = self._transition(execution, op, trigger, callback_details=details)
            now = self.clock.now()
            self._append(execution, lambda i: history.ended(i, op, now, event_type, outcome))
            self._finish_callback(execution, record)

    def send_callback_heartbeat(self, callback_id: str) -> None:
        """SendDurableExecutionCallbackHeartbeat: push the heartbeat deadline out by the heartbeat timeout."""
        with self._cond:
            execution, record, _ = self._open_callback(callback_id)
            if record.heartbeat_timeout_seconds:
                record.heartbeat_deadline = self.clock.now() + timedelta(
                    seconds=record.heartbeat_timeout_seconds
                )
                self._put_callback(execution, record)
                self._timers.arm(("heartbeat", execution.arn, callback_id), record.heartbeat_deadline)
                self._commit()
                self._cond.notify_all()

    def _open_callback(self, callback_id: str) -> tuple[LocalExecution, CallbackRecord, Operation]:
        arn = self._callback_arns.get(callback_id) or self.store.find_callback(callback_id)
        if arn is None:
            raise CallbackNotFoundError(f"no callback with id {callback_id!r}")
        execution = self.get(arn)
        record = execution.callbacks[callback_id]
        op = execution.operations[record.op_id]
        if op.status == OperationStatus.TIMED_OUT:
            raise CallbackTimedOutError(f"callback {callback_id!r} timed out")
        if op.status != OperationStatus.STARTED:
            raise CallbackNotFoundError(f"callback {callback_id!r} is already {op.status.value}")
        if not execution.running:
            raise CallbackNotFoundError(
                f"the execution of callback {callback_id!r} is {execution.status.value}"
            )
        return execution, record, op

    def _finish_callback(self, execution: LocalExecution, record: CallbackRecord) -> None:
        self._timers.cancel(("callback", execution.arn, record.callback_id))
        self._timers.cancel(("heartbeat", execution.arn, record.callback_id))
        self._mark_ready(execution)
        self._commit()
        self._cond.notify_all()

    # -- stop -------------------------------------------------------------------------------------

    def stop(self, arn: str, error: ErrorObject | None = None) -> datetime:
        """StopDurableExecution: the execution ends STOPPED and its timers are dropped. Stopping an
        execution that already ended changes nothing and returns when it ended."""
        with self._cond:
            execution = self.get(arn)
            if execution.running:
                self._close(
                    execution,
                    ExecutionStatus.STOPPED,
                    error=error
                    or ErrorObject(error_type="Execution.Stopped", error_message="The execution was stopped"),
                )
                self._commit()
            assert execution.ended_at is not None
            return execution.ended_at

    # -- invoking ---------------------------------------------------------------------------------

    def invocation_input(
        self, execution: LocalExecution, updated_operation_ids: Sequence[str] = ()
    ) -> dict[str, Any]:
        """The plain JSON dict Lambda hands a durable handler; ``updated_operation_ids`` lists the
        operations the service changed since the previous invocation (timers, answers, invokes)."""
        page = self._page(execution, 0)
        state: dict[str, Any] = {"Operations": [op.to_wire() for op in page.operations]}
        if page.next_marker:
            state["NextMarker"] = page.next_marker
        event: dict[str, Any] = {
            "DurableExecutionArn": execution.arn,
            "CheckpointToken": execution.token,
            "InitialExecutionState": state,
        }
        if updated_operation_ids:
            event["UpdatedOperationIds"] = list(updated_operation_ids)
        return event

    def invoke(self, arn: str) -> dict[str, Any] | None:
        """One invocation of the execution's handler; its output (None if it raised or did not run)."""
        with self._cond:
            execution = self.get(arn)
            self._work.pop(("invoke", arn, ""), None)
            if not execution.running or arn in self._inflight:
                return None
            spec = self._function(execution.function_name)
            execution.ready = False
            execution.invoking = True
            execution.invocations += 1
            execution.token = self._new_token(execution)
            updated = list(execution.changed)
            execution.changed.clear()
            event = self.invocation_input(execution, updated)
            self._inflight.add(arn)
            self._touch(execution)
            self._commit()
            start = self.clock.now()
            request_id = str(uuid.uuid4())
            context = LambdaContext(
                request_id,
                execution.function_name,
                execution.function_arn,
                start + timedelta(minutes=15),
                self.clock,
            )
        error: ErrorObject | None = None
        output: Any = None
        try:
            with use_backend(self):
                output = spec.handler(event, context)
        except Exception as exc:  # an unhandled error: Lambda retries the invocation
            error = error_object(exc)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # the sandbox died mid-invocation (sys.exit, a crash)
            error = ErrorObject(error_type="Runtime.ExitError", error_message=f"the runtime exited: {exc!r}")
        with self._cond:
            self._inflight.discard(arn)
            execution.invoking = False
            if execution.running:
                end = self.clock.now()
                self._append(
                    execution, lambda i: history.invocation_completed(i, start, end, request_id, error)
                )
                if error is not None:
                    self._handler_raised(execution, error)
                else:
                    execution.failed_invocations = 0
                    self._take_output(execution, output)
                if execution.running and execution.ready:
                    self._enqueue(("invoke", arn, ""))
            self._commit()
            self._cond.notify_all()
        return output if error is None and isinstance(output, dict) else None

    def _take_output(self, execution: LocalExecution, output: Any) -> None:
        status = output.get("Status") if isinstance(output, Mapping) else None
        if status == InvocationStatus.SUCCEEDED:
            # An oversized result arrives checkpointed on the EXECUTION operation, with an empty Result.
            result = output.get("Result") or execution.checkpointed_result
            self._close(execution, ExecutionStatus.SUCCEEDED, result=result)
        elif status == InvocationStatus.FAILED:
            error = output.get("Error")
            self._close(
                execution,
                ExecutionStatus.FAILED,
                error=ErrorObject.from_wire(error) if error else execution.checkpointed_error,
            )
        elif status == InvocationStatus.PENDING:
            if not execution.waiting and not execution.ready:
                error = ErrorObject(
                    error_type="InvalidState",
                    error_message="the handler returned PENDING with nothing pending",
                )
                self._close(execution, ExecutionStatus.FAILED, error=error)
        else:
            error = ErrorObject(
                error_type="InvalidOutput", error_message=f"invalid invocation output: {output!r:.200}"
            )
            self._close(execution, ExecutionStatus.FAILED, error=error)

    def _handler_raised(self, execution: LocalExecution, error: ErrorObject) -> None:
        """Lambda retries an invocation whose handler raised, a few times, then gives up."""
        execution.failed_invocations += 1
        if execution.failed_invocations > MAX_LAMBDA_RETRIES:
            self._close(execution, ExecutionStatus.FAILED, error=error)
        else:
            execution.ready = True

    def _call_plain(self, arn: str, op_id: str) -> None:
        """Run a plain chained-invoke target once with the decoded payload, and complete the operation."""
        with self._cond:
            self._work.pop(("call", arn, op_id), None)
            execution = self.get(arn)
            op = execution.operations[op_id]
            if not execution.running or op.status != OperationStatus.STARTED:
                return
            record = execution.invokes[op_id]
            spec = self._function(record.function_name)
            now = self.clock.now()
            context = LambdaContext(
                str(uuid.uuid4()), spec.name, function_arn(spec.name), now + timedelta(minutes=15), self.clock
            )
        result: str | None = None
        error: ErrorObject | None = None
        try:
            payload = json.loads(record.payload) if record.payload else None
            result = json.dumps(spec.handler(payload, context))
        except Exception as exc:
            error = error_object(exc)
        with self._cond:
            op = execution.operations[op_id]
            if execution.running and op.status == OperationStatus.STARTED:
                outcome = ExecutionStatus.SUCCEEDED if error is None else ExecutionStatus.FAILED
                self._end_invoke(execution, op, outcome, result, error)
            self._commit()
            self._cond.notify_all()

    def _close(
        self,
        execution: LocalExecution,
        status: ExecutionStatus,
        *,
        result: str | None = None,
        error: ErrorObject | None = None,
    ) -> None:
        """End the execution: its EXECUTION operation, the terminal event, and the parent's chained invoke."""
        now = self.clock.now()
        execution.status, execution.result, execution.error, execution.ended_at = status, result, error, now
        op = execution.execution_op
        if op.status == OperationStatus.STARTED:
            op = op.model_copy(
                update={
                    "status": next_state(op.type, op.status, _EXECUTION_ENDINGS[status], op_id=op.id),
                    "end_timestamp": now,
                }
            )
            self._put(execution, op)
        ending = _EXECUTION_EVENTS[status]
        self._append(
            execution,
            lambda i: history.ended(
                i, op, now, ending, result if status is ExecutionStatus.SUCCEEDED else error
            ),
        )

        self._work.pop(("invoke", execution.arn, ""), None)
        self._timers.cancel(("timeout", execution.arn, ""))
        if execution.parent_arn is not None and execution.parent_op_id is not None:
            parent = self.get(execution.parent_arn)
            parent_op = parent.operations[execution.parent_op_id]
            if parent.running and parent_op.status == OperationStatus.STARTED:
                if status is ExecutionStatus.TIMED_OUT:
                    error = ErrorObject(
                        error_type=CHAINED_INVOKE_TIMEOUT,
                        error_message=f"CHAINED_INVOKE timed out after {execution.timeout_seconds} seconds.",
                    )
                self._end_invoke(parent, parent_op, status, result, error)
        self._cond.notify_all()

    # -- running to the end -----------------------------------------------------------------------

    def at(self, seconds: float, action: Action) -> None:
        """Run ``action`` (e.g. answering a callback) ``seconds`` from now on the service's clock. With a
        virtual clock it takes its place among the timers, so it fires in exactly the right order."""
        with self._cond:
            key: TimerKey = ("action", "", uuid.uuid4().hex)
            self._actions[key[2]] = action
            self._timers.arm(key, self.clock.now() + timedelta(seconds=seconds))
            self._cond.notify_all()

    def run(self, arn: str, *, timeout: float | None = None) -> LocalExecution:
        """Drive the service (this execution, its chained invokes, anything else queued) until the execution
        ends; with a virtual clock, also return when only the outside world can move it on (an unanswered
        callback without a timeout). With a real clock, ``timeout`` bounds the real time spent."""
        execution = self.get(arn)
        self._drive(lambda: not execution.running, timeout)
        return execution

    def run_all(self, *, timeout: float | None = None) -> None:
        """Drive until nothing is left to do (virtual clock), or until ``timeout`` (real clock)."""
        self._drive(lambda: False, timeout)

    def run_due(self) -> None:
        """Do everything that is due now (invocations, chained-invoke calls, timers already due), without
        moving a virtual clock forward."""
        self._drive(lambda: False, 0, advance=False)

    def serve_forever(self, stop: threading.Event) -> None:
        """The worker loop of a server: drive whatever becomes due, until ``stop`` is set."""
        self._drive(stop.is_set, None, forever=True)

    def shutdown(self) -> None:
        """Wake a `serve_forever` loop so it notices its stop event, and close the store."""
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, arn: str, timeout: float | None = None) -> LocalExecution:
        """Block until another thread (a server's worker) has ended the execution, or ``timeout`` passes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            execution = self.get(arn)
            while execution.running:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                self._cond.wait(remaining)
            return execution

    def _drive(
        self, done: Callable[[], bool], timeout: float | None, *, forever: bool = False, advance: bool = True
    ) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        virtual = isinstance(self.clock, VirtualClock) and advance
        while True:
            with self._cond:
                if done():
                    return
                item = next(iter(self._work), None)
                if item is None:
                    top = self._timers.peek(self._timer_alive)
                    if top is not None and (virtual or top[0] <= self.clock.now()):
                        if virtual:
                            assert isinstance(self.clock, VirtualClock)
                            self.clock.advance_to(top[0])
                        self._fire_due()
                        continue
                    if virtual and not forever:
                        return
                    waits = [] if top is None else [(top[0] - self.clock.now()).total_seconds()]
                    if deadline is not None:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            return
                        waits.append(remaining)
                    if top is None and deadline is None and not forever:
                        return  # nothing will ever happen without another thread; do not hang
                    self._cond.wait(min(waits) if waits else None)
                    continue
            kind, arn, ref = item
            if kind == "invoke":
                self.invoke(arn)
            else:
                self._call_plain(arn, ref)

    def _fire_due(self) -> None:
        """Fire every live timer due by now, in (deadline, arming) order, each as its own stored step."""
        now = self.clock.now()
        while (top := self._timers.peek(self._timer_alive)) is not None and top[0] <= now:
            self._timers.pop(top[1])
            try:
                self._fire(top[1])
            finally:
                self._commit()

    def _timer_alive(self, key: TimerKey) -> bool:
        arn = key[1]
        return not arn or (arn in self.executions and self.executions[arn].running)

    def next_timer(self) -> datetime | None:
        with self._lock:
            top = self._timers.peek(self._timer_alive)
            return None if top is None else top[0]

    # -- reading ----------------------------------------------------------------------------------

    def history(self, arn: str) -> list[Event]:
        with self._lock:
            return [history.to_event(item) for item in self.get(arn).events]

    def get_history(
        self,
        arn: str,
        *,
        max_items: int | None = None,
        marker: str | None = None,
        reverse: bool = False,
        include_data: bool = True,
    ) -> tuple[list[Event], str | None]:
        """GetDurableExecutionHistory: a page of events (oldest first unless ``reverse``) and the next marker.
        Without ``include_data`` payloads are left out and marked truncated."""
        with self._lock:
            events = self.get(arn).events
            try:
                start = int(marker or 0)
            except ValueError:
                raise InvalidParameterValueError(f"invalid marker {marker!r}") from None
            count = max_items or 1000
            if reverse:
                page = events[max(0, len(events) - start - count) : len(events) - start][::-1]
            else:
                page = events[start : start + count]
            end = start + len(page)
            built = [history.to_event(item) for item in page]
            if not include_data:
                built = [_without_data(event) for event in built]
            return built, (str(end) if end < len(events) else None)

    def describe(self, arn: str, *, include_data: bool = True) -> GetDurableExecutionResponse:
        """GetDurableExecution."""
        with self._lock:
            e = self.get(arn)
            return GetDurableExecutionResponse(
                durable_execution_arn=e.arn,
                durable_execution_name=e.name,
                function_arn=e.function_arn,
                input_payload=e.input_payload if include_data else None,
                result=e.result if include_data else None,
                error=e.error,
                start_timestamp=e.started_at,
                status=e.status,
                end_timestamp=e.ended_at,
                version=e.version,
                execution_data_included=include_data,
                expected_execution_timeout_timestamp=(
                    e.started_at + timedelta(seconds=e.timeout_seconds) if e.timeout_seconds else None
                ),
            )

    def list_executions(
        self,
        function_name: str | None = None,
        *,
        name: str | None = None,
        statuses: Sequence[str] | None = None,
        started_after: datetime | None = None,
        started_before: datetime | None = None,
        reverse: bool = False,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> tuple[list[ExecutionSummary], str | None]:
        """ListDurableExecutionsByFunction (all functions when ``function_name`` is None)."""
        with self._lock:
            rows = [
                row
                for row in self.store.list_executions(function_name)
                if (name is None or row.name == name)
                and (not statuses or row.status in statuses)
                and (started_after is None or row.started_at >= started_after)
                and (started_before is None or row.started_at <= started_before)
            ]
        if reverse:
            rows.reverse()
        try:
            start = int(marker or 0)
        except ValueError:
            raise InvalidParameterValueError(f"invalid marker {marker!r}") from None
        end = start + (max_items or 1000)
        return rows[start:end], (str(end) if end < len(rows) else None)

    # -- restart ----------------------------------------------------------------------------------

    def _resume(self) -> None:
        """Load every running execution from the store and re-arm what it waits for (after a restart)."""
        for arn in self.store.running():
            self._adopt(self.get(arn))

    def _adopt(self, execution: LocalExecution) -> None:
        """Re-arm what a running execution loaded from the store waits for."""
        arn = execution.arn
        if not execution.running:
            return
        if isinstance(self.clock, VirtualClock) and execution.events:
            self.clock.advance_to(
                history.timestamp(execution.events[-1])
            )  # virtual time never runs backwards
        for record in execution.callbacks.values():
            self._callback_arns[record.callback_id] = arn
            if execution.operations[record.op_id].status == OperationStatus.STARTED:
                self._arm_callback(record)
        for op_id in execution.waiting:
            op = execution.operations[op_id]
            if op.type == OperationType.WAIT and op.wait_details and op.wait_details.scheduled_end_timestamp:
                self._timers.arm(("wait", arn, op_id), op.wait_details.scheduled_end_timestamp)
            elif op.type == OperationType.STEP and op.status == OperationStatus.PENDING:
                assert op.step_details is not None and op.step_details.next_attempt_timestamp is not None
                self._timers.arm(("retry", arn, op_id), op.step_details.next_attempt_timestamp)
            elif op.type == OperationType.CHAINED_INVOKE and execution.invokes[op_id].child_arn is None:
                self._enqueue(("call", arn, op_id))
        if execution.timeout_seconds:
            self._timers.arm(
                ("timeout", arn, ""), execution.started_at + timedelta(seconds=execution.timeout_seconds)
            )
        # An invocation that was in flight when the previous process died never completed: invoke
        # again (it replays what was acknowledged), or the execution would stay RUNNING forever.
        if execution.invoking:
            execution.invoking = False
            execution.ready = True
        if execution.ready:
            self._enqueue(("invoke", arn, ""))

    # -- helpers ----------------------------------------------------------------------------------

    def _enqueue(self, item: WorkItem) -> None:
        kind, arn, ref = item
        execution = self.executions[arn]
        function_name = execution.function_name if kind == "invoke" else execution.invokes[ref].function_name
        if function_name in self.functions:
            self._work[item] = None
        else:
            self._parked.setdefault(function_name, []).append(item)

    def _mark_ready(self, execution: LocalExecution) -> None:
        execution.ready = True
        self._touch(execution)
        if execution.running and execution.arn not in self._inflight:
            self._enqueue(("invoke", execution.arn, ""))

    def _touch(self, execution: LocalExecution) -> None:
        self._changes.executions[execution.arn] = execution

    def _put(self, execution: LocalExecution, op: Operation) -> None:
        key = (execution.arn, op.id)
        staged = self._changes.operations.get(key)
        # A new operation's position in creation order; -1 (kept by the store) for a known one.
        seq = len(execution.op_order) if op.id not in execution.operations else staged[0] if staged else -1
        execution.index(op)
        self._changes.operations[key] = (seq, op)
        self._touch(execution)

    def _put_callback(self, execution: LocalExecution, record: CallbackRecord) -> None:
        execution.callbacks[record.callback_id] = record
        self._callback_arns[record.callback_id] = execution.arn
        self._changes.callbacks[record.callback_id] = record
        self._touch(execution)

    def _append(self, execution: LocalExecution, build: Callable[[int], EventRecord | None]) -> None:
        event = build(len(execution.events) + 1)
        if event is not None:
            execution.events.append(event)
            if self.on_event is not None:
                self.on_event(execution.arn, history.to_event(event))
            self._changes.events.append((execution.arn, event))
            self._touch(execution)

    def _commit(self) -> None:
        """Hand this step's changes to the store. If the store refuses them, the executions they touched are
        reloaded from the store, so memory never runs ahead of what is stored."""
        changes, self._changes = self._changes, ChangeSet()
        if not changes:
            return
        self._cond.notify_all()  # a worker or a `wait_for` may be waiting for exactly this change
        try:
            self.store.commit(changes)
        except Exception:
            for arn in changes.executions:
                self.executions.pop(arn, None)
                self._work.pop(("invoke", arn, ""), None)
                if self.store.load(arn) is not None:
                    self._adopt(self.get(arn))
            raise

    @staticmethod
    def _new_token(execution: LocalExecution) -> str:
        execution.token_serial += 1
        return f"{execution.token_serial}.{secrets.token_urlsafe(12)}"


def _attempt(op: Operation) -> int:
    return (op.step_details.attempt or 0) if op.step_details else 0


def _wait_duration(op: Operation) -> int | None:
    if op.start_timestamp and op.wait_details and op.wait_details.scheduled_end_timestamp:
        return round((op.wait_details.scheduled_end_timestamp - op.start_timestamp).total_seconds())
    return None


def _without_data(event: Event) -> Event:
    """The event with input/result payloads and error payloads left out, marked truncated."""
    details = event.details
    if details is None:
        return event
    changes: dict[str, Any] = {}
    for name in ("input", "result", "error"):
        value = getattr(details, name, None)
        if value is not None and getattr(value, "payload", None) is not None:
            changes[name] = value.model_copy(update={"payload": None, "truncated": True})
    if not changes:
        return event
    field = next(f for f in type(event).model_fields if getattr(event, f) is details)
    return event.model_copy(update={field: details.model_copy(update=changes)})
