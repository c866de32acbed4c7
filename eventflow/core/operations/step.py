"""STEP: run user code once per attempt, checkpoint its result, retry through the service's timers.

Replay returns the recorded result or re-raises the recorded failure without running the code. A fresh
attempt emits START, runs the code, then emits SUCCEED, RETRY (error + delay; the invocation then
suspends until the service marks the step READY) or FAIL. At most once, START is acknowledged before the
code runs. At least once (the default), START travels with the completion in one call; if the code is
still running after the scheduler's linger, START goes out while it runs, so a long attempt is on record
and a sandbox that dies mid-step leaves StepStarted (`StepConfig.batch_start` never sends it alone).
Completions are acknowledged before the step returns: a result the code has seen is never lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from eventflow.config import StepConfig, StepSemantics
from eventflow.core.effects import Call, Flush, Plan
from eventflow.core.failures import error_object, operation_error
from eventflow.core.names import position_label, replay_name, require_callable, resolve_name
from eventflow.core.operation_table import detail
from eventflow.core.scope import Scope
from eventflow.core.state import ExecutionState
from eventflow.core.updates import updater
from eventflow.errors import (
    DurableCallInStepError,
    SerDesError,
    StepError,
    StepInterruptedError,
    SuspendExecution,
)
from eventflow.events.emitted import AnyUpdate
from eventflow.events.enums import OperationAction, OperationStatus, OperationSubType, OperationType
from eventflow.retry import RetryPresets, RetryStrategy
from eventflow.serdes import SerDes, deserialize, round_trip

if TYPE_CHECKING:
    from eventflow.core.observer import ContextLogger
    from eventflow.events.wire import StepOptions

_DEFAULT_CONFIG = StepConfig()
# Enum members as module constants: a class attribute look-up on an Enum costs ~75 ns, several per step.
_STEP = OperationType.STEP
_STEP_SUB_TYPE = str(OperationSubType.STEP)  # a plain str, as updates store it
_STARTED, _SUCCEEDED = OperationStatus.STARTED, OperationStatus.SUCCEEDED
_FAILED, _PENDING = OperationStatus.FAILED, OperationStatus.PENDING
_START, _SUCCEED, _FAIL = OperationAction.START, OperationAction.SUCCEED, OperationAction.FAIL
_AT_MOST_ONCE = StepSemantics.AT_MOST_ONCE_PER_RETRY
_default_retry: RetryStrategy = RetryPresets.default()


class StepContext(NamedTuple):
    """What a step function receives: which attempt this is (1-based) and which operation it runs as.

    Immutable. A named tuple rather than a frozen dataclass because one is built per attempt, and a
    tuple costs a third as much; ``state`` stays out of its repr.
    """

    attempt: int
    operation_id: str
    name: str | None
    parent_id: str | None = None
    state: ExecutionState | None = None

    @property
    def logger(self) -> ContextLogger:
        """A logger whose records carry this step's execution ARN, operation id and name, and attempt.

        Built on first use, so a step that never logs pays nothing for it.
        """
        from eventflow.core.observer import logging_of

        return logging_of(self.state).step_logger(self)

    def __repr__(self) -> str:
        return (
            f"StepContext(attempt={self.attempt!r}, operation_id={self.operation_id!r}, "
            f"name={self.name!r}, parent_id={self.parent_id!r})"
        )


class OpenStep:
    """A step that must run an attempt, as `open_step` resolved it against the record."""

    __slots__ = ("attempt", "config", "name", "needs_start", "op_id", "parent_id", "serdes", "status",
                 "sub_type")

    def __init__(
        self, op_id: str, parent_id: str | None, name: str | None, config: StepConfig, serdes: SerDes,
        sub_type: str, status: str | None = None, attempt: int = 1,
    ) -> None:
        self.op_id = op_id
        self.parent_id = parent_id
        self.name = name
        self.config = config
        self.serdes = serdes
        self.sub_type = sub_type
        self.status = status  # the recorded status (STARTED or READY); None for a step never seen before
        self.attempt = attempt
        # At least once: an interrupted attempt runs again, and it is STARTED already.
        self.needs_start = status != _STARTED


def open_step(
    state: ExecutionState,
    scope: Scope,
    fn: Callable[[StepContext], Any],
    name: str | None,
    config: StepConfig | None,
    sub_type: str = _STEP_SUB_TYPE,
) -> tuple[Any, OpenStep | None]:
    """Take the step's id and check it against the record, without a generator.

    ``(value, None)`` for a step that succeeded already (the front-ends return the value at once: the
    common case of a replay), ``(None, opened)`` for one whose attempt `run_step` must drive. Raises what
    a replay of a failed step raises (`StepError`), or suspends if the step waits for its retry delay.
    Emits nothing.
    """
    if not callable(fn):
        require_callable(fn, "ctx.step", "(step_context) -> value")
    config = config or _DEFAULT_CONFIG
    op_id = scope.next_id()
    if not name:  # an unnamed step records a Name only if its function carries one (core/names.py)
        name, carried = resolve_name(name, fn)
        name = replay_name(state, op_id, name, carried, fn)
    parent_id = scope.parent_id
    serdes = config.serdes or state.serdes
    entry = state.recorded_entry(op_id, _STEP, sub_type, name, parent_id)
    if entry is None:
        return None, OpenStep(op_id, parent_id, name, config, serdes, sub_type)
    status = state.status(op_id)
    if status == _SUCCEEDED:  # the replay's hot path: the result read off the entry, no model built
        return deserialize(serdes, detail(entry, "step_details", "result"), op_id, state.arn), None
    op = state.operations[op_id]
    details = op.step_details
    if status == _FAILED:
        raise operation_error(StepError, details.error if details else None, operation_id=op_id, name=name)
    if status == _PENDING:
        raise SuspendExecution(f"step {name or op_id} waits for its retry delay")
    # StepDetails.Attempt counts the attempts already finished; this one is the next.
    attempt = (details.attempt or 0) + 1 if details else 1
    return None, OpenStep(op_id, parent_id, name, config, serdes, sub_type, status, attempt)


def step_plan(
    state: ExecutionState,
    scope: Scope,
    fn: Callable[[StepContext], Any],
    name: str | None,
    config: StepConfig | None,
    sub_type: str = _STEP_SUB_TYPE,
) -> Plan[Any]:
    """The whole step as one plan: `open_step`, then `run_step` unless the step is already done."""
    value, opened = open_step(state, scope, fn, name, config, sub_type)
    if opened is None:
        return value
    return (yield from run_step(state, opened, fn))


def run_step(state: ExecutionState, opened: OpenStep, fn: Callable[[StepContext], Any]) -> Plan[Any]:
    """Run one attempt of an opened step that is not done: START, the code, then its outcome."""
    op_id, name, config, attempt = opened.op_id, opened.name, opened.config, opened.attempt
    parent_id, sub_type = opened.parent_id, opened.sub_type
    update = updater(op_id, parent_id, name, _STEP, sub_type)
    flush = Flush(state)
    if opened.status == _STARTED and config.semantics is _AT_MOST_ONCE:
        interrupted = StepInterruptedError(f"step {name or op_id} was interrupted in attempt {attempt}")
        yield from _after_failure(state, update, interrupted, attempt, config, name, op_id)

    at_most_once = config.semantics is _AT_MOST_ONCE
    if opened.needs_start:
        state.emit(update(_START))
        if at_most_once:
            yield flush  # acknowledged before the code runs: the attempt is on record first
    # At least once, START waits for the completion and travels with it, unless the code runs past the
    # linger (then it goes out while the code runs); batch_start keeps it waiting however long.
    linger = None if at_most_once or config.batch_start else state

    hooks = state.hooks
    if hooks is not None:
        hooks.attempt_started(op_id, name, sub_type, parent_id, attempt)
    try:
        value = yield Call(fn, StepContext(attempt, op_id, name, parent_id, state), linger)
        if hooks is not None:
            hooks.attempt_ended(op_id, name, sub_type, parent_id, attempt, exc=None)
        payload, value = round_trip(opened.serdes, value, op_id, state.arn)
    except (SerDesError, DurableCallInStepError) as exc:  # no retry can fix these: fail at once
        if type(exc) is SerDesError:  # say which step, by name and position, not by its hash
            where = position_label(state.operations, op_id, parent_id)
            exc = SerDesError(f"step {name!r} ({where}): {exc}" if name else f"step {where}: {exc}")
        state.emit(update(_FAIL, error=error_object(exc, state.official_errors)))
        yield flush
        raise exc from exc.__cause__
    except Exception as exc:
        if hooks is not None:
            hooks.attempt_ended(op_id, name, sub_type, parent_id, attempt, exc=exc)
        yield from _after_failure(state, update, exc, attempt, config, name, op_id)
    state.emit(update(_SUCCEED, payload))
    yield flush
    return value


def _after_failure(
    state: ExecutionState,
    update: Callable[..., AnyUpdate],
    exc: BaseException,
    attempt: int,
    config: StepConfig,
    name: str | None,
    op_id: str,
) -> Plan[None]:
    """Checkpoint a failed attempt: RETRY and suspend, or FAIL and raise `StepError`. Never returns."""
    strategy = config.retry_strategy or _default_retry
    decision = strategy(exc, attempt)
    error = error_object(exc, state.official_errors)
    if decision.should_retry:
        state.emit(
            update(
                OperationAction.RETRY,
                error=error,
                step_options=_retry_options(decision.delay_seconds),
            )
        )
        yield Flush(state)
        raise SuspendExecution(f"step {name or op_id} retries in {decision.delay_seconds} s")
    state.emit(update(OperationAction.FAIL, error=error))
    yield Flush(state)
    raise operation_error(StepError, error, operation_id=op_id, name=name) from exc


def _retry_options(delay: Any) -> StepOptions:
    """StepOptions of a RETRY: unchecked for the int a strategy should return, validated otherwise."""
    from eventflow.events.wire import StepOptions  # loaded with the first retry, not at import
    if type(delay) is int:
        return StepOptions.unchecked(next_attempt_delay_seconds=delay)
    return StepOptions(next_attempt_delay_seconds=delay)


__all__ = ["OpenStep", "StepContext", "open_step", "run_step", "step_plan"]
