"""Folding recorded history and update batches through the operation machines.

Two folds, both independent of the wire models (they take plain tuples, so any model can feed them):

- `fold_events` replays a history (GetDurableExecutionHistory) into each operation's current state. Every
  history event feeds one trigger of one machine (`EVENT_TRIGGERS`), except the few that record no operation
  transition (`NON_TRANSITION_EVENTS`).
- `fold_updates` applies a batch of `OperationUpdate` actions, in order, to known states -- what the service
  will make of a checkpoint before it is sent.

Retries in history. The service writes no event of its own for a RETRY: a retried attempt is recorded as the
attempt's outcome event with `RetryDetails.NextAttemptDelaySeconds` set --

- a failed attempt that will be retried is `StepFailed{Error, RetryDetails{CurrentAttempt,
  NextAttemptDelaySeconds}}`,
- a wait_for_condition check that says "not yet" (RETRY with the state as Payload, no Error) is
  `StepSucceeded{..., RetryDetails{CurrentAttempt, NextAttemptDelaySeconds}}`,

while the final outcome carries `RetryDetails{CurrentAttempt}` without a delay (conformance suite 1.12, 6.6).
So the caller passes `is_retry = RetryDetails.NextAttemptDelaySeconds > 0` for StepSucceeded and
StepFailed, and `False` for every other event. (The official testing library also writes
`NextAttemptDelaySeconds: 0` on a terminal StepFailed; the real service omits it. A RETRY's delay is at
least 1 s, so 0 is never one: `testing.reconstruct.is_retry_event`.)

The retry delay elapsing (PENDING -> READY) has no history event either: a retried step's history reads
StepStarted, StepFailed{retry}, InvocationCompleted, StepStarted, StepSucceeded. The STEP machine keeps
PENDING -> READY explicit (the service refuses START for a PENDING step, so `next_state` must too), and
`fold_events` applies the missing `retry_delay_elapsed` itself (`IMPLICIT_TRANSITIONS`) when the next event of
a PENDING step arrives. A history that ends with a step PENDING folds to PENDING even if its delay has since
elapsed: history cannot tell.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

from eventflow.errors import IllegalTransitionError, InvalidInputError
from eventflow.events.enums import EventType, OperationAction, OperationStatus, OperationType
from eventflow.machine.names import NEW, ServiceTrigger, State, Trigger
from eventflow.machine.rules import UPDATE_ACTIONS
from eventflow.machine.table import next_state

__all__ = [
    "EVENT_TRIGGERS",
    "IMPLICIT_TRANSITIONS",
    "NON_TRANSITION_EVENTS",
    "RETRY_EVENTS",
    "UPDATE_EVENTS",
    "event_trigger",
    "fold_events",
    "fold_updates",
]

_E = EventType
_O = OperationType
_A = OperationAction
_T = ServiceTrigger

EVENT_TRIGGERS: Final[Mapping[EventType, tuple[OperationType, Trigger]]] = MappingProxyType(
    {
        _E.EXECUTION_STARTED: (_O.EXECUTION, _A.START),
        _E.EXECUTION_SUCCEEDED: (_O.EXECUTION, _A.SUCCEED),
        _E.EXECUTION_FAILED: (_O.EXECUTION, _A.FAIL),
        _E.EXECUTION_TIMED_OUT: (_O.EXECUTION, _T.EXECUTION_TIMED_OUT),
        _E.EXECUTION_STOPPED: (_O.EXECUTION, _T.STOPPED),
        _E.CONTEXT_STARTED: (_O.CONTEXT, _A.START),
        _E.CONTEXT_SUCCEEDED: (_O.CONTEXT, _A.SUCCEED),
        _E.CONTEXT_FAILED: (_O.CONTEXT, _A.FAIL),
        _E.WAIT_STARTED: (_O.WAIT, _A.START),
        _E.WAIT_SUCCEEDED: (_O.WAIT, _T.TIMER_ELAPSED),
        _E.WAIT_CANCELLED: (_O.WAIT, _A.CANCEL),
        _E.STEP_STARTED: (_O.STEP, _A.START),
        _E.STEP_SUCCEEDED: (_O.STEP, _A.SUCCEED),  # RETRY when it carries NextAttemptDelaySeconds
        _E.STEP_FAILED: (_O.STEP, _A.FAIL),  # RETRY when it carries NextAttemptDelaySeconds
        _E.CHAINED_INVOKE_STARTED: (_O.CHAINED_INVOKE, _A.START),
        _E.CHAINED_INVOKE_SUCCEEDED: (_O.CHAINED_INVOKE, _T.INVOKE_SUCCEEDED),
        _E.CHAINED_INVOKE_FAILED: (_O.CHAINED_INVOKE, _T.INVOKE_FAILED),
        _E.CHAINED_INVOKE_TIMED_OUT: (_O.CHAINED_INVOKE, _T.INVOKE_TIMED_OUT),
        _E.CHAINED_INVOKE_STOPPED: (_O.CHAINED_INVOKE, _T.INVOKE_STOPPED),
        _E.CALLBACK_STARTED: (_O.CALLBACK, _A.START),
        _E.CALLBACK_SUCCEEDED: (_O.CALLBACK, _T.CALLBACK_SUCCEEDED),
        _E.CALLBACK_FAILED: (_O.CALLBACK, _T.CALLBACK_FAILED),
        # History does not say which timeout fired; both lead to TIMED_OUT.
        _E.CALLBACK_TIMED_OUT: (_O.CALLBACK, _T.CALLBACK_TIMED_OUT),
    }
)
"""The machine and trigger each history event type feeds (for a non-retry event)."""

RETRY_EVENTS: Final[Mapping[EventType, tuple[OperationType, Trigger]]] = MappingProxyType(
    {
        _E.STEP_SUCCEEDED: (_O.STEP, _A.RETRY),
        _E.STEP_FAILED: (_O.STEP, _A.RETRY),
    }
)
"""The event types that record a RETRY when they carry `RetryDetails.NextAttemptDelaySeconds`."""

NON_TRANSITION_EVENTS: Final[frozenset[EventType]] = frozenset(
    {_E.INVOCATION_COMPLETED, _E.EXECUTION_PAUSED, _E.EXECUTION_RESUMED}
)
"""History events that change no operation's status (PAUSED is an execution status, not an operation one)."""

IMPLICIT_TRANSITIONS: Final[Mapping[tuple[OperationType, State], Trigger]] = MappingProxyType(
    {(_O.STEP, OperationStatus.PENDING): _T.RETRY_DELAY_ELAPSED}
)
"""Transitions history does not record: taken by `fold_events` before the next event of an operation in that
state."""

del _E, _O, _A, _T

UPDATE_EVENTS: Final[Mapping[tuple[OperationType, OperationAction], EventType]] = MappingProxyType(
    {
        (op_type, trigger): event_type
        for event_type, (op_type, trigger) in EVENT_TRIGGERS.items()
        if isinstance(trigger, OperationAction)
    }
)
"""The history event an applied update of each (type, action) appends: `EVENT_TRIGGERS` read backwards (the
local service writes history with it). RETRY is not here: it is a StepFailed, or a StepSucceeded for a
wait_for_condition "not yet" (see the module docstring)."""


def event_trigger(event_type: str, *, is_retry: bool = False) -> tuple[OperationType, Trigger] | None:
    """The (machine, trigger) a history event feeds, or `None` for an event that changes no operation.

    Raises `InvalidInputError` for an unknown event type, or `is_retry` on an event that cannot be a retry.
    """
    try:
        kind = EventType(event_type)
    except ValueError:
        raise InvalidInputError(f"unknown history event type {event_type!r}") from None
    if is_retry:
        retry = RETRY_EVENTS.get(kind)
        if retry is None:
            raise InvalidInputError(f"history event {kind} cannot record a retry")
        return retry
    feed = EVENT_TRIGGERS.get(kind)
    if feed is None and kind not in NON_TRANSITION_EVENTS:  # an event type this module has not been taught
        raise InvalidInputError(f"history event type {kind} feeds no known machine")
    return feed


def fold_events(events: Iterable[tuple[str | None, str, bool]]) -> dict[str, State]:
    """Replay history events, in order, into each operation's current state.

    `events` yields `(operation id, event type, is_retry)`; see the module docstring for `is_retry`. The
    operation id may be `None` only for events that change no operation (InvocationCompleted). To fold a paged
    history, chain the pages (`itertools.chain`): the fold needs every event of an operation in one pass.

    Raises `IllegalTransitionError` for an event its operation's machine cannot take in the folded state, and
    `InvalidInputError` for an unknown event type, a transition event without an id, or one id whose events
    belong to two different operation types.
    """
    states: dict[str, State] = {}
    types: dict[str, OperationType] = {}
    for op_id, event_type, is_retry in events:
        feed = event_trigger(event_type, is_retry=is_retry)
        if feed is None:
            continue
        op_type, trigger = feed
        if not op_id:
            raise InvalidInputError(f"history event {event_type} has no operation id")
        recorded_type = types.setdefault(op_id, op_type)
        if recorded_type is not op_type:
            raise InvalidInputError(
                f"history event {event_type} is for a {op_type} operation, but operation {op_id!r} is a "
                f"{recorded_type}"
            )
        state = states.get(op_id, NEW)
        implicit = IMPLICIT_TRANSITIONS.get((op_type, state))
        if implicit is not None:
            state = next_state(op_type, state, implicit, op_id=op_id)
        states[op_id] = next_state(op_type, state, trigger, op_id=op_id)
    return states


def fold_updates(states: Mapping[str, State], updates: Iterable[tuple[str, str, str]]) -> dict[str, State]:
    """Apply `OperationUpdate` actions, in order, to `states` and return the new states (`states` is kept).

    `updates` yields `(operation id, operation type, action)`. An id absent from `states` is `NEW`, so seed
    `states` with what the service reported (the EXECUTION operation is STARTED before any update). A batch
    that carries a STEP's or CONTEXT's START and its completion together is simply two updates in a row.

    Raises `IllegalTransitionError` for an action the operation's machine cannot take in its state, or one the
    service never accepts from an SDK for that type (EXECUTION START), and `InvalidInputError` for an unknown
    operation type.
    """
    result: dict[str, State] = dict(states)
    for op_id, op_type, action in updates:
        state = result.get(op_id, NEW)
        try:
            accepted = UPDATE_ACTIONS[OperationType(op_type)]
        except ValueError:
            raise InvalidInputError(f"unknown operation type {op_type!r} (operation {op_id!r})") from None
        if action not in accepted:
            raise IllegalTransitionError(
                op_id=op_id, op_type=str(op_type), state=str(state), trigger=str(action)
            )
        result[op_id] = next_state(op_type, state, action, op_id=op_id)
    return result
