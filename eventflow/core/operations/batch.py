"""MAP and PARALLEL: a CONTEXT whose items run side by side under completion rules, written once.

The batch is a CONTEXT (SubType Map / Parallel). Item ``i`` has the id ``blake2b(f"{batch_id}-{i}")``
(PROTOCOL.md §3): NESTED, it is a CONTEXT (MapIteration / ParallelBranch, named ``map-item-{i}`` /
``parallel-branch-{i}`` unless named) under the batch; FLAT, it writes nothing itself and its operations
take the batch as ParentId while deriving their ids from the item's id, as the official SDK's virtual
contexts do.

Everything that decides lives here, in `_BatchRun`: which item starts next (index order, at most
``max_concurrency`` started-and-unfinished, a suspended item keeping its slot), when the batch is done
(the official SDK's completion rules), and what the result is. The drivers only perform the `Fork`
effect: run the admitted items, sequentially (sync) or as tasks (async), and report each outcome.
When nothing more can start and the batch is not done, some item is suspended; the batch suspends too,
and the next invocation replays the finished items from their checkpoints and resumes the others.

SUCCEED carries the `BatchResult`: plain JSON of ``to_dict()`` (the official SDK's shape, without its
type tags), the typed envelope when the handler's serdes is `EnvelopeSerDes`, or whatever a configured
serdes writes; the official SDK's envelope is read either way. Past 256 KiB it carries the official
SDK's completion record instead, with ReplayChildren set, and replay rebuilds the same result from the
items' own checkpoints without running item code. A finished batch replays from its payload alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

from eventflow.batch import (
    BatchItem,
    BatchItemStatus,
    BatchResult,
    CompletionConfig,
    CompletionDecision,
    CompletionItemStatus,
    CompletionOutcome,
    CompletionReason,
    CompletionStatus,
    MapConfig,
    NestingType,
    ParallelBranch,
    ParallelConfig,
)
from eventflow.config import ChildConfig
from eventflow.core.effects import Flush, Fork, Plan
from eventflow.core.failures import error_object, operation_error
from eventflow.core.names import replay_name, resolve_name
from eventflow.core.operation_table import detail
from eventflow.core.operations.child import child_plan
from eventflow.core.scope import Scope
from eventflow.core.state import ExecutionState
from eventflow.core.updates import updater
from eventflow.envelope import EnvelopeSerDes
from eventflow.errors import (
    CheckpointError,
    ChildContextError,
    InvalidInputError,
    NonDeterministicExecutionError,
    SuspendExecution,
)
from eventflow.events.enums import OperationAction, OperationStatus, OperationSubType, OperationType
from eventflow.events.limits import MAX_PAYLOAD_BYTES
from eventflow.ids import branch_id, child_id
from eventflow.serdes import SerDes, SerDesContext, deserialize, round_trip, serialize

if TYPE_CHECKING:
    from eventflow.events.wire import ContextOptions, ErrorObject

ItemFn = Callable[[Any], Any]


# -- what a batch is ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BatchSpec:
    """A map or a parallel, reduced to what the plan needs: ``count`` items, item ``i`` being the
    function ``item_fn(i)`` of a context and named ``item_name(i)``. Functions are made per item on
    demand, so a map over 10,000 items holds no 10,000 closures."""

    sub_type: str
    item_sub_type: str
    result_type: str  # "MapResult" / "ParallelResult": the `type` of the completion record
    count: int
    item_fn: Callable[[int], ItemFn]
    item_name: Callable[[int], str]
    max_concurrency: int | None
    completion: CompletionConfig
    serdes: SerDes | None
    item_serdes: SerDes | None
    summary_generator: Callable[[BatchResult[Any]], str] | None
    nesting: NestingType


def map_spec(items: Iterable[Any], fn: Callable[..., Any], config: MapConfig[Any] | None) -> BatchSpec:
    """``fn(ctx, item, index, items)`` per item, as in the official SDK."""
    config = config or MapConfig()
    seq: Sequence[Any] = items if isinstance(items, Sequence) else tuple(items)
    _check_total(config.completion_config, len(seq))
    namer = config.item_namer

    def item_fn(i: int) -> ItemFn:
        item = seq[i]
        return lambda ctx: fn(ctx, item, i, seq)

    def item_name(i: int) -> str:
        return namer(seq[i], i) if namer is not None else f"map-item-{i}"

    return BatchSpec(
        OperationSubType.MAP, OperationSubType.MAP_ITERATION, "MapResult", len(seq), item_fn, item_name,
        config.max_concurrency, config.completion_config, config.serdes, config.item_serdes,
        config.summary_generator, config.nesting_type,
    )


def parallel_spec(
    branches: Sequence[ItemFn | ParallelBranch[Any]] | Mapping[str, ItemFn], config: ParallelConfig | None
) -> BatchSpec:
    """Branches as functions of a context, `ParallelBranch` objects, or a mapping of name to function."""
    config = config or ParallelConfig()
    fns: list[ItemFn] = []
    names: list[str | None] = []
    if isinstance(branches, Mapping):
        for key, value in branches.items():
            fns.append(value)
            names.append(str(key))
    else:
        for branch in branches:
            if isinstance(branch, ParallelBranch):
                fns.append(branch.fn)
                names.append(branch.name)
            else:
                fns.append(branch)
                names.append(None)
    for i, fn in enumerate(fns):
        if not callable(fn):
            raise InvalidInputError(f"parallel branch {i} is not callable: {fn!r}")
    _check_total(config.completion_config, len(fns))

    def item_name(i: int) -> str:
        name = names[i]
        return name if name is not None else f"parallel-branch-{i}"

    return BatchSpec(
        OperationSubType.PARALLEL, OperationSubType.PARALLEL_BRANCH, "ParallelResult", len(fns),
        fns.__getitem__, item_name, config.max_concurrency, config.completion_config, config.serdes,
        config.item_serdes, config.summary_generator, config.nesting_type,
    )


def _check_total(completion: CompletionConfig, total: int) -> None:
    # Before any checkpoint, as the official SDK does: a bad argument leaves no batch in the history.
    if completion.min_successful is not None and completion.min_successful > total:
        raise InvalidInputError(
            f"min_successful ({completion.min_successful}) cannot exceed the number of items ({total})"
        )


# -- completion rules ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Policy:
    """The official SDK's completion rules, over ``total`` items; or the config's ``should_complete``,
    which then decides alone (no tolerance, no minimum: only its decision, or every item finished)."""

    total: int
    config: CompletionConfig

    def tolerance_exceeded(self, failed: int) -> bool:
        c = self.config
        if c.should_complete is not None:
            return False
        if (
            c.min_successful is None
            and c.tolerated_failure_count is None
            and c.tolerated_failure_percentage is None
        ):
            return failed > 0  # no criterion at all: fail fast
        if c.tolerated_failure_count is not None and failed > c.tolerated_failure_count:
            return True
        pct = c.tolerated_failure_percentage
        return pct is not None and self.total > 0 and failed * 100 / self.total > pct

    def decide(
        self, succeeded: int, failed: int, items: Sequence[CompletionItemStatus] = ()
    ) -> CompletionReason | None:
        """Why the batch ends now, or None while it goes on. Asks ``should_complete`` (once) if set."""
        predicate = self.config.should_complete
        if predicate is not None:
            status = CompletionStatus(succeeded, failed, succeeded + failed, self.total, items)
            decision = predicate(status)
            if not isinstance(decision, CompletionDecision):
                raise InvalidInputError(
                    "should_complete must return continue_batch() or complete_batch(outcome), "
                    f"got {decision!r:.100}"
                )
            if decision.complete:
                if decision.outcome is CompletionOutcome.FAILED:
                    return CompletionReason.CUSTOM_COMPLETION_FAILED
                return CompletionReason.CUSTOM_COMPLETION_SUCCEEDED
            return CompletionReason.ALL_COMPLETED if succeeded + failed >= self.total else None
        ms = self.config.min_successful
        if (
            succeeded + failed >= self.total
            or (ms is not None and succeeded >= ms)
            or self.tolerance_exceeded(failed)
        ):
            return self.reason(succeeded, failed)
        return None

    def reason(self, succeeded: int, failed: int) -> CompletionReason:
        if self.tolerance_exceeded(failed):
            return CompletionReason.FAILURE_TOLERANCE_EXCEEDED
        if succeeded + failed >= self.total:
            return CompletionReason.ALL_COMPLETED
        ms = self.config.min_successful
        if ms is not None and succeeded >= ms:
            return CompletionReason.MIN_SUCCESSFUL_REACHED
        return CompletionReason.ALL_COMPLETED


class _ItemStatuses(Sequence[CompletionItemStatus]):
    """The items of a live batch as ``should_complete`` sees them, read from the run on access: handing
    the predicate a fresh tuple of every item at every finish would cost O(items) each time."""

    __slots__ = ("_run",)

    def __init__(self, run: _BatchRun) -> None:
        self._run = run

    def __len__(self) -> int:
        return self._run.spec.count

    @overload
    def __getitem__(self, index: int) -> CompletionItemStatus: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[CompletionItemStatus]: ...

    def __getitem__(self, index: int | slice) -> CompletionItemStatus | Sequence[CompletionItemStatus]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        count = len(self)
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError("batch item index out of range")
        run = self._run
        status: BatchItemStatus | None = None
        if index in run.results:
            status = BatchItemStatus.SUCCEEDED
        elif index in run.errors:
            status = BatchItemStatus.FAILED
        elif index < run.started:
            status = BatchItemStatus.STARTED
        return CompletionItemStatus(index, run.spec.item_name(index), status)


# -- errors that are not an item's to keep -----------------------------------------------------------------

_FATAL = (NonDeterministicExecutionError, CheckpointError)


def _fatal_cause(exc: BaseException) -> BaseException | None:
    """Non-determinism or a refused checkpoint anywhere in ``exc``'s cause chain.

    Child contexts wrap what their function raised in `ChildContextError`; an item must not record
    these two as its own failure (a retry of the invocation, or nothing, can fix them).
    """
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 64:
        if isinstance(current, _FATAL):
            return current
        current = current.__cause__
        seen += 1
    return None


# -- one live run --------------------------------------------------------------------------------------


class _BatchRun:
    """The state of one batch within one invocation; its bound methods are the `Fork` protocol."""

    __slots__ = (
        "batch_id", "errors", "failed", "in_flight", "limit", "policy", "reason", "results", "spec",
        "started", "state", "succeeded", "suspended",
    )

    def __init__(self, state: ExecutionState, batch_id: str, spec: BatchSpec) -> None:
        self.state = state
        self.batch_id = batch_id
        self.spec = spec
        self.policy = _Policy(spec.count, spec.completion)
        self.limit = spec.max_concurrency or spec.count
        self.started = 0  # items are admitted in index order: the started ones are [0, started)
        self.in_flight = 0  # started and unfinished, suspended ones included
        self.suspended = 0
        self.succeeded = 0
        self.failed = 0
        self.results: dict[int, Any] = {}
        self.errors: dict[int, ErrorObject] = {}
        self.reason: CompletionReason | None = self.policy.decide(0, 0, _ItemStatuses(self))

    def admit(self) -> int | None:
        if self.reason is not None or self.started >= self.spec.count or self.in_flight >= self.limit:
            return None
        index = self.started
        self.started += 1
        self.in_flight += 1
        return index

    def start(self, index: int) -> Plan[Any]:
        return item_plan(self.state, self.batch_id, self.spec, index)

    def finish(self, index: int, value: Any, error: BaseException | None) -> bool:
        if error is None:
            self.results[index] = value
            self.succeeded += 1
            self.in_flight -= 1
        elif isinstance(error, SuspendExecution):
            self.suspended += 1  # keeps its slot: it is started and unfinished until a later invocation
        elif _fatal_cause(error) is not None:
            raise error
        else:
            self.errors[index] = error_object(error)
            self.failed += 1
            self.in_flight -= 1
        # Outcomes reported after the decision (async items racing it) are kept but change no reason.
        if self.reason is None:
            self.reason = self.policy.decide(self.succeeded, self.failed, _ItemStatuses(self))
        return self.reason is not None

    def result(self, reason: CompletionReason, late: list[BatchItem[Any]]) -> BatchResult[Any]:
        items: list[BatchItem[Any]] = []
        results, errors = self.results, self.errors
        for i in range(self.started):
            if i in results:
                items.append(BatchItem(i, BatchItemStatus.SUCCEEDED, results[i]))
            elif i in errors:
                items.append(BatchItem(i, BatchItemStatus.FAILED, error=errors[i]))
            else:
                items.append(BatchItem(i, BatchItemStatus.STARTED))
        return BatchResult(items + late, reason)


def item_plan(state: ExecutionState, batch_id: str, spec: BatchSpec, index: int) -> Plan[Any]:
    """Item ``index``: a child context at its fixed id (NESTED) or a virtual one (FLAT)."""
    item_id = branch_id(batch_id, index)
    serdes = spec.item_serdes or spec.serdes
    fn = spec.item_fn(index)
    if spec.nesting is NestingType.NESTED:
        config = ChildConfig(serdes=serdes, sub_type=spec.item_sub_type)
        return child_plan(
            state, Scope(batch_id), fn, spec.item_name(index), config, op_id=item_id, acknowledged=False
        )
    return _flat_item_plan(state, batch_id, item_id, fn, serdes or state.serdes)


def _flat_item_plan(
    state: ExecutionState, batch_id: str, item_id: str, fn: ItemFn, serdes: SerDes
) -> Plan[Any]:
    """A FLAT item: a virtual child context at the item's id, under the batch."""
    value = yield from child_plan(state, Scope(batch_id), fn, None, _VIRTUAL, op_id=item_id)
    # Round-tripped like a NESTED item's result, so both nestings hand the batch the same values.
    return round_trip(serdes, value, item_id, state.arn)[1]


_VIRTUAL = ChildConfig(is_virtual=True)


# -- the batch operation ---------------------------------------------------------------------------------


def batch_plan(
    state: ExecutionState,
    scope: Scope,
    spec: BatchSpec,
    name: str | None,
    fn: Callable[..., Any] | None = None,
) -> Plan[BatchResult[Any]]:
    """The map/parallel operation: replay it, rebuild it, or run (and maybe suspend) its items."""
    name, carried = resolve_name(name, fn)
    op_id = scope.next_id()
    name = replay_name(state, op_id, name, carried, fn)
    parent_id = scope.parent_id
    entry = state.recorded_entry(op_id, OperationType.CONTEXT, spec.sub_type, name, parent_id)
    serdes = _batch_serdes(spec, state)

    update = updater(op_id, parent_id, name, OperationType.CONTEXT, spec.sub_type)

    if entry is not None:
        status = state.status(op_id)
        if status == OperationStatus.FAILED:
            details = state.operations[op_id].context_details
            error = details.error if details else None
            raise operation_error(ChildContextError, error, operation_id=op_id, name=name)
        if status == OperationStatus.SUCCEEDED:
            recorded = detail(entry, "context_details", "result")
            if detail(entry, "context_details", "replay_children"):
                return (yield from _rebuild(state, op_id, spec, recorded))
            if recorded is None:
                raise InvalidInputError(
                    f"{spec.sub_type} operation {op_id!r} is SUCCEEDED but its recorded result is missing"
                )
            result: BatchResult[Any] = deserialize(serdes, recorded, op_id, state.arn)
            return result
    else:
        state.emit(update(OperationAction.START))

    run = _BatchRun(state, op_id, spec)
    try:
        if run.reason is None:
            yield Fork(run.admit, run.start, run.finish, run.limit, state)
        if run.reason is None:
            # Nothing more may start and no criterion is met: some started item waits for the service.
            yield Flush(state)
            raise SuspendExecution(
                f"{spec.sub_type} {name or op_id}: {run.suspended} of {run.started} started items wait"
            )
        # Items a previous invocation started but this one did not reach before the decision (admission
        # is lazy) are reported as their checkpoints have them, not left out.
        late: list[BatchItem[Any]] = []
        while run.started + len(late) < spec.count:
            item = yield from _recorded_item(state, op_id, spec, run.started + len(late))
            if item is None:
                break
            late.append(item)
        result = run.result(run.reason, late)
        payload = serialize(serdes, result, op_id, state.arn)
        options: ContextOptions | None = None
        if len(payload) > MAX_PAYLOAD_BYTES // 4 and len(payload.encode()) > MAX_PAYLOAD_BYTES:
            summary = spec.summary_generator(result) if spec.summary_generator else None
            payload = completion_record(result, spec.result_type, summary)
            from eventflow.events.wire import ContextOptions

            options = ContextOptions(replay_children=True)
        else:
            result = deserialize(serdes, payload, op_id, state.arn)  # the first run sees what replay sees
    except SuspendExecution:
        raise
    except Exception as exc:
        fatal = _fatal_cause(exc)
        if isinstance(fatal, CheckpointError):
            raise fatal from None  # the checkpoint channel is broken: write nothing, let Lambda retry
        error = error_object(fatal or exc, state.official_errors)
        state.emit(update(OperationAction.FAIL, error=error))
        yield Flush(state)
        if fatal is not None:
            raise fatal from None  # non-determinism keeps its own (terminal) type
        raise operation_error(ChildContextError, error, operation_id=op_id, name=name) from exc
    state.emit(update(OperationAction.SUCCEED, payload=payload, context_options=options))
    yield Flush(state)
    return result


# -- large results: the completion record and the rebuild ----------------------------------------------------


def completion_record(result: BatchResult[Any], result_type: str, summary: str | None) -> str:
    """The official SDK's summary payload: enough to rebuild the result exactly from the children.

    ``totalCount`` items were started (the index prefix); of those, the smaller of the started-unfinished
    and the finished index sets is listed.
    """
    started = [item.index for item in result.all if item.status is BatchItemStatus.STARTED]
    completed = [item.index for item in result.all if item.status is not BatchItemStatus.STARTED]
    index_field = (
        {"startedIndexes": started} if len(started) <= len(completed) else {"completedIndexes": completed}
    )
    fields: dict[str, Any] = {
        "type": result_type,
        "totalCount": result.total_count,
        "completionReason": result.completion_reason.value,
        **index_field,
        "startedCount": len(started),
        "successCount": result.success_count,
        "failureCount": result.failure_count,
        "status": result.status.value,
    }
    if summary is not None:
        fields["summary"] = summary
    return json.dumps(fields)


@dataclass(frozen=True, slots=True)
class _Record:
    reason: CompletionReason
    started_total: int
    started: frozenset[int]


def _parse_record(payload: str | None) -> _Record | None:
    """The completion record in a summary payload; None when there is none (older or custom summaries)."""
    try:
        data = json.loads(payload or "")
        reason = CompletionReason(data["completionReason"])
        total = data["totalCount"]
        if not isinstance(total, int) or isinstance(total, bool) or total < 0:
            return None
        if isinstance(data.get("startedIndexes"), list):
            started = frozenset(int(i) for i in data["startedIndexes"])
        elif isinstance(data.get("completedIndexes"), list):
            started = frozenset(range(total)) - frozenset(int(i) for i in data["completedIndexes"])
        else:
            return None
    except (ValueError, TypeError, KeyError):
        return None
    return _Record(reason, total, started)


def _rebuild(
    state: ExecutionState, batch_id: str, spec: BatchSpec, payload: str | None
) -> Plan[BatchResult[Any]]:
    """Rebuild a summarised result from the items' own checkpoints, running no item anew.

    With a completion record the result is the recorded one exactly; without one (a summary written
    before the official SDK had records) every item is derived from its checkpoint.
    """
    record = _parse_record(payload)
    count = min(record.started_total, spec.count) if record else spec.count
    started = record.started if record else frozenset()
    items: list[BatchItem[Any]] = []
    for i in range(count):
        if i in started:
            items.append(BatchItem(i, BatchItemStatus.STARTED))
            continue
        if spec.nesting is NestingType.FLAT:
            try:
                value = yield from item_plan(state, batch_id, spec, i)
            except SuspendExecution:
                raise
            except Exception as exc:
                if _fatal_cause(exc) is not None:
                    raise
                items.append(BatchItem(i, BatchItemStatus.FAILED, error=error_object(exc)))
            else:
                items.append(BatchItem(i, BatchItemStatus.SUCCEEDED, value))
            continue
        item = yield from _recorded_item(state, batch_id, spec, i)
        if record is not None and (item is None or item.status is BatchItemStatus.STARTED):
            raise NonDeterministicExecutionError(
                op_id=branch_id(batch_id, i),
                recorded={"status": item.status.value if item is not None else None},
                requested={"status": "a finished item, as the batch's completion record says"},
            )
        items.append(item or BatchItem(i, BatchItemStatus.STARTED))
    if record is not None:
        return BatchResult(items, record.reason)
    succeeded = sum(1 for item in items if item.status is BatchItemStatus.SUCCEEDED)
    failed = sum(1 for item in items if item.status is BatchItemStatus.FAILED)
    policy = _Policy(len(items), spec.completion)
    if spec.completion.should_complete is not None:  # a summary without a record: ask the rule again
        statuses = [CompletionItemStatus(i.index, spec.item_name(i.index), i.status) for i in items]
        reason = policy.decide(succeeded, failed, statuses) or CompletionReason.ALL_COMPLETED
        return BatchResult(items, reason)
    return BatchResult(items, policy.reason(succeeded, failed))


def _recorded_item(
    state: ExecutionState, batch_id: str, spec: BatchSpec, index: int
) -> Plan[BatchItem[Any] | None]:
    """A NESTED item as its own checkpoint has it, running no user code; None if it never started.

    A FLAT item has no checkpoint of its own: it is STARTED if its first operation is recorded.
    """
    item_id = branch_id(batch_id, index)
    if spec.nesting is NestingType.FLAT:
        return BatchItem(index, BatchItemStatus.STARTED) if child_id(item_id, 1) in state.operations else None
    entry = state.recorded_entry(
        item_id, OperationType.CONTEXT, spec.item_sub_type, spec.item_name(index), batch_id
    )
    if entry is None:
        return None
    status = state.status(item_id)
    if status == OperationStatus.SUCCEEDED:
        value = yield from item_plan(state, batch_id, spec, index)  # the recorded result, or its children's
        return BatchItem(index, BatchItemStatus.SUCCEEDED, value)
    if status == OperationStatus.FAILED:
        details = state.operations[item_id].context_details
        return BatchItem(index, BatchItemStatus.FAILED, error=details.error if details else None)
    return BatchItem(index, BatchItemStatus.STARTED)


# -- the BatchResult's default serdes ---------------------------------------------------------------------


class BatchResultSerDes:
    """Plain JSON of `BatchResult.to_dict()`; reads the official SDK's envelope (``{"t":"br",...}``) too.

    Item results are written as they are (JSON): items of other types need a batch ``serdes``, or the
    handler-wide `EnvelopeSerDes`, which the batch then uses as well.
    """

    def serialize(self, value: Any, context: SerDesContext) -> str:
        return json.dumps(value.to_dict(), separators=(",", ":"), ensure_ascii=False, allow_nan=False)

    def deserialize(self, data: str, context: SerDesContext) -> Any:
        raw = json.loads(data)
        if isinstance(raw, dict) and raw.get("t") == "br" and "v" in raw:
            return _ENVELOPE.decode("br", raw["v"])
        return BatchResult.from_dict(raw)


BATCH_RESULT_SERDES = BatchResultSerDes()
_ENVELOPE = EnvelopeSerDes(BatchResult)


def _batch_serdes(spec: BatchSpec, state: ExecutionState) -> SerDes:
    """The configured serdes; else the handler-wide one if it knows batch results (the envelope);
    else plain JSON. A plain-JSON handler default cannot write a `BatchResult` object."""
    if spec.serdes is not None:
        return spec.serdes
    if isinstance(state.serdes, EnvelopeSerDes):
        return state.serdes
    return BATCH_RESULT_SERDES


__all__ = [
    "BATCH_RESULT_SERDES",
    "BatchResultSerDes",
    "BatchSpec",
    "batch_plan",
    "completion_record",
    "item_plan",
    "map_spec",
    "parallel_spec",
]
