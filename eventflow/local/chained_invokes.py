"""Chained invokes: a CHAINED_INVOKE operation runs another function, and ends with that run's outcome.

A durable target runs as its own child execution (its end completes the parent's operation, see
`ChainedInvokes.child_ended`); a plain target is called once, from the run loop, with the decoded payload.
A target that is not registered fails the operation at once. Results over the invoke payload limit fail
the operation instead of succeeding it. A plain target that runs past its invocation timeout fails the
operation with Lambda's ``Sandbox.Timedout`` error (`functions.call_handler`).
"""

from __future__ import annotations

import json
from datetime import datetime

from eventflow.core.failures import error_object
from eventflow.events.emitted import AnyUpdate
from eventflow.events.enums import EventType, ExecutionStatus
from eventflow.events.limits import MAX_INVOKE_PAYLOAD_BYTES
from eventflow.events.wire import ChainedInvokeDetails, ErrorObject, Operation
from eventflow.local import history
from eventflow.local.errors import ExecutionNotFoundError
from eventflow.local.execution_start import ExecutionStarter
from eventflow.local.functions import InvocationTimedOut, LambdaContext, call_handler
from eventflow.local.model import InvokeRecord, LocalExecution, function_arn
from eventflow.local.runtime import FunctionError, RuntimeExited
from eventflow.local.state import ServiceState
from eventflow.local.work import plain_call
from eventflow.machine.names import ServiceTrigger
from eventflow.machine.rules import takes

CHAINED_INVOKE_TIMEOUT = "ChainedInvoke.Timeout"
"""The error type of a chained invoke whose child execution timed out."""

_INVOKE_ENDINGS: dict[ExecutionStatus, tuple[ServiceTrigger, EventType]] = {
    ExecutionStatus.SUCCEEDED: (ServiceTrigger.INVOKE_SUCCEEDED, EventType.CHAINED_INVOKE_SUCCEEDED),
    ExecutionStatus.FAILED: (ServiceTrigger.INVOKE_FAILED, EventType.CHAINED_INVOKE_FAILED),
    ExecutionStatus.TIMED_OUT: (ServiceTrigger.INVOKE_TIMED_OUT, EventType.CHAINED_INVOKE_TIMED_OUT),
    ExecutionStatus.STOPPED: (ServiceTrigger.INVOKE_STOPPED, EventType.CHAINED_INVOKE_STOPPED),
}
"""The service trigger and history event that end a chained invoke, by the target's outcome."""


def _completable(op: Operation) -> bool:
    """Whether the chained invoke can still take its target's outcome (every ending leaves the same status,
    so asking the machine about one of them asks about all)."""
    return all(takes(op.type, op.status, trigger) for trigger, _ in _INVOKE_ENDINGS.values())


class ChainedInvokes:
    """Starts chained invokes, calls plain targets, and ends the operations with the targets' outcomes."""

    def __init__(self, state: ServiceState, starter: ExecutionStarter) -> None:
        self._state = state
        self._starter = starter

    def start(self, execution: LocalExecution, update: AnyUpdate, op: Operation, now: datetime) -> None:
        """Resolve the target and start it: a durable one as its own execution, a plain one as a queued call.
        A target that is not registered fails the operation in the checkpoint's own answer."""
        state = self._state
        options = update.chained_invoke_options
        assert options is not None
        target = state.registry.get(options.function_name)
        if target is None:
            state.append(execution, lambda i: history.for_update(i, update, op, now, 0, resolved=False))
            error = ErrorObject(
                error_type="ResourceNotFoundException",
                error_message=f"Function not found: {options.function_name} (not registered)",
            )
            self.end(execution, op, ExecutionStatus.FAILED, None, error, notify=False)
            return
        child_arn: str | None = None
        if target.durable:
            child = self._starter.create(
                target.name, None, update.payload, target.timeout_seconds, parent=(execution.arn, op.id),
                trace_header=options.x_amzn_trace_id,
            )
            child_arn = child.arn
        record = InvokeRecord(op.id, target.name, update.payload, child_arn, options.tenant_id)
        execution.invokes[op.id] = record
        state.changes.invokes[execution.arn, op.id] = record
        if not target.durable:
            state.enqueue(plain_call(execution.arn, op.id))
        state.append(execution, lambda i: history.for_update(i, update, op, now, 0, child_arn=child_arn))

    def call_plain(self, arn: str, op_id: str) -> None:
        """Run a plain chained-invoke target once with the decoded payload, and complete the operation."""
        state = self._state
        with state.cond:
            state.work.discard(plain_call(arn, op_id))
            execution = state.get(arn)
            op = execution.operations[op_id]
            if not execution.running or not _completable(op):
                return
            record = execution.invokes[op_id]
            spec = state.function(record.function_name)
            context = LambdaContext.starting_at(
                state.clock.now(), spec.name, function_arn(spec.name), state.clock, spec.time_limit
            )
        result: str | None = None
        error: ErrorObject | None = None
        try:
            payload = json.loads(record.payload) if record.payload else None
            result = json.dumps(call_handler(spec, lambda: spec.handler(payload, context)))
        except InvocationTimedOut as exc:  # Lambda answers the Invoke with the timeout as a function error
            error = exc.error()
        except FunctionError as exc:  # the target raised in its own runtime
            error = exc.error
        except RuntimeExited as exc:  # the target's sandbox died
            error = exc.error()
        except Exception as exc:
            error = error_object(exc)
        with state.cond:
            op = execution.operations[op_id]
            if execution.running and _completable(op):
                outcome = ExecutionStatus.SUCCEEDED if error is None else ExecutionStatus.FAILED
                self.end(execution, op, outcome, result, error)
            state.commit()
            state.cond.notify_all()

    def child_ended(self, child: LocalExecution) -> None:
        """End the parent's chained invoke with the outcome of the child execution that just ended."""
        if child.parent_arn is None or child.parent_op_id is None:
            return
        try:
            parent = self._state.get(child.parent_arn)
        except ExecutionNotFoundError:  # the parent ended and was deleted (DeleteDurableExecution, retention)
            return
        parent_op = parent.operations[child.parent_op_id]
        if not parent.running or not _completable(parent_op):
            return
        error = child.error
        if child.status is ExecutionStatus.TIMED_OUT:
            error = ErrorObject(
                error_type=CHAINED_INVOKE_TIMEOUT,
                error_message=f"CHAINED_INVOKE timed out after {child.timeout_seconds} seconds.",
            )
        self.end(parent, parent_op, child.status, child.result, error)

    def end(
        self,
        execution: LocalExecution,
        op: Operation,
        outcome: ExecutionStatus,
        result: str | None,
        error: ErrorObject | None,
        *,
        notify: bool = True,
    ) -> None:
        """Complete the chained invoke ``op`` with its target's outcome; ``notify`` wakes its execution."""
        state = self._state
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
        op = state.transition(execution, op, trigger, chained_invoke_details=details)
        now = state.clock.now()
        state.append(
            execution,
            lambda i: history.ended(
                i, op, now, event_type, result if trigger is ServiceTrigger.INVOKE_SUCCEEDED else error
            ),
        )
        if notify:
            state.mark_ready(execution)
