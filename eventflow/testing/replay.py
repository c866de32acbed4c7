"""Replay a recorded execution against the current code and report the first divergence.

Why: changing a durable handler while executions are in flight (or archived for audit) is safe only if the
new code replays the old histories. Like Temporal's ``Replayer``, `verify` takes a recorded history (or
operation log), runs the handler over it without ever running step code or writing a checkpoint, and says
where the code no longer does what was recorded: the operation (label, id, name), what was recorded and
what the code does now.

What counts as a divergence:

- at a recorded id the code asks for another operation (type, sub-type, name or parent): the core's own
  replay check (`NonDeterministicExecutionError`);
- the code starts an operation the history does not have, although the execution had finished (in an
  unfinished history that is just the point where the recording stops, and replay ends there);
- the code finishes without reaching an operation the history has;
- the code ends with another result or error than the one recorded.

Step code never runs: a step the history does not finish ends the replay before its function is called.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eventflow.aio import AsyncDriver
from eventflow.backends.base import CheckpointResult, StatePage
from eventflow.context import SyncDriver
from eventflow.core.effects import Call, Effect, Enter, Flush
from eventflow.core.invocation import invocation_plan
from eventflow.core.operation_table import Entry, OperationTable
from eventflow.core.state import ExecutionState
from eventflow.errors import NonDeterministicExecutionError
from eventflow.events.emitted import AnyUpdate
from eventflow.events.enums import TERMINAL_STATUSES, OperationStatus, OperationType
from eventflow.events.history import Event
from eventflow.events.wire import ContextDetails, ErrorObject, Operation
from eventflow.handler import DurableHandler
from eventflow.testing.histories import ExecutionRecord, load_record
from eventflow.testing.labels import IdLabeler
from eventflow.testing.lines import kind_of, op_label
from eventflow.testing.normalize import decode_payload
from eventflow.testing.reconstruct import Outcome, execution_outcome, operations_from_events

__all__ = ["Divergence", "ReplayReport", "verify", "verify_file"]

REPLAY_ARN = "arn:aws:lambda:replay:000000000000:function:replay:$LATEST/durable-execution/replay/replay"


@dataclass(frozen=True)
class Divergence:
    """Where the current code stops matching the recording."""

    label: str
    operation_id: str | None
    name: str | None
    recorded: str
    now: str

    def __str__(self) -> str:
        where = f'{self.label} "{self.name}"' if self.name is not None else self.label
        ident = f" (id {self.operation_id})" if self.operation_id else ""
        return f"diverged at {where}{ident}\n  recorded: {self.recorded}\n  code now: {self.now}"


@dataclass
class ReplayReport:
    """The outcome of one replay: ``divergence`` is None when the code matches the recording."""

    source: str
    operations: int
    complete: bool
    divergence: Divergence | None = None
    output: dict[str, Any] | None = None
    reached_end: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.divergence is None

    def __str__(self) -> str:
        notes = "".join(f"\n  note: {note}" for note in self.notes)
        if self.divergence is None:
            state = "finished" if self.complete else "still running"
            return f"{self.source}: OK ({self.operations} operations, execution {state}){notes}"
        return f"{self.source}: {self.divergence}{notes}"


HistoryInput = ExecutionRecord | Sequence[Event] | Sequence[Operation] | str | Path


def verify_file(path: str | Path, handler: Callable[..., Any]) -> ReplayReport:
    """`verify` of a history or operation log file (JSON or JSONL)."""
    return verify(load_record(path), handler, source=str(path))


def verify(
    history_or_operations: HistoryInput, handler: Callable[..., Any], *, source: str = "", deep: bool = True
) -> ReplayReport:
    """Replay ``handler`` (a `durable_execution` handler or a plain ``(event, ctx)`` function, sync or async)
    over a recorded history or operation log and report the first divergence.

    ``deep`` (the default) also replays the inside of finished child contexts, which a normal replay skips.
    """
    record = _record(history_or_operations)
    source = source or (
        str(history_or_operations) if isinstance(history_or_operations, str | Path) else "history"
    )
    operations = list(record.operations) or operations_from_events(record.events)
    outcome = execution_outcome(record.events) if record.events else _outcome_of(operations)
    replay = _Replay(operations, outcome, deep=deep)
    report = ReplayReport(source, len(operations) - 1, outcome is not None)
    try:
        report.output = replay.run(handler, record.arn or REPLAY_ARN)
    except _Stop as stop:
        report.divergence = stop.divergence
        report.reached_end = stop.divergence is not None
        return report
    report.divergence = replay.judge(report.output)
    report.notes.extend(replay.notes)
    return report


def _record(data: HistoryInput) -> ExecutionRecord:
    if isinstance(data, ExecutionRecord):
        return data
    if isinstance(data, str | Path):
        return load_record(data)
    items = list(data)
    if all(isinstance(item, Event) for item in items):
        return ExecutionRecord(events=list(items))  # type: ignore[arg-type]
    if all(isinstance(item, Operation) for item in items):
        return ExecutionRecord(operations=list(items))  # type: ignore[arg-type]
    raise TypeError("expected history events, operations, an ExecutionRecord or a file path")


def _outcome_of(operations: Sequence[Operation]) -> Outcome | None:
    execution = operations[0] if operations else None
    if execution is None or execution.status not in TERMINAL_STATUSES:
        return None
    return Outcome(execution.status.value)  # an operation log keeps no result: only the status is known


# The result type each batch sub-type's completion record names (the official SDK's summary payload).
_BATCH_RESULT_TYPES = {"Map": "MapResult", "Parallel": "ParallelResult"}


def _deepen(op: Operation) -> Operation:
    """A finished CONTEXT marked ReplayChildren, so the replay enters it.

    A map/parallel whose full result is recorded gets that result's completion record in its place: the
    core then rebuilds the batch from the items exactly as recorded (how many items were started, why it
    completed) instead of deriving it from the code's item count, which over-counts a batch that stopped
    early (a fail-fast parallel records 2 items of 3). A batch result it cannot read (a custom serdes) is
    left as recorded, not entered.
    """
    if op.type != OperationType.CONTEXT or op.status != OperationStatus.SUCCEEDED:
        return op
    details = op.context_details or ContextDetails()
    if details.replay_children:
        return op
    update: dict[str, Any] = {"replay_children": True}
    result_type = _BATCH_RESULT_TYPES.get(op.sub_type or "")
    if result_type is not None:
        record = _completion_record(details.result, result_type)
        if record is None:
            return op
        update["result"] = record
    return op.model_copy(update={"context_details": details.model_copy(update=update)})


def _completion_record(payload: str | None, result_type: str) -> str | None:
    from eventflow.core.operations.batch import BATCH_RESULT_SERDES, completion_record
    from eventflow.serdes import SerDesContext

    if payload is None:
        return None
    try:
        result = BATCH_RESULT_SERDES.deserialize(payload, SerDesContext("", ""))
        return completion_record(result, result_type, None)
    except Exception:  # not a batch result this reader knows: the batch is compared as recorded
        return None


class _Stop(BaseException):
    """Ends the replay: at a divergence, or (divergence None) where an unfinished recording stops."""

    def __init__(self, divergence: Divergence | None) -> None:
        self.divergence = divergence
        super().__init__(str(divergence))


class _Visits(dict[str, Entry]):
    """The state's operation entries, noting every id the replay looks up."""

    def __init__(self, entries: dict[str, Entry], seen: set[str]) -> None:
        super().__init__(entries)
        self.seen = seen

    def get(self, op_id: str, default: Any = None) -> Any:
        self.seen.add(op_id)
        return super().get(op_id, default)

    def __getitem__(self, op_id: str) -> Entry:
        self.seen.add(op_id)
        return super().__getitem__(op_id)


class _NoBackend:
    """Replay never checkpoints: the driver stops at the first update."""

    def checkpoint(self, arn: str, token: str, updates: Sequence[AnyUpdate]) -> CheckpointResult:
        raise AssertionError("replay verification must not checkpoint")

    def get_state(self, arn: str, token: str, marker: str) -> StatePage:
        raise AssertionError("replay verification loads every operation up front")


class _Replay:
    """One replay: the recorded operations, the labels, and what the code looked up."""

    def __init__(
        self, operations: Sequence[Operation], outcome: Outcome | None, *, deep: bool = True
    ) -> None:
        execution = operations[0]
        # The handler sees the execution as running, the way the service hands it out. With ``deep``,
        # finished child contexts are marked ReplayChildren, so the core enters them and their insides are
        # checked too (a finished child's function is otherwise skipped on replay).
        self.operations = [
            execution.model_copy(update={"status": OperationStatus.STARTED}),
            *(_deepen(op) if deep else op for op in operations[1:]),
        ]
        self.by_id = {op.id: op for op in operations}
        self.outcome = outcome
        self.complete = outcome is not None
        self.labeler = IdLabeler()
        self.seen: set[str] = set()
        self.watched: set[int] = set()
        self.notes: list[str] = []

    # -- running ------------------------------------------------------------------------------------------

    def run(self, handler: Callable[..., Any], arn: str) -> dict[str, Any]:
        event = {
            "DurableExecutionArn": arn,
            "CheckpointToken": "replay",
            "InitialExecutionState": {"Operations": [op.to_wire() for op in self.operations]},
        }
        target = handler if isinstance(handler, DurableHandler) else DurableHandler(handler, None)
        plan = target._plan(event, None) if hasattr(target, "_plan") else invocation_plan(event, target.fn)
        if inspect.iscoroutinefunction(target.fn):
            return asyncio.run(_AsyncReplayDriver(self).run(plan))
        return _SyncReplayDriver(self).run(plan)

    def before(self, effect: Effect) -> None:
        """Check an effect before the driver performs it; raise `_Stop` to end the replay."""
        if type(effect) is Enter:
            self._watch(effect.state)
        elif type(effect) is Call:
            step = effect.arg
            op_id = getattr(step, "operation_id", None)
            name, parent = getattr(step, "name", None), getattr(step, "parent_id", None)
            raise _Stop(self._new_work(op_id, name, parent, "runs step code"))
        elif type(effect) is Flush and effect.state.pending:
            update = effect.state.pending[0]
            what = _update_text(update, self.labeler)
            raise _Stop(self._new_work(update.id, update.name, update.parent_id, what))

    def nondeterministic(self, exc: NonDeterministicExecutionError) -> None:
        recorded = self.by_id.get(exc.op_id)
        label = op_label(self.labeler, exc.op_id, recorded.parent_id if recorded else None)
        raise _Stop(
            Divergence(
                label,
                exc.op_id,
                recorded.name if recorded else None,
                _shape(exc.recorded, self.labeler),
                _shape(exc.requested, self.labeler),
            )
        ) from exc

    def _watch(self, state: ExecutionState) -> None:
        if id(state) not in self.watched:
            self.watched.add(id(state))
            state.operations = OperationTable(_Visits(state.operations.entries, self.seen))

    def _new_work(
        self, op_id: str | None, name: str | None, parent: str | None, what: str
    ) -> Divergence | None:
        recorded = self.by_id.get(op_id) if op_id else None
        if not self.complete:
            return None  # the recording stops here; everything up to it matched
        label = op_label(self.labeler, op_id, parent) if op_id else "-"
        if recorded is None:
            return Divergence(
                label,
                op_id,
                name,
                "nothing: the execution had finished" + self._last_recorded_hint(parent),
                f"starts a new operation ({what})",
            )
        return Divergence(label, op_id, name, _op_text(recorded, self.labeler), what)

    def _last_recorded_hint(self, parent: str | None) -> str:
        siblings = [op for op in self.operations[1:] if op.parent_id == parent]
        if not siblings:
            return " with nothing recorded there"
        last = siblings[-1]
        where = op_label(self.labeler, last.id, parent)
        return f"; the last one there was {where} {_op_text(last, self.labeler)}"

    # -- judging the end ------------------------------------------------------------------------------------

    def judge(self, output: dict[str, Any]) -> Divergence | None:
        """Compare the replay's output and coverage with the recording."""
        if not self.complete or self.outcome is None:
            return None
        missed = self._first_missed()
        if missed is not None:
            return Divergence(
                op_label(self.labeler, missed.id, missed.parent_id),
                missed.id,
                missed.name,
                _op_text(missed, self.labeler),
                "finishes without reaching it",
            )
        status = output.get("Status")
        recorded = self.outcome
        if recorded.status == "SUCCEEDED" and status == "SUCCEEDED":
            if recorded.result is None or decode_payload(recorded.result) == decode_payload(
                output.get("Result")
            ):
                return None
            return Divergence(
                "execution", None, None, f"result {recorded.result}", f"result {output.get('Result')}"
            )
        if recorded.status != "SUCCEEDED" and status == "FAILED":
            self._note_error_difference(recorded.error, output.get("Error") or {})
            return None
        if recorded.status in ("TIMED_OUT", "STOPPED") and status == "PENDING":
            return None  # the service ended it from outside; the code was still waiting
        return Divergence("execution", None, None, _outcome_text(recorded), _output_text(output))

    def _note_error_difference(self, recorded: ErrorObject | None, now: dict[str, Any]) -> None:
        """Both failed: how the error is labelled is not determinism. SDKs name the same failure
        differently (the official SDK's ``...exceptions.StepError`` for eventflow's user exception type),
        so a differing ErrorType or message is a note, never a divergence."""
        if recorded is None:
            return
        if recorded.error_type != now.get("ErrorType"):
            self.notes.append(
                f"execution: error type differs in name only: recorded {recorded.error_type}, "
                f"code now {now.get('ErrorType')}"
            )
        if recorded.error_message != now.get("ErrorMessage"):
            self.notes.append(
                f"execution: error message differs: recorded {recorded.error_message!r}, "
                f"code now {now.get('ErrorMessage')!r}"
            )

    def _first_missed(self) -> Operation | None:
        entered = {op.parent_id for op in self.operations if op.id in self.seen}
        for op in self.operations[1:]:
            if op.id in self.seen:
                continue
            if op.parent_id is None or op.parent_id in entered:
                return op
        return None


class _SyncReplayDriver(SyncDriver):
    def __init__(self, replay: _Replay) -> None:
        super().__init__(_NoBackend())
        self.replay = replay

    def _perform(self, effect: Effect) -> Any:
        self.replay.before(effect)
        try:
            return super()._perform(effect)
        except NonDeterministicExecutionError as exc:
            self.replay.nondeterministic(exc)
            raise


class _AsyncReplayDriver(AsyncDriver):
    def __init__(self, replay: _Replay) -> None:
        super().__init__(_NoBackend())
        self.replay = replay

    async def _perform(self, effect: Effect) -> Any:
        self.replay.before(effect)
        try:
            return await super()._perform(effect)
        except NonDeterministicExecutionError as exc:
            self.replay.nondeterministic(exc)
            raise


def _shape(data: dict[str, Any], labeler: IdLabeler) -> str:
    parent = data.get("parent_id")
    where = "root" if parent is None else op_label(labeler, parent, None)
    name = data.get("name")
    kind = f"{data.get('type')}/{data.get('sub_type')}"
    return f'{kind} "{name}" under {where}' if name is not None else f"{kind} (no name) under {where}"


def _op_text(op: Operation, labeler: IdLabeler) -> str:
    return (
        _shape(
            {"type": op.type.value, "sub_type": op.sub_type, "name": op.name, "parent_id": op.parent_id},
            labeler,
        )
        + f" ({op.status.value}, {kind_of(op.type, op.sub_type)})"
    )


def _update_text(update: AnyUpdate, labeler: IdLabeler) -> str:
    shape = _shape(
        {
            "type": update.type.value,
            "sub_type": update.sub_type,
            "name": update.name,
            "parent_id": update.parent_id,
        },
        labeler,
    )
    return f"{update.action.value} {shape}"


def _outcome_text(outcome: Outcome) -> str:
    if outcome.status == "SUCCEEDED":
        return f"SUCCEEDED with {outcome.result}"
    error = outcome.error
    return f"{outcome.status}" + (f" with {error.error_type}: {error.error_message}" if error else "")


def _output_text(output: dict[str, Any]) -> str:
    status = output.get("Status")
    if status == "SUCCEEDED":
        return f"SUCCEEDED with {output.get('Result')}"
    if status == "PENDING":
        return "PENDING: still waiting"
    error = output.get("Error") or {}
    return f"{status} with {error.get('ErrorType')}: {error.get('ErrorMessage')}"


def dumps_report(report: ReplayReport) -> str:
    """A report as JSON, for machines."""
    d = report.divergence
    return json.dumps(
        {
            "source": report.source,
            "ok": report.ok,
            "operations": report.operations,
            "complete": report.complete,
            "notes": report.notes,
            "divergence": None
            if d is None
            else {
                "label": d.label,
                "operationId": d.operation_id,
                "name": d.name,
                "recorded": d.recorded,
                "now": d.now,
            },
        }
    )
