"""`ServiceState`: what every part of the local service shares, and the bookkeeping of one service step.

The service is split by job (starting and ending executions, checkpoints, waits, callbacks, chained
invokes, invocations, timers, the run loop); all of them read and change the same executions under one lock.
This module holds that shared state and the few primitives every part uses to change it, so that each
change is recorded the same way: an operation is indexed and staged for the store (`put`), a history event
gets the next dense EventId (`append`), a service trigger moves an operation through its state machine
(`transition`), an execution with news is queued for an invocation (`mark_ready`), and at the end of the
step the staged `ChangeSet` goes to the store in one piece (`commit`).

Memory: ``executions`` holds the executions that can still change (RUNNING, or with an invocation in
flight); an execution that has ended leaves it at the commit that stores its end (`commit`), and is read
back from the store when asked for (`get`, which does not keep it). So a long-running service holds what is
running, not everything it ever ran.

Threads: ``lock`` is re-entrant and guards everything here; ``cond`` (on the same lock) is notified after
every change, so a run loop or a `wait_for` blocked on it wakes up. Handlers run outside the lock.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from eventflow.backends.base import StatePage
from eventflow.events.enums import TERMINAL_STATUSES
from eventflow.events.history import Event
from eventflow.events.wire import Operation
from eventflow.local import history
from eventflow.local.clock import Clock
from eventflow.local.errors import (
    ExecutionNotFoundError,
    FunctionNotFoundError,
    InvalidParameterValueError,
)
from eventflow.local.functions import Handler, RegisteredFunction
from eventflow.local.history import EventRecord
from eventflow.local.model import LocalExecution
from eventflow.local.store import ChangeSet, Store
from eventflow.local.timers import TimerQueue
from eventflow.local.work import INVOKE, WorkItem, WorkQueue, invocation
from eventflow.machine.table import next_state

EventListener = Callable[[str, Event], None]
"""``on_event(arn, event)``: called for every history event as it is appended, under the lock."""

Readopt = Callable[["ServiceState", LocalExecution], None]
"""Re-arms what an execution reloaded from the store waits for (`recovery.adopt`)."""


class ServiceState:
    """The executions, functions, timers and queued work of one service, and the step primitives."""

    def __init__(
        self,
        clock: Clock,
        store: Store,
        page_size: int,
        on_event: EventListener | None,
        readopt: Readopt,
    ) -> None:
        self.clock = clock
        self.store = store
        self.page_size = page_size  # operations per GetDurableExecutionState page
        self.on_event = on_event
        self.registry: dict[str, RegisteredFunction] = {}
        self.functions: dict[str, Handler] = {}  # name -> handler, as registered
        self.executions: dict[str, LocalExecution] = {}  # executions that can still change, by ARN
        self.timers = TimerQueue()
        self.work = WorkQueue()
        self.inflight: set[str] = set()  # ARNs whose handler is running now
        self.callback_arns: dict[str, str] = {}  # callback id -> execution ARN
        self.changes = ChangeSet()  # what the current step changed, for the store
        self.generation = 0  # counts committed steps: a reader can wait for the next one (`wait_for_change`)
        self.next_expiry: datetime | None = None  # the earliest end of retention (`retention.py`)
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self._readopt = readopt

    # -- lookups ----------------------------------------------------------------------------------

    def get(self, arn: str) -> LocalExecution:
        """The execution with this ARN (loaded from the store if need be; one that has ended is read from
        the store each time and not kept in memory)."""
        with self.lock:
            execution = self.executions.get(arn)
            if execution is None:
                execution = self.store.load(arn)
                if execution is None:
                    raise ExecutionNotFoundError(f"no durable execution with ARN {arn!r}")
                if execution.running:
                    self.executions[arn] = execution
            return execution

    def function(self, function_name: str) -> RegisteredFunction:
        try:
            return self.registry[function_name]
        except KeyError:
            raise FunctionNotFoundError(f"no function named {function_name!r} is registered") from None

    def page(self, execution: LocalExecution, start: int, max_items: int | None = None) -> StatePage:
        """Operations in creation order from position ``start``, one page of them."""
        end = start + (max_items or self.page_size)
        ids = execution.op_order[start:end]
        ops = [execution.operations[op_id] for op_id in ids]
        return StatePage(ops, str(end) if end < len(execution.op_order) else None)

    # -- changing state within a step -------------------------------------------------------------

    def touch(self, execution: LocalExecution) -> None:
        """Stage the execution's record for the store."""
        self.changes.executions[execution.arn] = execution

    def put(self, execution: LocalExecution, op: Operation) -> None:
        """Record ``op`` (new or changed) in the execution and stage it for the store."""
        key = (execution.arn, op.id)
        staged = self.changes.operations.get(key)
        # A new operation's position in creation order; -1 (kept by the store) for a known one.
        seq = len(execution.op_order) if op.id not in execution.operations else staged[0] if staged else -1
        execution.index(op)
        self.changes.operations[key] = (seq, op)
        self.touch(execution)

    def append(self, execution: LocalExecution, build: Callable[[int], EventRecord | None]) -> None:
        """Append the event ``build(event_id)`` returns (if any) to the execution's history."""
        event = build(len(execution.events) + 1)
        if event is not None:
            execution.events.append(event)
            if self.on_event is not None:
                self.on_event(execution.arn, history.to_event(event))
            self.changes.events.append((execution.arn, event))
            self.touch(execution)

    def transition(self, execution: LocalExecution, op: Operation, trigger: str, **changes: Any) -> Operation:
        """Move ``op`` by a service trigger; the checkpoint after this returns it as changed."""
        status = next_state(op.type, op.status, trigger, op_id=op.id)
        now = self.clock.now()
        updated = op.model_copy(
            update={
                "status": status,
                "end_timestamp": now if status in TERMINAL_STATUSES else None,
                **changes,
            }
        )
        self.put(execution, updated)
        execution.changed[op.id] = None
        return updated

    def note_expiry(self, execution: LocalExecution) -> None:
        """An execution ended: keep `next_expiry` the earliest end of retention the service knows of."""
        expires = execution.expires_at
        if expires is not None and (self.next_expiry is None or expires < self.next_expiry):
            self.next_expiry = expires

    @staticmethod
    def new_token(execution: LocalExecution) -> str:
        """A fresh checkpoint token for the execution (the previous one stops being accepted)."""
        execution.token_serial += 1
        return f"{execution.token_serial}.{secrets.token_urlsafe(12)}"

    # -- queueing work ----------------------------------------------------------------------------

    def enqueue(self, item: WorkItem) -> None:
        """Queue a handler run, or park it while its function is not registered."""
        kind, arn, ref = item
        execution = self.executions[arn]
        function_name = execution.function_name if kind == INVOKE else execution.invokes[ref].function_name
        if function_name in self.functions:
            self.work.add(item)
        else:
            self.work.park(function_name, item)

    def queue_invocation(self, arn: str) -> None:
        self.enqueue(invocation(arn))

    def unqueue_invocation(self, arn: str) -> None:
        self.work.discard(invocation(arn))

    def mark_ready(self, execution: LocalExecution) -> None:
        """Something happened that the handler has not seen: invoke it (once the running one returns)."""
        execution.ready = True
        self.touch(execution)
        if execution.runnable and execution.arn not in self.inflight:
            self.queue_invocation(execution.arn)

    # -- ending a step ----------------------------------------------------------------------------

    def commit(self) -> None:
        """Hand this step's changes to the store. If the store refuses them, the executions they touched are
        reloaded from the store, so memory never runs ahead of what is stored."""
        changes, self.changes = self.changes, ChangeSet()
        if not changes:
            return
        self.generation += 1
        self.cond.notify_all()  # a worker or a `wait_for` may be waiting for exactly this change
        try:
            self.store.commit(changes)
            for arn, execution in changes.executions.items():
                if not execution.running and arn not in self.inflight:
                    self.executions.pop(arn, None)  # ended and stored: read back from the store if asked
        except Exception:
            for callback_id in changes.callbacks:  # re-indexed below if the store has them open
                self.callback_arns.pop(callback_id, None)
            for arn in changes.executions:
                self.executions.pop(arn, None)
                self.unqueue_invocation(arn)
                if self.store.load(arn) is not None:
                    self._readopt(self, self.get(arn))
            raise


def page_start(marker: str | None, refuse: Callable[[str], Exception] = InvalidParameterValueError) -> int:
    """The position a page marker stands for (the markers this service hands out are positions); a marker
    that is not one (not a whole number, or negative) raises ``refuse(message)``."""
    try:
        start = int(marker or 0)
    except ValueError:
        start = -1
    if start < 0:
        raise refuse(f"invalid marker {marker!r}")
    return start
