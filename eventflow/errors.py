"""Every error eventflow raises, in one place, so users can catch them by type.

`DurableError` is the root. Errors that end an execution for good (the handler returns FAILED instead of
raising so that Lambda does not retry) derive from `TerminalError`.
"""

from __future__ import annotations

from typing import Any


class DurableError(Exception):
    """Root of every eventflow error."""


class TerminalError(DurableError):
    """An error no retry can fix: the execution fails with it instead of being retried by Lambda."""


class InvalidInputError(TerminalError, ValueError):
    """Input eventflow was given (an invocation payload, a history, an argument) is malformed."""


class IllegalTransitionError(DurableError):
    """An operation was asked to take a transition its state machine does not have."""

    def __init__(self, *, op_id: str, op_type: str, state: str, trigger: str) -> None:
        self.op_id = op_id
        self.op_type = op_type
        self.state = state
        self.trigger = trigger
        super().__init__(f"{op_type} operation {op_id!r} in state {state} cannot take {trigger!r}")


class NonDeterministicExecutionError(TerminalError):
    """Replay found a recorded operation that differs from what the code asks for now."""

    def __init__(
        self, *, op_id: str, recorded: dict[str, Any], requested: dict[str, Any], label: str | None = None
    ) -> None:
        self.op_id = op_id
        self.recorded = recorded
        self.requested = requested
        where = label or f"operation {op_id[:12]}"
        name = requested.get("name") or recorded.get("name")
        what = f"{where} ({name!r})" if name else where
        differs = [k for k in requested if _plain(recorded.get(k)) != _plain(requested.get(k))]
        changed = ", ".join(
            f"{k} {_plain(recorded.get(k))} -> {_plain(requested.get(k))}" for k in differs
        ) or "nothing that can be compared"
        super().__init__(
            f"non-deterministic execution at {what}: the history recorded {_show(recorded)}, the code now "
            f"asks for {_show(requested)} ({changed}). The handler must make the same durable calls in the "
            "same order on every replay: a changed handler, or a branch on the clock, randomness or outside "
            f"state taken outside a step, leads here (operation id {op_id})"
        )


def _plain(value: Any) -> Any:
    """An enum member as its value (``STEP``, not ``<OperationType.STEP: 'STEP'>``); others unchanged."""
    return getattr(value, "value", value)


def _show(fields: dict[str, Any]) -> str:
    """``type=STEP sub_type=Step name='charge'``: the fields as plain text, ids shortened."""
    parts = []
    for key, raw in fields.items():
        value = _plain(raw)
        if isinstance(value, str) and len(value) == 64:
            value = value[:12]
        parts.append(f"{key}={value!r}" if isinstance(value, str) and key == "name" else f"{key}={value}")
    return " ".join(parts)


class DurableCallInStepError(TerminalError):
    """A durable operation (``ctx.step``, ``ctx.wait``, ...) was called while a step's function ran.

    A step's function is ordinary code, run once per attempt; operations it started would be recorded as
    its siblings and not be found where the next replay looks for them. Raised at once, naming the step,
    and the step fails with it (no retry can fix it). Group operations with ``ctx.child_context`` instead.
    """

    def __init__(self, step_name: str | None, step_id: str) -> None:
        self.step_name = step_name
        self.step_id = step_id
        which = f"step {step_name!r}" if step_name is not None else f"the unnamed step {step_id[:12]}"
        super().__init__(
            f"a durable operation was called inside {which}: a step's function runs as plain code once per "
            "attempt and cannot start durable operations; call it from the handler, or group operations "
            "with ctx.child_context(...)"
        )


class SerDesError(TerminalError):
    """A value could not be serialized or deserialized."""


class PayloadStoreError(SerDesError):
    """An offloaded value could not be written to, or read back from, its store (`eventflow.offload`):
    the store is unreachable, refuses, lost the value or holds another one. Never a silently missing
    value."""


class PayloadTooLargeError(TerminalError):
    """A payload is over the service's size limit."""


class CheckpointError(DurableError):
    """A checkpoint could not be written. Retryable unless `terminal` is set."""

    def __init__(self, message: str, *, terminal: bool = False, code: str | None = None) -> None:
        self.terminal = terminal
        self.code = code
        super().__init__(message)


class UnexpectedStatusError(CheckpointError):
    """The service reported a status the operation's state machine cannot reach from where it is.

    The invocation's view and the service's disagree; the invocation stops checkpointing (see
    `eventflow.core.scheduler`), and Lambda's retry starts over from the service's state."""

    def __init__(self, *, op_id: str, op_type: str, status: str, reported: str) -> None:
        self.op_id = op_id
        self.op_type = op_type
        self.status = status
        self.reported = reported
        super().__init__(
            f"the service reported {op_type} operation {op_id!r} as {reported}, which its state machine "
            f"cannot reach from {status}",
            code="UnexpectedStatus",
        )


class OperationError(DurableError):
    """A durable operation ended in failure. Raised the same way on the first run and on every replay.

    The recorded error's fields are kept as they were written: ``error_type`` is the original exception's
    qualified class name (builtins unqualified, as the official SDK writes it).
    """

    def __init__(
        self,
        message: str,
        *,
        error_type: str | None = None,
        error_data: str | None = None,
        stack_trace: list[str] | None = None,
        operation_id: str | None = None,
        name: str | None = None,
    ) -> None:
        self.message = message
        self.error_type = error_type
        self.error_data = error_data
        self.stack_trace = stack_trace
        self.operation_id = operation_id
        self.name = name
        super().__init__(message)


class StepError(OperationError):
    """A step failed and its retry strategy gave up."""


class StepInterruptedError(DurableError):
    """An at-most-once step was found STARTED on replay: its attempt was cut off and is not re-run."""


class ChildContextError(OperationError):
    """A child context's function raised."""


class SuspendExecution(BaseException):
    """Unwinds the handler when the execution must wait for the service (a timer, a retry delay, ...).

    It derives from BaseException so that a handler's ``except Exception`` cannot swallow it.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class CallbackError(OperationError):
    """A callback ended without a result: its sender reported failure (the operation is FAILED).

    The base of every callback failure, so ``except CallbackError`` catches timeouts and submitter
    failures too. The sender's own ErrorType, message and data are kept on the instance.
    """


class CallbackTimeoutError(CallbackError):
    """A callback's timeout or heartbeat timeout elapsed before it was answered (TIMED_OUT)."""


class CallbackSubmitterError(CallbackError):
    """The submitter step of `wait_for_callback` failed and its retry strategy gave up."""


class InvokeError(OperationError):
    """A chained invoke's target execution failed (FAILED); the base of every invoke failure."""


class InvokeTimeoutError(InvokeError):
    """A chained invoke's target execution timed out (TIMED_OUT)."""


class InvokeStoppedError(InvokeError):
    """A chained invoke's target execution was stopped (STOPPED)."""


class WaitForConditionError(OperationError):
    """A `wait_for_condition` failed: its check or its wait strategy raised."""


class WaitAttemptsExhaustedError(DurableError):
    """A wait strategy ran out of attempts before the condition was met.

    Raised by the strategies in `eventflow.waits`; `wait_for_condition` records it as the failure of
    its operation and raises `WaitForConditionError` (whose ``error_type`` names this class).
    """


class BatchCompletionError(OperationError):
    """`BatchResult.throw_if_error` on a batch recorded as failed by a completion decision (the official
    SDK's ``should_complete`` returning a FAILED outcome) although no single item failed."""


class CompensationError(OperationError):
    """`run_compensations` finished but at least one undo step failed for good.

    Every registered undo was still attempted. ``summary`` (a `CompensationSummary`) names the undos that
    ran and the ones that failed; it is rebuilt from the recorded error on replay.
    """

    summary: Any = None
