"""Where the local service keeps executions: the `Store` protocol, `ChangeSet`, and `MemoryStore`.

The engine works on in-memory `LocalExecution` records and, at the end of every service step (a
checkpoint, an invocation's end, a timer firing, a callback answer, a stop), hands the store a `ChangeSet`
of exactly what that step touched. The store writes a change set atomically (SQLite: one transaction), so
an acknowledged checkpoint is never lost and a half-applied one is never visible. Writing only what
changed keeps each step O(size of the step), however long the execution already is.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from eventflow.events.wire import Operation
from eventflow.local.history import HistoryItem
from eventflow.local.model import CallbackRecord, ExecutionSummary, InvokeRecord, LocalExecution, summary_of


class ChangeSet:
    """What one service step changed, in the order it changed it."""

    __slots__ = ("callbacks", "events", "executions", "invokes", "operations")

    def __init__(self) -> None:
        self.executions: dict[str, LocalExecution] = {}
        self.operations: dict[tuple[str, str], tuple[int, Operation]] = {}
        self.events: list[tuple[str, HistoryItem]] = []
        self.callbacks: dict[str, CallbackRecord] = {}
        self.invokes: dict[tuple[str, str], InvokeRecord] = {}

    def __bool__(self) -> bool:
        return bool(self.executions)


class Store(Protocol):
    """Durable storage of executions. Every method is called with the service's lock held."""

    def commit(self, changes: ChangeSet) -> None:
        """Write ``changes`` all at once, or raise and write nothing."""
        ...

    def load(self, arn: str) -> LocalExecution | None:
        """The execution with every operation, event, callback and invoke, or None."""
        ...

    def running(self) -> list[str]:
        """ARNs of the executions still RUNNING (to resume after a restart), oldest first."""
        ...

    def find_callback(self, callback_id: str) -> str | None:
        """The ARN of the execution a callback id belongs to."""
        ...

    def find_by_name(self, function_name: str, name: str) -> str | None:
        """The ARN of the function's execution with this DurableExecutionName."""
        ...

    def list_executions(self, function_name: str | None = None) -> list[ExecutionSummary]:
        """Summaries of the function's executions (all functions when None), oldest first."""
        ...

    def delete(self, *arns: str) -> None:
        """Forget the executions with every operation, event, callback and invoke of theirs, at once."""
        ...

    def expired(self, now: datetime) -> list[str]:
        """ARNs of the ended executions whose retention ended by ``now``."""
        ...

    def next_expiry(self) -> datetime | None:
        """The earliest end of retention of an ended execution still stored."""
        ...

    def close(self) -> None:
        """Release the store (a file, a connection); nothing more may be read or written."""


class MemoryStore:
    """Keeps the engine's own records: nothing is copied, nothing survives the process."""

    def __init__(self) -> None:
        self._executions: dict[str, LocalExecution] = {}
        self._by_name: dict[tuple[str, str], str] = {}
        self._callbacks: dict[str, str] = {}
        self._expiries: list[tuple[datetime, str]] = []  # heap; entries of deleted executions are skipped
        self._expiring: set[str] = set()

    def commit(self, changes: ChangeSet) -> None:
        """Keep a step's changes; the same as `Store.commit`."""
        for arn, execution in changes.executions.items():
            if arn not in self._executions:
                self._executions[arn] = execution
                self._by_name[execution.function_name, execution.name] = arn
            expires = execution.expires_at
            if expires is not None and arn not in self._expiring:
                self._expiring.add(arn)
                heapq.heappush(self._expiries, (expires, arn))
        for callback_id, record in changes.callbacks.items():
            self._callbacks[callback_id] = record.arn

    def load(self, arn: str) -> LocalExecution | None:
        """The execution with this ARN, or None."""
        return self._executions.get(arn)

    def running(self) -> list[str]:
        """The ARNs of the executions still running."""
        return [arn for arn, execution in self._executions.items() if execution.running]

    def find_callback(self, callback_id: str) -> str | None:
        """The ARN of the execution that owns this callback id, or None."""
        return self._callbacks.get(callback_id)

    def find_by_name(self, function_name: str, name: str) -> str | None:
        """The ARN of the function's execution started with this DurableExecutionName, or None."""
        return self._by_name.get((function_name, name))

    def list_executions(self, function_name: str | None = None) -> list[ExecutionSummary]:
        """Every execution (of one function, if named), as summaries."""
        executions: Iterable[LocalExecution] = self._executions.values()
        return [
            summary_of(e) for e in executions if function_name is None or e.function_name == function_name
        ]

    def delete(self, *arns: str) -> None:
        """Forget the executions and their callbacks at once; the same as `Store.delete`."""
        for arn in arns:
            execution = self._executions.pop(arn, None)
            if execution is None:
                continue
            self._by_name.pop((execution.function_name, execution.name), None)
            for callback_id in execution.callbacks:
                self._callbacks.pop(callback_id, None)
            self._expiring.discard(arn)

    def expired(self, now: datetime) -> list[str]:
        """ARNs of the ended executions whose retention ended by ``now``; the same as `Store.expired`."""
        found: list[str] = []
        while self._expiries and self._expiries[0][0] <= now:
            _, arn = heapq.heappop(self._expiries)
            if arn in self._expiring:
                self._expiring.discard(arn)
                found.append(arn)
        return found

    def next_expiry(self) -> datetime | None:
        """The earliest end of retention still stored; the same as `Store.next_expiry`."""
        self._drop_deleted()
        return self._expiries[0][0] if self._expiries else None

    def _drop_deleted(self) -> None:
        while self._expiries and self._expiries[0][1] not in self._expiring:
            heapq.heappop(self._expiries)

    def close(self) -> None:
        """Nothing to release: the memory goes with the object."""
        pass
