"""CALLBACK: ask the service for a callback id, then wait for an external system to answer it.

`callback_plan` emits START with CallbackOptions and flushes it at once: the id the caller needs to hand
out only exists in the service's answer (CallbackDetails.CallbackId). It never raises for a callback
that already failed; like the official SDK it defers every outcome to `result_plan`, so the code between
creating a callback and asking for its result runs the same way on the first run and on every replay.

`result_plan` reads the operation as the service last reported it: SUCCEEDED returns the result,
FAILED / TIMED_OUT (or CANCELLED / STOPPED) raise typed errors, STARTED suspends the invocation; the
service re-invokes the function once the callback is answered.

The result is the raw string the sender passed to SendDurableExecutionCallbackSuccess. Without a serdes
it is returned as that string, as the official SDK does: the sender is outside the execution and need
not send JSON, and a value that cannot be decoded would otherwise fail the execution for good. Pass a
serdes (e.g. `JsonSerDes()`) to decode it.

`wait_for_callback_plan` is the official SDK's composite: a CONTEXT with SubType "WaitForCallback"
holding the CALLBACK "<name> create callback id" and a retried STEP "<name> submitter" that hands the
id to the outside world, then the callback's result.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from eventflow.config import ChildConfig, StepConfig
from eventflow.core.effects import Flush, Plan
from eventflow.core.failures import operation_error, type_name
from eventflow.core.names import replay_name, resolve_name
from eventflow.core.operation_table import detail
from eventflow.core.operations.child import child_plan
from eventflow.core.operations.step import StepContext, step_plan
from eventflow.core.scope import Scope
from eventflow.core.state import ExecutionState
from eventflow.core.updates import updater
from eventflow.errors import (
    CallbackError,
    CallbackSubmitterError,
    CallbackTimeoutError,
    CheckpointError,
    ChildContextError,
    SuspendExecution,
)
from eventflow.events.enums import OperationAction, OperationStatus, OperationSubType, OperationType
from eventflow.ids import child_id
from eventflow.retry import RetryStrategy
from eventflow.serdes import SerDes, deserialize

T = TypeVar("T")


class CallbackHandle:
    """What the core knows about one created callback: enough to read its outcome later."""

    __slots__ = ("callback_id", "name", "operation_id", "serdes", "state")

    def __init__(
        self,
        state: ExecutionState,
        operation_id: str,
        name: str | None,
        *,
        callback_id: str,
        serdes: SerDes | None,
    ) -> None:
        self.state = state
        self.operation_id = operation_id
        self.name = name
        self.callback_id = callback_id
        self.serdes = serdes

    def result_plan(self) -> Plan[Any]:
        """The callback's result, its typed error, or `SuspendExecution` while it is unanswered."""
        state, op_id = self.state, self.operation_id
        entry = state.operations.entries.get(op_id)
        status = state.status(op_id) if entry is not None else OperationStatus.STARTED
        if status == OperationStatus.SUCCEEDED:
            raw = detail(entry, "callback_details", "result")  # type: ignore[arg-type]
            if raw is None or self.serdes is None:
                return raw
            return deserialize(self.serdes, raw, op_id, state.arn)
        if status in (OperationStatus.STARTED, OperationStatus.PENDING, OperationStatus.READY):
            raise SuspendExecution(f"callback {self.name or op_id} waits for its answer")
        timed_out = status == OperationStatus.TIMED_OUT
        error_cls = CallbackTimeoutError if timed_out else CallbackError
        details = state.operations[op_id].callback_details
        error = details.error if details else None
        if error is None:  # the service recorded no error: say what happened, in our own words
            message = "the callback timed out" if timed_out else f"the callback ended {status}"
            raise error_cls(
                message, error_type=type_name(error_cls), operation_id=self.operation_id, name=self.name
            )
        raise operation_error(error_cls, error, operation_id=self.operation_id, name=self.name)
        yield  # a generator, so that both front-ends drive it like every other plan


class _CallbackView(Generic[T]):
    """What both flavours of a created callback share: its ids, and a way to run its result plan."""

    __slots__ = ("_handle", "_run")

    def __init__(self, handle: CallbackHandle, run: Callable[[Plan[Any]], Any]) -> None:
        self._handle = handle
        self._run = run

    @property
    def callback_id(self) -> str:
        return self._handle.callback_id

    @property
    def operation_id(self) -> str:
        return self._handle.operation_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}(callback_id={self.callback_id!r}, name={self._handle.name!r})"


class Callback(_CallbackView[T]):
    """A created callback (sync API): hand out ``callback_id``, then call ``result()``.

    ``result()`` returns the answer, raises `CallbackError` / `CallbackTimeoutError`, or suspends the
    invocation until the callback is answered.
    """

    __slots__ = ()

    def result(self) -> T:
        """The answer; raises `CallbackError` / `CallbackTimeoutError`, or suspends until it comes."""
        return self._run(self._handle.result_plan())  # type: ignore[no-any-return]


class AsyncCallback(_CallbackView[T]):
    """A created callback (async API): hand out ``callback_id``, then ``await cb.result()``."""

    __slots__ = ()

    def result(self) -> Awaitable[T]:
        """Await the answer; raises `CallbackError` / `CallbackTimeoutError`, or suspends until it comes."""
        return self._run(self._handle.result_plan())  # type: ignore[no-any-return]


def callback_plan(
    state: ExecutionState,
    scope: Scope,
    name: str | None,
    *,
    timeout_seconds: int,
    heartbeat_timeout_seconds: int,
    serdes: SerDes | None,
) -> Plan[CallbackHandle]:
    """Create the callback (START, acknowledged) or find it recorded; never raises for its outcome."""
    op_id = scope.next_id()
    entry = state.recorded_entry(
        op_id, OperationType.CALLBACK, OperationSubType.CALLBACK, name, scope.parent_id
    )
    if entry is None:
        update = updater(op_id, scope.parent_id, name, OperationType.CALLBACK, OperationSubType.CALLBACK)
        # Both options always, 0 meaning "none", as the official SDK writes them. Built unvalidated: the
        # front-ends turned both into whole seconds already.
        from eventflow.events.wire import CallbackOptions

        options = CallbackOptions.unchecked(
            timeout_seconds=timeout_seconds, heartbeat_timeout_seconds=heartbeat_timeout_seconds
        )
        state.emit(update(OperationAction.START, callback_options=options))
        yield Flush(state)
        entry = state.operations.entries.get(op_id)
    callback_id = detail(entry, "callback_details", "callback_id") if entry is not None else None
    if not callback_id:
        # The callback exists; only the answer that names it was lost or garbled. Retryable: the
        # invocation is retried and reads the id from the recorded operation.
        raise CheckpointError(f"the service returned no CallbackId for callback {name or op_id}")
    return CallbackHandle(state, op_id, name, callback_id=callback_id, serdes=serdes)


Submitter = Callable[[str, StepContext], Any]


def wait_for_callback_plan(
    state: ExecutionState,
    scope: Scope,
    submitter: Submitter,
    name: str | None,
    *,
    timeout_seconds: int,
    heartbeat_timeout_seconds: int,
    retry: RetryStrategy | None,
    serdes: SerDes | None,
) -> Plan[Any]:
    """The WaitForCallback context: create the callback, run the submitter step, return the result.

    Failures come out as callback errors, the same way on the first run and on replay: the callback's
    own `CallbackError` / `CallbackTimeoutError`, or `CallbackSubmitterError` when the submitter step
    failed. Which one is read from the recorded (or just emitted) status of the two children, because
    the CONTEXT's recorded error only keeps the inner error's fields.
    """
    name, carried = resolve_name(name, submitter)
    op_id = scope.next_id()
    recorded = state.operations.get(op_id)
    # the recorded Name wins where only names differ (core/names.py); the children's names follow suit
    name = replay_name(state, op_id, name, carried, submitter)
    prefix = f"{name} " if name else ""
    step_config = StepConfig(retry_strategy=retry)
    if recorded is not None and recorded.status in _ENDED_BY_SERVICE:
        # A context only ends SUCCEEDED or FAILED by our own updates; should a service ever record it
        # otherwise, it is over all the same: raise, never re-enter (that would run the submitter).
        state.recorded(
            op_id, OperationType.CONTEXT, OperationSubType.WAIT_FOR_CALLBACK, name, scope.parent_id
        )
        details = recorded.context_details
        ended_cls = CallbackTimeoutError if recorded.status == OperationStatus.TIMED_OUT else CallbackError
        raise operation_error(ended_cls, details.error if details else None, operation_id=op_id, name=name)

    def body(child_scope: Scope) -> Plan[Any]:
        handle = yield from callback_plan(
            state, child_scope, f"{prefix}create callback id", timeout_seconds=timeout_seconds,
            heartbeat_timeout_seconds=heartbeat_timeout_seconds, serdes=serdes,
        )
        callback_id = handle.callback_id

        def submit(step_context: StepContext) -> Any:
            # What the submitter returns means nothing here: checkpoint ``null``, not a value that may
            # not even serialize. An async submitter's awaitable is still handed to the driver.
            outcome = submitter(callback_id, step_context)
            return _awaited_to_none(outcome) if inspect.isawaitable(outcome) else None

        yield from step_plan(state, child_scope, submit, f"{prefix}submitter", step_config)
        return (yield from handle.result_plan())

    # The CONTEXT's result is written with the callback's serdes when one is given: it is the codec that
    # knows the decoded type. The body is a core plan, run in the child's scope by child_plan itself.
    config = ChildConfig(serdes=serdes, sub_type=OperationSubType.WAIT_FOR_CALLBACK)
    try:
        return (
            yield from child_plan(state, scope, lambda ctx: None, name, config, op_id=op_id, body=body)
        )
    except ChildContextError as exc:
        if state.status(child_id(op_id, 2)) == OperationStatus.FAILED:
            cls: type[CallbackError] = CallbackSubmitterError
        elif state.status(child_id(op_id, 1)) == OperationStatus.TIMED_OUT:
            cls = CallbackTimeoutError
        elif state.status(child_id(op_id, 1)) in _FAILED:
            cls = CallbackError
        else:
            raise  # not a callback outcome (a result the serdes could not read, say)
        raise cls(
            exc.message, error_type=exc.error_type, error_data=exc.error_data, stack_trace=exc.stack_trace,
            operation_id=op_id, name=name,
        ) from exc


async def _awaited_to_none(awaitable: Awaitable[Any]) -> None:
    await awaitable


_ENDED_BY_SERVICE = frozenset({OperationStatus.TIMED_OUT, OperationStatus.CANCELLED, OperationStatus.STOPPED})
_FAILED = frozenset({OperationStatus.FAILED, OperationStatus.CANCELLED, OperationStatus.STOPPED})


__all__ = [
    "AsyncCallback",
    "Callback",
    "CallbackHandle",
    "Submitter",
    "callback_plan",
    "wait_for_callback_plan",
]

