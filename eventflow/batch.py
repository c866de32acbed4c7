"""`map` and `parallel`: their options and the `BatchResult` they return.

The semantics follow the official Python SDK (3.0.0) so that a handler ported from it behaves the same
and histories it wrote replay here:

* Completion: a batch ends when every started item finished, when ``min_successful`` items succeeded, or
  when the failures exceed the tolerance. With no criterion at all, one failure exceeds it (fail fast).
  `map` defaults to ``CompletionConfig()`` and `parallel` to ``CompletionConfig.all_successful()``: both
  fail fast. The tolerated percentage is taken of the total item count and must be *exceeded*.
* Items start in index order. Items never started (early completion) are absent from the result; items
  started but unfinished are reported ``STARTED``.
* A failed item does not raise: the batch returns normally and ``throw_if_error()`` raises the first
  item failure as a `ChildContextError` carrying the item's original error type.

``max_concurrency`` bounds the items started and not finished, a suspended item (a wait, callback,
invoke or retry in it) keeping its slot, across invocations: new items start only when earlier ones
finish (upstream bounded only threads until its issue #279). Where the official SDK holds a thread per
running item and resumes timed waits inside the invocation, eventflow runs sync items one after another
in the calling thread and async items as tasks, and suspends the invocation when nothing more can start.
``map([])`` returns an empty result at once (upstream hung on it, #323).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from eventflow.errors import BatchCompletionError, ChildContextError, InvalidInputError
from eventflow.serdes import SerDes

if TYPE_CHECKING:
    from eventflow.events.wire import ErrorObject

T = TypeVar("T")
R = TypeVar("R")


class NestingType(StrEnum):
    """How map items / parallel branches appear in the history.

    NESTED: each item is a CONTEXT (MapIteration / ParallelBranch) under the batch's CONTEXT, its own
    operations under it. FLAT: no per-item CONTEXT; the item's operations hang directly under the batch
    CONTEXT (ParentId) while their ids still derive from the item's id, so the ids are the same as in
    NESTED. FLAT costs one operation less per item; a FAILED item then leaves no trace of its own.
    """

    NESTED = "NESTED"
    FLAT = "FLAT"


class CompletionOutcome(StrEnum):
    """How a batch that `should_complete` ends counts: SUCCEEDED or FAILED as a whole."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class CompletionDecision:
    """What ``should_complete`` answers: go on (``complete=False``), or end now with an ``outcome``."""

    complete: bool
    outcome: CompletionOutcome | None = None

    def __post_init__(self) -> None:
        if self.complete and self.outcome is None:
            raise InvalidInputError("a decision to complete the batch needs an outcome")
        if not self.complete and self.outcome is not None:
            raise InvalidInputError("a decision to continue the batch has no outcome")


def continue_batch() -> CompletionDecision:
    """``should_complete``'s answer to go on."""
    return CompletionDecision(False)


def complete_batch(outcome: CompletionOutcome = CompletionOutcome.SUCCEEDED) -> CompletionDecision:
    """``should_complete``'s answer to end the batch now, as a success (default) or a failure."""
    return CompletionDecision(True, CompletionOutcome(outcome))


@dataclass(frozen=True, slots=True)
class CompletionItemStatus:
    """One item as ``should_complete`` sees it: its index, name, and status (None: not started yet)."""

    index: int
    name: str | None = None
    status: BatchItemStatus | None = None


@dataclass(frozen=True, slots=True)
class CompletionStatus:
    """The progress of a batch, handed to ``should_complete``. ``items[i]`` is item ``i`` whatever order
    items finished in; it reads the batch as it is during the call (keep what you need, not the view)."""

    success_count: int
    failure_count: int
    completed_count: int
    total_count: int
    items: Sequence[CompletionItemStatus] = ()


@dataclass(frozen=True, slots=True)
class CompletionConfig:
    """When a batch is done. ``None`` everywhere means fail fast (the first failure ends the batch).

    ``should_complete(status) -> CompletionDecision`` replaces the thresholds with a rule of your own (and
    cannot be combined with them): it is asked once before any item starts and again each time an item
    finishes or suspends, with a `CompletionStatus`, and answers `continue_batch()` or
    `complete_batch(outcome)`. A batch it completes ends CUSTOM_COMPLETION_SUCCEEDED or
    CUSTOM_COMPLETION_FAILED (then ``throw_if_error()`` raises `BatchCompletionError` even if no item
    failed); a batch whose items all finish first ends ALL_COMPLETED. It must be deterministic and
    monotonic (once some progress completes the batch, more progress must too): a replay that re-runs the
    batch may show it the finished items in another order; a batch already recorded as ended is replayed
    without asking it again.
    """

    min_successful: int | None = None
    tolerated_failure_count: int | None = None
    tolerated_failure_percentage: float | None = None
    should_complete: Callable[[CompletionStatus], CompletionDecision] | None = None

    def __post_init__(self) -> None:
        if self.should_complete is not None:
            if not callable(self.should_complete):
                raise InvalidInputError("should_complete must be callable")
            if (
                self.min_successful is not None
                or self.tolerated_failure_count is not None
                or self.tolerated_failure_percentage is not None
            ):
                raise InvalidInputError(
                    "should_complete decides alone: it cannot be combined with min_successful, "
                    "tolerated_failure_count or tolerated_failure_percentage"
                )
        if self.min_successful is not None and self.min_successful < 1:
            raise InvalidInputError(f"min_successful must be at least 1, got {self.min_successful}")
        if self.tolerated_failure_count is not None and self.tolerated_failure_count < 0:
            raise InvalidInputError(
                f"tolerated_failure_count must not be negative, got {self.tolerated_failure_count}"
            )
        pct = self.tolerated_failure_percentage
        if pct is not None and not 0 <= pct <= 100:
            raise InvalidInputError(f"tolerated_failure_percentage must be within 0..100, got {pct}")

    @staticmethod
    def all_successful() -> CompletionConfig:
        """Every item must succeed: stop at the first failure (parallel's default)."""
        return CompletionConfig(tolerated_failure_count=0, tolerated_failure_percentage=0)

    @staticmethod
    def all_completed() -> CompletionConfig:
        """Run every item whatever fails (100 % tolerated; all-``None`` would mean fail fast)."""
        return CompletionConfig(tolerated_failure_percentage=100)

    @staticmethod
    def first_successful() -> CompletionConfig:
        """Stop at the first success; failures before it are tolerated."""
        return CompletionConfig(min_successful=1)


def _check_max_concurrency(value: int | None) -> None:
    if value is not None and value < 1:
        raise InvalidInputError(f"max_concurrency must be at least 1 (or None for no limit), got {value}")


@dataclass(frozen=True, slots=True)
class MapConfig(Generic[T]):
    """Options of `map`.

    ``serdes`` writes the whole `BatchResult` (default: plain JSON of ``to_dict()``); ``item_serdes``
    each item's result (default: ``serdes`` if given, as the official SDK does, else JSON).
    ``summary_generator`` adds a ``summary`` field to the record checkpointed in place of a result over
    256 KiB. ``item_namer(item, index)`` names the per-item CONTEXTs (default ``map-item-{index}``); it
    must be deterministic.
    """

    max_concurrency: int | None = None
    completion_config: CompletionConfig = field(default_factory=CompletionConfig)
    serdes: SerDes | None = None
    item_serdes: SerDes | None = None
    summary_generator: Callable[[BatchResult[Any]], str] | None = None
    nesting_type: NestingType = NestingType.NESTED
    item_namer: Callable[[T, int], str] | None = None

    def __post_init__(self) -> None:
        _check_max_concurrency(self.max_concurrency)


@dataclass(frozen=True, slots=True)
class ParallelConfig:
    """Options of `parallel`; as `MapConfig`, but fail-fast via ``all_successful()`` by default."""

    max_concurrency: int | None = None
    completion_config: CompletionConfig = field(default_factory=CompletionConfig.all_successful)
    serdes: SerDes | None = None
    item_serdes: SerDes | None = None
    summary_generator: Callable[[BatchResult[Any]], str] | None = None
    nesting_type: NestingType = NestingType.NESTED

    def __post_init__(self) -> None:
        _check_max_concurrency(self.max_concurrency)


@dataclass(frozen=True, slots=True)
class ParallelBranch(Generic[T]):
    """A named branch of `parallel`: its CONTEXT is called ``name`` instead of ``parallel-branch-{i}``."""

    fn: Callable[[Any], T]
    name: str | None = None


class BatchItemStatus(StrEnum):
    """How one map item or parallel branch ended: SUCCEEDED, FAILED, or STARTED (never finished)."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    STARTED = "STARTED"


class CompletionReason(StrEnum):
    """Why a batch ended. The CUSTOM_* reasons are a ``should_complete`` decision's
    (`CompletionConfig`)."""

    ALL_COMPLETED = "ALL_COMPLETED"
    MIN_SUCCESSFUL_REACHED = "MIN_SUCCESSFUL_REACHED"
    FAILURE_TOLERANCE_EXCEEDED = "FAILURE_TOLERANCE_EXCEEDED"
    CUSTOM_COMPLETION_SUCCEEDED = "CUSTOM_COMPLETION_SUCCEEDED"
    CUSTOM_COMPLETION_FAILED = "CUSTOM_COMPLETION_FAILED"


@dataclass(frozen=True, slots=True)
class BatchItem(Generic[R]):
    """One item of a batch: its input position, what became of it, and its result or error."""

    index: int
    status: BatchItemStatus
    result: R | None = None
    error: ErrorObject | None = None

    def to_dict(self) -> dict[str, Any]:
        """The official SDK's item shape (``error`` as the wire ErrorObject dict)."""
        return {
            "index": self.index,
            "status": self.status.value,
            "result": self.result,
            "error": self.error.to_wire() if self.error is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BatchItem[Any]:
        """Rebuild an item from `to_dict`'s output (as read back from a checkpoint)."""
        error = data.get("error")
        if error:
            from eventflow.events.wire import ErrorObject
        return cls(
            index=int(data["index"]),
            status=BatchItemStatus(data["status"]),
            result=data.get("result"),
            error=ErrorObject.from_wire(error) if error else None,
        )


@dataclass(frozen=True, slots=True)
class BatchResult(Generic[R]):
    """What `map` and `parallel` return: every started item in input order, and why the batch ended."""

    all: list[BatchItem[R]]
    completion_reason: CompletionReason

    def succeeded(self) -> list[BatchItem[R]]:
        """The items that succeeded, in index order."""
        return [item for item in self.all if item.status is BatchItemStatus.SUCCEEDED]

    def failed(self) -> list[BatchItem[R]]:
        """The items that failed, in index order."""
        return [item for item in self.all if item.status is BatchItemStatus.FAILED]

    def started(self) -> list[BatchItem[R]]:
        """Items started but unfinished when the batch ended (they keep running in the history)."""
        return [item for item in self.all if item.status is BatchItemStatus.STARTED]

    def get_results(self) -> list[R]:
        """The results of the successful items, in input order."""
        return [item.result for item in self.all if item.status is BatchItemStatus.SUCCEEDED]  # type: ignore[misc]

    def get_errors(self) -> list[ErrorObject | None]:
        """The errors of the failed items, in input order."""
        return [item.error for item in self.all if item.status is BatchItemStatus.FAILED]

    @property
    def success_count(self) -> int:
        return sum(1 for item in self.all if item.status is BatchItemStatus.SUCCEEDED)

    @property
    def failure_count(self) -> int:
        return sum(1 for item in self.all if item.status is BatchItemStatus.FAILED)

    @property
    def started_count(self) -> int:
        """Deprecated: nothing in eventflow reads it; count ``all`` items with status STARTED instead."""
        warnings.warn(
            "BatchResult.started_count is deprecated and will be removed; count the items of `all` whose "
            "status is BatchItemStatus.STARTED",
            DeprecationWarning,
            stacklevel=2,
        )
        return sum(1 for item in self.all if item.status is BatchItemStatus.STARTED)

    @property
    def total_count(self) -> int:
        """Items started (finished or not); items an early completion never started are not counted."""
        return len(self.all)

    @property
    def has_failure(self) -> bool:
        return any(item.status is BatchItemStatus.FAILED for item in self.all)

    @property
    def status(self) -> BatchItemStatus:
        """FAILED if any item failed (or a recorded custom decision said so), else SUCCEEDED."""
        if self.completion_reason is CompletionReason.CUSTOM_COMPLETION_FAILED:
            return BatchItemStatus.FAILED
        if self.completion_reason is CompletionReason.CUSTOM_COMPLETION_SUCCEEDED:
            return BatchItemStatus.SUCCEEDED
        return BatchItemStatus.FAILED if self.has_failure else BatchItemStatus.SUCCEEDED

    def throw_if_error(self) -> None:
        """Raise the first item failure as a `ChildContextError` (its ``error_type`` is the original's)."""
        for item in self.all:
            if item.status is BatchItemStatus.FAILED:
                if item.error is None:
                    raise ChildContextError(f"batch item {item.index} failed without an error")
                error = item.error
                raise ChildContextError(
                    error.error_message or f"batch item {item.index} failed",
                    error_type=error.error_type,
                    error_data=error.error_data,
                    stack_trace=list(error.stack_trace) if error.stack_trace else None,
                )
        if self.completion_reason is CompletionReason.CUSTOM_COMPLETION_FAILED:
            raise BatchCompletionError(f"the batch completed as failed ({self.completion_reason.value})")

    def to_dict(self) -> dict[str, Any]:
        """The official SDK's BatchResult shape: ``{"all": [...], "completionReason": ...}``."""
        return {
            "all": [item.to_dict() for item in self.all],
            "completionReason": self.completion_reason.value,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BatchResult[Any]:
        """Rebuild a result from `to_dict`'s output (as read back from a checkpoint)."""
        reason = data.get("completionReason")
        items = [BatchItem.from_dict(item) for item in data.get("all", ())]
        if reason is None:  # written without one: infer it the way the official SDK does
            failed = sum(1 for item in items if item.status is BatchItemStatus.FAILED)
            reason = (
                CompletionReason.FAILURE_TOLERANCE_EXCEEDED if failed else CompletionReason.ALL_COMPLETED
            )
        return cls(items, CompletionReason(reason))


__all__ = [
    "BatchItem",
    "BatchItemStatus",
    "BatchResult",
    "CompletionConfig",
    "CompletionDecision",
    "CompletionItemStatus",
    "CompletionOutcome",
    "CompletionReason",
    "CompletionStatus",
    "MapConfig",
    "NestingType",
    "ParallelBranch",
    "ParallelConfig",
    "complete_batch",
    "continue_batch",
]
