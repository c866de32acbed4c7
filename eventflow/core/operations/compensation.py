"""Saga compensation: steps that register an undo, and one checkpointed run of the undos in reverse.

Why this shape: a saga's undo list must survive suspensions and crashes without being stored anywhere but
the history. So registration is not checkpointed at all: `step_with_compensation` registers its undo
(with the step's result) each time the step returns a value, on the first run and on every replay alike,
so the list is rebuilt deterministically from the steps that succeeded. A step that failed registers
nothing: there is nothing to undo.

`run_compensations` is a CONTEXT with SubType ``Compensation``. Inside it every undo is a STEP (with the
usual retries), run newest first; a failed undo is collected and the next one still runs. The CONTEXT
then SUCCEEDs with a JSON summary, or FAILs with a `CompensationError` whose ErrorData carries the
summary. On replay a finished run returns (or raises) from its checkpoint without running an undo; a run
cut off mid-way (an undo waiting for its retry, a crash) re-enters the context, where finished undos
replay from their own checkpoints and the rest continue. The plan drives the undo steps itself, with no
`Enter`, so one implementation serves both front-ends (the async driver awaits async undos).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eventflow.config import StepConfig
from eventflow.core.effects import Flush, Plan
from eventflow.core.failures import error_type_name
from eventflow.core.operations.step import StepContext, step_plan
from eventflow.core.scope import Scope
from eventflow.core.state import ExecutionState
from eventflow.core.updates import updater
from eventflow.errors import CompensationError, StepError
from eventflow.events.enums import OperationAction, OperationStatus, OperationSubType, OperationType
from eventflow.serdes import SerDesContext

if TYPE_CHECKING:
    from eventflow.events.wire import ErrorObject

DEFAULT_NAME = "compensations"


@dataclass(frozen=True, slots=True)
class Compensation:
    """One registered undo: ``undo(value)`` runs as a step named ``name``."""

    name: str | None
    undo: Callable[[Any], Any]
    value: Any
    config: StepConfig | None = None


@dataclass(frozen=True, slots=True)
class CompensationFailure:
    """An undo step that failed after its retries."""

    name: str | None
    error_type: str | None
    error_message: str | None


@dataclass(frozen=True, slots=True)
class CompensationSummary:
    """What a compensation run did: the undos that succeeded and those that failed, in run order."""

    compensated: tuple[str | None, ...] = ()
    failed: tuple[CompensationFailure, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_json(self) -> str:
        """The summary as the JSON recorded as the compensation context's result."""
        return json.dumps(
            {
                "compensated": list(self.compensated),
                "failed": [
                    {"name": f.name, "errorType": f.error_type, "errorMessage": f.error_message}
                    for f in self.failed
                ],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, data: str | None) -> CompensationSummary:
        """Read a summary back from `to_json`'s output (``None``: an empty summary)."""
        raw = json.loads(data) if data else {}
        return cls(
            tuple(raw.get("compensated", ())),
            tuple(
                CompensationFailure(f.get("name"), f.get("errorType"), f.get("errorMessage"))
                for f in raw.get("failed", ())
            ),
        )


class _DiscardResult:
    """The serdes of undo steps: an undo's return value is not part of the saga, so it is not kept
    (and an unserializable one cannot fail the undo)."""

    def serialize(self, value: Any, context: SerDesContext) -> str:
        return "null"

    def deserialize(self, data: str, context: SerDesContext) -> Any:
        return None


_DISCARD = _DiscardResult()


def registered_plan(plan: Plan[Any], registry: list[Compensation], entry: Compensation) -> Plan[Any]:
    """Run the step ``plan``; when it returns a value, register ``entry`` with that value as the undo's
    argument. Replay returns the recorded value, so the registration is rebuilt the same way."""
    value = yield from plan
    registry.append(
        Compensation(entry.name, entry.undo, value, entry.config)
    )
    return value


def compensation_plan(
    state: ExecutionState, scope: Scope, registry: list[Compensation], name: str | None
) -> Plan[CompensationSummary]:
    """Run the undos of ``registry`` newest first under one ``Compensation`` CONTEXT, then empty it."""
    name = name or DEFAULT_NAME
    op_id = scope.next_id()
    parent_id = scope.parent_id
    entries = list(reversed(registry))
    registry.clear()  # consumed: a later run_compensations only sees undos registered after this one
    op = state.recorded(op_id, OperationType.CONTEXT, OperationSubType.COMPENSATION, name, parent_id)

    update = updater(op_id, parent_id, name, OperationType.CONTEXT, OperationSubType.COMPENSATION)

    if op is not None:
        details = op.context_details
        if op.status == OperationStatus.SUCCEEDED:
            return CompensationSummary.from_json(details.result if details else None)
        if op.status == OperationStatus.FAILED:
            raise _error(details.error if details else None, op_id, name)
        # STARTED: a run cut off mid-way; finished undos replay below, the others run now.
    else:
        state.emit(update(OperationAction.START))

    inner = Scope(op_id)
    compensated: list[str | None] = []
    failed: list[CompensationFailure] = []
    for entry in entries:
        base = entry.config or StepConfig()
        config = StepConfig(retry_strategy=base.retry_strategy, semantics=base.semantics, serdes=_DISCARD)
        try:
            yield from step_plan(state, inner, _undo_call(entry), entry.name, config)
        except StepError as exc:
            failed.append(CompensationFailure(entry.name, exc.error_type, exc.message))
        else:
            compensated.append(entry.name)
    summary = CompensationSummary(tuple(compensated), tuple(failed))
    if failed:
        from eventflow.events.wire import ErrorObject

        error = ErrorObject(
            error_type=error_type_name(CompensationError("")),
            error_message=_message(summary),
            error_data=summary.to_json(),
        )
        state.emit(update(OperationAction.FAIL, error=error))
        yield Flush(state)
        raise _error(error, op_id, name)
    state.emit(update(OperationAction.SUCCEED, payload=summary.to_json()))
    yield Flush(state)
    return summary


def _undo_call(entry: Compensation) -> Callable[[StepContext], Any]:
    undo, value = entry.undo, entry.value
    return lambda _: undo(value)


def _message(summary: CompensationSummary) -> str:
    names = ", ".join(repr(f.name) if f.name else "<unnamed>" for f in summary.failed)
    total = len(summary.failed) + len(summary.compensated)
    return f"{len(summary.failed)} of {total} compensations failed: {names}"


def _error(error: ErrorObject | None, op_id: str, name: str) -> CompensationError:
    data = error.error_data if error else None
    exc = CompensationError(
        (error.error_message if error else None) or "compensation failed",
        error_type=error.error_type if error else None,
        error_data=data,
        operation_id=op_id,
        name=name,
    )
    try:
        exc.summary = CompensationSummary.from_json(data)
    except (ValueError, AttributeError, TypeError):
        exc.summary = CompensationSummary()
    return exc


__all__ = [
    "Compensation",
    "CompensationFailure",
    "CompensationSummary",
    "compensation_plan",
    "registered_plan",
]
