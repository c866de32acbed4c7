"""Everything one invocation knows about its execution, folded from the event log. No I/O.

`ExecutionState` is loaded with the service's operation snapshots, answers "what is recorded at this
id?" for replay (checking that the code still asks for the same operation), moves each operation
through its state machine as updates are emitted, and hands the pending updates out in legal batches.
A front-end sends those batches and feeds the service's answer back through `acknowledge`.

Threads may share one state (the sync front-end runs map and parallel items on a pool): ``mutex`` guards
every fold and emit, so an answer being applied and an update being emitted never interleave; a driver
holds it around the scheduler's calls too (``checkpoints``, `eventflow.core.scheduler`), and waits on
``lock``, a condition over the same mutex.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from eventflow.core.names import position_label
from eventflow.core.operation_table import Entry, OperationTable, detail
from eventflow.core.scheduler import CheckpointScheduler
from eventflow.errors import InvalidInputError, NonDeterministicExecutionError, UnexpectedStatusError
from eventflow.events.emitted import AnyUpdate, as_update
from eventflow.events.enums import TERMINAL_STATUSES, OperationType
from eventflow.events.log import EventLog
from eventflow.machine.rules import WAITING_ON_SERVICE
from eventflow.machine.table import FLAT_TRANSITIONS, NEW, next_state, reachable
from eventflow.serdes import DEFAULT_SERDES, SerDes

if TYPE_CHECKING:
    from eventflow.core.observer import ExecutionObserver, Logging
    from eventflow.events.wire import Operation

_EXECUTION = OperationType.EXECUTION


class ExecutionState:
    """The folded state of one durable execution during one invocation."""

    __slots__ = (
        "_status",
        "_types",
        "arn",
        "checkpoints",
        "execution_id",
        "hooks",
        "lock",
        "log",
        "log_settings",
        "mutex",
        "official_errors",
        "operations",
        "replaying",
        "serdes",
        "token",
    )

    def __init__(
        self, arn: str, token: str, operations: Iterable[Entry], *, keep_log: bool = False
    ) -> None:
        self.arn = arn
        # The event log retains every snapshot and update of the invocation: what an audit or a test
        # wants, and what a production handler should not pay for in memory and garbage collection.
        self.log: EventLog | None = EventLog() if keep_log else None
        self.operations = OperationTable()
        self._status: dict[str, str] = {}
        self._types: dict[str, OperationType] = {}
        # One plain lock for fold and emit (``with state.mutex``: a C-level enter and exit, twice per
        # step), and a condition over it for the drivers' waits (``state.lock.wait()``/``notify_all()``).
        self.mutex = threading.Lock()
        self.lock = threading.Condition(self.mutex)
        self.checkpoints = CheckpointScheduler()
        self.token = token
        self._load(operations)
        # The service lists the EXECUTION operation first, so this stops at once.
        execution_id = next((op_id for op_id, kind in self._types.items() if kind == _EXECUTION), None)
        if execution_id is None:
            raise InvalidInputError("the execution state holds no EXECUTION operation")
        self.execution_id: str = execution_id
        # Replaying while recorded work lies ahead; the plans clear it at the first new operation.
        self.replaying = len(self.operations) > 1
        # Per-handler options, set by the invocation plan. ``None`` hooks keep the per-operation cost of
        # plugins at one attribute test; ``serdes`` is the default for operations that name none.
        self.hooks: ExecutionObserver | None = None
        self.log_settings: Logging | None = None
        self.serdes: SerDes = DEFAULT_SERDES
        # Record the official SDK's ErrorType names (``error_types="official"``); read only on failure.
        self.official_errors = False

    @property
    def execution(self) -> Operation:
        """The EXECUTION operation (its model is built on first read: an invocation rarely needs it)."""
        return self.operations[self.execution_id]

    def input_payload(self) -> str | None:
        """The user's event as the execution recorded it (`ExecutionDetails.InputPayload`)."""
        entry = self.operations.entries[self.execution_id]
        payload: str | None = detail(entry, "execution_details", "input_payload")
        return payload

    # -- replay -----------------------------------------------------------------------------------

    def recorded(
        self,
        op_id: str,
        op_type: OperationType,
        sub_type: str | None,
        name: str | None,
        parent_id: str | None,
        *,
        name_inferred: bool = False,
    ) -> Operation | None:
        """The operation recorded at ``op_id``, after checking it is the one the code asks for now.

        A name the code inferred from a function matches a recorded ``None`` (the official SDK records
        no name for undecorated functions). Anything else that differs is non-determinism.
        """
        entry = self.recorded_entry(op_id, op_type, sub_type, name, parent_id, name_inferred=name_inferred)
        return None if entry is None else self.operations[op_id]

    def recorded_entry(
        self,
        op_id: str,
        op_type: OperationType,
        sub_type: str | None,
        name: str | None,
        parent_id: str | None,
        *,
        name_inferred: bool = False,
    ) -> Entry | None:
        """`recorded`, answered with the table's entry as it is: a record from the invocation input
        stays a record, so that replaying a step builds no model."""
        if self.checkpoints.broken is not None:
            raise self.checkpoints.broken_error()
        entry = self.operations.entries.get(op_id)
        if entry is None:
            self.replaying = False
            return None
        if type(entry) is dict:  # a record (inlined, not a helper: this runs for every replayed operation)
            get = entry.get
            recorded_type, recorded_sub_type, status = entry["type"], get("sub_type"), entry["status"]
            recorded_parent, recorded_name = get("parent_id"), get("name")
        else:
            op: Operation = entry  # type: ignore[assignment]
            recorded_type, recorded_sub_type, status = op.type, op.sub_type, op.status
            recorded_parent, recorded_name = op.parent_id, op.name
        if (
            recorded_type != op_type
            or recorded_sub_type != sub_type
            or recorded_parent != parent_id
            or (recorded_name != name and not (name_inferred and recorded_name is None))
        ):
            raise NonDeterministicExecutionError(
                op_id=op_id,
                recorded={
                    "type": recorded_type,
                    "sub_type": recorded_sub_type,
                    "name": recorded_name,
                    "parent_id": recorded_parent,
                },
                requested={"type": op_type, "sub_type": sub_type, "name": name, "parent_id": parent_id},
                label=position_label(self.operations, op_id, parent_id),
            )
        if self.hooks is not None:
            self.hooks.operation_replayed(self.operations[op_id])
        if status not in TERMINAL_STATUSES:
            self.replaying = False
        return entry

    def status(self, op_id: str) -> str:
        """The operation's current state: a wire status, or ``NEW`` if nothing is recorded yet."""
        return self._status.get(op_id, NEW)

    # -- emitting ---------------------------------------------------------------------------------

    def emit(self, update: AnyUpdate) -> None:
        """Queue an update after moving its operation through its state machine (or raising)."""
        op_id, op_type = update.id, update.type
        with self.mutex:
            checkpoints = self.checkpoints
            if checkpoints.broken is not None:
                raise checkpoints.broken_error()
            status = self._status
            previous = status.get(op_id, NEW)
            try:
                following = FLAT_TRANSITIONS[op_type, previous, update.action]
            except KeyError:  # not a legal move: the table's own error (raised below, unchained) says why
                following = None
            if following is None:
                following = next_state(op_type, previous, update.action, op_id=op_id)
            status[op_id] = following
            if self.hooks is not None:
                self.hooks.operation_updated(update, previous)
            self._types[op_id] = op_type
            if self.log is not None:
                self.log.emit(as_update(update))  # the log holds models: what an audit reads
            checkpoints.pending.append(update)

    @property
    def pending(self) -> list[AnyUpdate]:
        """The updates emitted and not yet handed to a checkpoint call, in order."""
        return self.checkpoints.pending

    def acknowledge(self, token: str, operations: Iterable[Entry]) -> None:
        """Take the service's answer to a checkpoint call: the next token, and its snapshots of the
        operations it changed, each checked against the operation's machine.

        A reported status must be one the operation can be in by now: the status we hold, or one its
        machine reaches from there (a timer firing, a callback answered). An operation with updates still
        queued behind this call keeps the status we hold (the answer predates them). Anything else raises
        `UnexpectedStatusError`. Call with ``mutex`` held.
        """
        self.token = token
        loaded = operations if isinstance(operations, list) else list(operations)
        status, pending = self._status, self.checkpoints.pending
        ahead: set[str] = set()
        for op in loaded:  # validate every snapshot before applying any (the usual answer: all as held)
            if type(op) is dict:
                op_id, reported, op_type = op["id"], op["status"], op["type"]
            else:
                op_id, reported, op_type = op.id, op.status, op.type  # type: ignore[union-attr]
            held = status.get(op_id)
            if held is not None and held != reported:
                if pending and any(update.id == op_id for update in pending):
                    ahead.add(op_id)  # our queued updates are ahead of the answer: they will tell it
                elif not reachable(op_type, held, reported):
                    raise UnexpectedStatusError(op_id=op_id, op_type=op_type, status=held, reported=reported)
        if ahead:
            loaded = [op for op in loaded if (op["id"] if type(op) is dict else op.id) not in ahead]  # type: ignore[union-attr]
        self._load(loaded)

    def _load(self, operations: Iterable[Entry]) -> None:
        """Store the service's snapshots of operations as their current state. How the invocation's state
        is first loaded, unchecked: what the service recorded is the record.

        One loop over all of them, with the dicts in locals, because a replay loads every recorded
        operation here: a method call and three attribute look-ups per operation would cost as much
        as the stores themselves. Records (the invocation input's) and models (checkpoint answers) mix.
        """
        loaded = operations if isinstance(operations, list) else list(operations)
        entries, status, types = self.operations.entries, self._status, self._types
        for op in loaded:
            if type(op) is dict:
                op_id = op["id"]
                status[op_id] = op["status"]
                types[op_id] = op["type"]
            else:
                op_id = op.id  # type: ignore[union-attr]
                status[op_id] = op.status  # type: ignore[union-attr]
                types[op_id] = op.type  # type: ignore[union-attr]
            entries[op_id] = op
        if self.log is not None:
            for op in loaded:
                self.log.record(self.operations[op["id"]] if type(op) is dict else op)  # type: ignore[arg-type]

    # -- suspension -------------------------------------------------------------------------------

    def has_pending_work(self) -> bool:
        """Whether the service has something to wake this execution for (PROTOCOL.md §2).

        Only called when the handler suspends, so the linear scan is off the per-operation path.
        """
        types = self._types
        return any((types[op_id], status) in WAITING_ON_SERVICE for op_id, status in self._status.items())
