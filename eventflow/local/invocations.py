"""One invocation of a durable handler, as Lambda performs it, and what its output does to the execution.

An invocation hands the handler a fresh checkpoint token, the execution's operations (the first page of
them) and the ids of the operations the service changed since the previous invocation; the handler runs
outside the lock, so the outside world can answer callbacks meanwhile. Its output ends the execution
(SUCCEEDED or FAILED) or leaves it waiting (PENDING). A handler that raises, or a sandbox that dies, is
re-invoked like Lambda re-invokes it, a bounded number of times, and then the execution FAILS. So is a
handler that runs past its function's invocation timeout (`functions.call_handler`): its InvocationCompleted
carries a ``Sandbox.Timedout`` error, and the token it was handed is retired at once, so the abandoned
handler's late checkpoints are refused as stale. A
`KeyboardInterrupt` stops the service's own process, not the sandbox: it propagates, and the execution is left
as a restart would find it, queued to be invoked again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from eventflow.backends.base import Backend, use_backend
from eventflow.core.failures import error_object
from eventflow.events.enums import ExecutionStatus, InvocationStatus
from eventflow.events.records import as_operation
from eventflow.events.wire import ErrorObject
from eventflow.local import history
from eventflow.local.execution_end import ExecutionEnder
from eventflow.local.functions import InvocationTimedOut, LambdaContext, call_handler
from eventflow.local.model import LocalExecution
from eventflow.local.pausing import settle_pause
from eventflow.local.runtime import FunctionError, RuntimeExited
from eventflow.local.state import ServiceState
from eventflow.local.tracing import invocation_trace_header


class Invocations:
    """Invokes durable handlers and applies their outputs.

    ``backend`` is what the handler checkpoints into (the `LocalService`); ``max_retries()`` is how often
    a raising handler is re-invoked, read at each failure."""

    def __init__(
        self, state: ServiceState, ender: ExecutionEnder, backend: Backend, max_retries: Callable[[], int]
    ) -> None:
        self._state = state
        self._ender = ender
        self._backend = backend
        self._max_retries = max_retries

    def invocation_input(
        self, execution: LocalExecution, updated_operation_ids: Sequence[str] = ()
    ) -> dict[str, Any]:
        """The plain JSON dict Lambda hands a durable handler; ``updated_operation_ids`` lists the
        operations the service changed since the previous invocation (timers, answers, invokes)."""
        page = self._state.page(execution, 0)
        state: dict[str, Any] = {"Operations": [as_operation(op).to_wire() for op in page.operations]}
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
        state = self._state
        with state.cond:
            execution = state.get(arn)
            state.unqueue_invocation(arn)
            if not execution.runnable or arn in state.inflight:  # ended, paused, or running already
                return None
            spec = state.function(execution.function_name)
            execution.ready = False
            execution.invoking = True
            execution.invocations += 1
            execution.token = state.new_token(execution)
            start = state.clock.now()
            context = LambdaContext.starting_at(
                start, execution.function_name, execution.function_arn, state.clock, spec.time_limit
            )
            context.x_amzn_trace_id = invocation_trace_header(execution.trace_header, start)
            request_id = context.aws_request_id
            execution.invocation_request_id = request_id  # a restart finds the invocation by it
            execution.invocation_started_at = start
            updated = list(execution.changed)
            execution.changed.clear()
            event = self.invocation_input(execution, updated)
            state.inflight.add(arn)
            state.touch(execution)
            state.commit()
        error: ErrorObject | None = None
        output: Any = None
        timed_out = False
        try:
            with use_backend(self._backend):
                output = call_handler(spec, lambda: spec.handler(event, context))
        except InvocationTimedOut as exc:  # Lambda ended the sandbox: retried like a crash
            error = exc.error()
            timed_out = True
        except FunctionError as exc:  # the handler raised in its own runtime
            error = exc.error
        except RuntimeExited as exc:  # its sandbox died (exited, crashed, was killed)
            error = exc.error()
        except Exception as exc:  # an unhandled error: Lambda retries the invocation
            error = error_object(exc)
        except KeyboardInterrupt:  # the service's own process is interrupted, not the sandbox: propagate
            # A bounded handler runs on its own thread and may still be running: retire its token.
            self._interrupted(execution, retire_token=spec.invocation_timeout_seconds is not None)
            raise
        except BaseException as exc:  # the sandbox died mid-invocation (sys.exit, a crash)
            error = RuntimeExited(request_id, f"{exc!r}").error()
        with state.cond:
            state.inflight.discard(arn)
            execution.invoking = False
            state.touch(execution)  # stored not invoking; an execution that ended meanwhile leaves memory
            if timed_out:  # the abandoned handler still holds the token
                self._retire_token(execution)
            if execution.running:
                end = state.clock.now()
                state.append(
                    execution, lambda i: history.invocation_completed(i, start, end, request_id, error)
                )
                if error is not None:
                    self._handler_raised(execution, error)
                else:
                    execution.failed_invocations = 0
                    self._take_output(execution, output)
                if execution.runnable and execution.ready:
                    state.queue_invocation(arn)
            settle_pause(state, execution)
            state.commit()
            state.cond.notify_all()
        return output if error is None and isinstance(output, dict) else None

    def lost_in_restart(self, execution: LocalExecution) -> None:
        """The execution was loaded from the store with an invocation in flight: the process that ran it
        died (the service itself, taken down by an in-process handler, or killed). Lambda records such an
        invocation as its sandbox dying, and so does this: an InvocationCompleted with
        ``Runtime.ExitError``, counted towards the retries like any crash. Without the count, a handler
        that kills its process would kill every restart of the service in turn. The caller commits."""
        state = self._state
        execution.invoking = False
        if not execution.running:
            return
        request_id = execution.invocation_request_id or "unknown"
        start = execution.invocation_started_at or state.clock.now()
        end = max(start, state.clock.now())
        error = RuntimeExited(request_id, "the process running the invocation ended").error()
        state.append(execution, lambda i: history.invocation_completed(i, start, end, request_id, error))
        self._handler_raised(execution, error)
        state.touch(execution)

    def _interrupted(self, execution: LocalExecution, *, retire_token: bool = False) -> None:
        """The invocation was cut short by an interrupt that must propagate: leave the execution as a
        restart would find it (`recovery.adopt`): not in flight, and queued to be invoked again (the handler
        replays what was acknowledged), so a later run of the loop picks it up. ``retire_token`` refuses
        the interrupted invocation's checkpoints from now on (its handler may go on, on a thread)."""
        state = self._state
        with state.cond:
            state.inflight.discard(execution.arn)
            execution.invoking = False
            if retire_token:
                self._retire_token(execution)
            if execution.running:
                execution.ready = True
                state.touch(execution)
                if execution.runnable:
                    state.queue_invocation(execution.arn)
            settle_pause(state, execution)
            # A store that refuses this step must not replace the interrupt: the execution is then reloaded
            # still marked in flight, which `recovery.adopt` resolves the same way.
            with contextlib.suppress(Exception):
                state.commit()
            state.cond.notify_all()

    def _retire_token(self, execution: LocalExecution) -> None:
        """Stop accepting the token the invocation was handed: its checkpoints are refused as stale."""
        execution.token = self._state.new_token(execution)
        self._state.touch(execution)

    def _take_output(self, execution: LocalExecution, output: Any) -> None:
        """End the execution as the handler's output says, or leave it waiting (PENDING)."""
        status = output.get("Status") if isinstance(output, Mapping) else None
        if status == InvocationStatus.SUCCEEDED:
            # An oversized result arrives checkpointed on the EXECUTION operation, with an empty Result.
            result = output.get("Result") or execution.checkpointed_result
            self._ender.end(execution, ExecutionStatus.SUCCEEDED, result=result)
        elif status == InvocationStatus.FAILED:
            error = output.get("Error")
            self._ender.end(
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
                self._ender.end(execution, ExecutionStatus.FAILED, error=error)
        else:
            error = ErrorObject(
                error_type="InvalidOutput", error_message=f"invalid invocation output: {output!r:.200}"
            )
            self._ender.end(execution, ExecutionStatus.FAILED, error=error)

    def _handler_raised(self, execution: LocalExecution, error: ErrorObject) -> None:
        """Lambda retries an invocation whose handler raised, a few times, then gives up."""
        execution.failed_invocations += 1
        if execution.failed_invocations > self._max_retries():
            self._ender.end(execution, ExecutionStatus.FAILED, error=error)
        else:
            execution.ready = True
