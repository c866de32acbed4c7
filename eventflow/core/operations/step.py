"""STEP: run user code once per attempt, checkpoint its result, retry through the service's timers.

Replay returns the recorded result or re-raises the recorded failure without running the code. A fresh
attempt emits START and checkpoints it before the code runs (so the attempt is on record even if the
sandbox dies; `StepConfig.batch_start` sends it with the completion instead), runs the code, then
emits SUCCEED, RETRY (error + delay; the invocation then suspends until the service marks the step
READY) or FAIL. Completions are acknowledged before the step returns: a result the code
has seen is never lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eventflow.config import StepConfig, StepSemantics
from eventflow.core.effects import Call, Flush, Plan
from eventflow.core.failures import error_object, operation_error
from eventflow.core.names import resolve_name
from eventflow.core.scope import Scope
from eventflow.core.state import ExecutionState
from eventflow.core.updates import updater
from eventflow.errors import SerDesError, StepError, StepInterruptedError, SuspendExecution
from eventflow.events.enums import OperationAction, OperationStatus, OperationSubType, OperationType
from eventflow.events.wire import OperationUpdate, StepOptions
from eventflow.retry import RetryPresets, RetryStrategy
from eventflow.serdes import SerDesContext, deserialize, round_trip

if TYPE_CHECKING:
    from eventflow.log import DurableLogger

_DEFAULT_CONFIG = StepConfig()
_default_retry: RetryStrategy = RetryPresets.default()


@dataclass(frozen=True, slots=True)
class StepContext:
    """What a step function receives: which attempt this is (1-based) and which operation it runs as."""

    attempt: int
    operation_id: str
    name: str | None
    parent_id: str | None = None
    state: ExecutionState | None = field(default=None, repr=False, compare=False)

    @property
    def logger(self) -> DurableLogger:
        """A logger whose records carry this step's execution ARN, operation id and name, and attempt.

        Built on first use, so a step that never logs pays nothing for it.
        """
        from eventflow.log import step_logger

        return step_logger(self)


def step_plan(
    state: ExecutionState,
    scope: Scope,
    fn: Callable[[StepContext], Any],
    name: str | None,
    config: StepConfig | None,
    sub_type: str = OperationSubType.STEP,
) -> Plan[Any]:
    config = config or _DEFAULT_CONFIG
    name, inferred = resolve_name(name, fn)
    op_id = scope.next_id()
    parent_id = scope.parent_id
    op = state.recorded(op_id, OperationType.STEP, sub_type, name, parent_id, name_inferred=inferred)
    serdes = config.serdes or state.serdes
    sd_context = SerDesContext(op_id, state.arn)

    attempt = 1
    needs_start = True
    if op is not None:
        status = op.status
        details = op.step_details
        if status == OperationStatus.SUCCEEDED:
            return deserialize(serdes, details.result if details else None, sd_context)
        if status == OperationStatus.FAILED:
            raise operation_error(
                StepError, details.error if details else None, operation_id=op_id, name=name
            )
        if status == OperationStatus.PENDING:
            raise SuspendExecution(f"step {name or op_id} waits for its retry delay")

    # Built only past the replayed outcomes above, which emit nothing.
    update = updater(op_id, parent_id, name, OperationType.STEP, sub_type)
    if op is not None:
        # StepDetails.Attempt counts the attempts already finished; this one is the next.
        attempt = (details.attempt or 0) + 1 if details else 1
        if status == OperationStatus.STARTED:
            if config.semantics is StepSemantics.AT_MOST_ONCE_PER_RETRY:
                interrupted = StepInterruptedError(
                    f"step {name or op_id} was interrupted in attempt {attempt}"
                )
                yield from _after_failure(state, update, interrupted, attempt, config, name, op_id)
            needs_start = False  # at least once: run the interrupted attempt again; it is STARTED already

    if needs_start:
        state.emit(update(OperationAction.START))
        if not config.batch_start or config.semantics is StepSemantics.AT_MOST_ONCE_PER_RETRY:
            yield Flush(state)

    hooks = state.hooks
    if hooks is not None:
        hooks.attempt_started(op_id, name, sub_type, parent_id, attempt)
    try:
        value = yield Call(fn, StepContext(attempt, op_id, name, parent_id, state))
        if hooks is not None:
            hooks.attempt_ended(op_id, name, sub_type, parent_id, attempt, exc=None)
        payload, value = round_trip(serdes, value, sd_context)
    except SerDesError as exc:
        state.emit(update(OperationAction.FAIL, error=error_object(exc)))
        yield Flush(state)
        raise
    except Exception as exc:
        if hooks is not None:
            hooks.attempt_ended(op_id, name, sub_type, parent_id, attempt, exc=exc)
        yield from _after_failure(state, update, exc, attempt, config, name, op_id)
    state.emit(update(OperationAction.SUCCEED, payload=payload))
    yield Flush(state)
    return value


def _after_failure(
    state: ExecutionState,
    update: Callable[..., OperationUpdate],
    exc: BaseException,
    attempt: int,
    config: StepConfig,
    name: str | None,
    op_id: str,
) -> Plan[None]:
    """Checkpoint a failed attempt: RETRY and suspend, or FAIL and raise `StepError`. Never returns."""
    strategy = config.retry_strategy or _default_retry
    decision = strategy(exc, attempt)
    error = error_object(exc)
    if decision.should_retry:
        state.emit(
            update(
                OperationAction.RETRY,
                error=error,
                step_options=StepOptions(next_attempt_delay_seconds=decision.delay_seconds),
            )
        )
        yield Flush(state)
        raise SuspendExecution(f"step {name or op_id} retries in {decision.delay_seconds} s")
    state.emit(update(OperationAction.FAIL, error=error))
    yield Flush(state)
    raise operation_error(StepError, error, operation_id=op_id, name=name) from exc


__all__ = ["StepContext", "step_plan"]
