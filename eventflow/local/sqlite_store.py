"""`SqliteStore`: executions in one SQLite file (stdlib `sqlite3`), so they survive a process restart.

Each `ChangeSet` (one checkpoint, one invocation's end, one timer firing, one callback answer, ...) is one
transaction: an acknowledged checkpoint is on disk before its answer is returned, and a change set that fails
half-way is rolled back whole. Rows are written per operation, event, callback and invoke, so a step costs
O(size of the step) however long the execution is. Journal mode is WAL with ``synchronous=NORMAL`` by default:
a committed transaction survives the process dying; pass ``synchronous="FULL"`` to also survive power loss.

Operations and events are stored as their wire JSON with ISO-8601 timestamps (microseconds kept), so the
file is readable with any SQLite tool.

One writer: a running ``eventflow serve`` (or ``eventflow run``) records itself in the ``owner`` table
(`claim`), with its HTTP endpoint, so that other commands on the same file send their changes to it rather
than writing behind its back, which the running service would never notice (`StoreOwner`).
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from eventflow.events.enums import ExecutionStatus
from eventflow.events.history import Event
from eventflow.events.wire import Operation
from eventflow.local.history import to_event
from eventflow.local.model import (
    CallbackRecord,
    ExecutionSummary,
    InvokeRecord,
    LocalExecution,
    from_epoch_us,
    to_epoch_us,
)
from eventflow.local.store import ChangeSet

_SCHEMA = """
CREATE TABLE IF NOT EXISTS executions (
    arn TEXT PRIMARY KEY,
    function_name TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    meta TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS executions_by_name ON executions (function_name, name);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions (status);
CREATE TABLE IF NOT EXISTS operations (
    arn TEXT NOT NULL,
    op_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (arn, op_id)
);
CREATE INDEX IF NOT EXISTS operations_in_order ON operations (arn, seq);
CREATE TABLE IF NOT EXISTS events (
    arn TEXT NOT NULL,
    event_id INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (arn, event_id)
);
CREATE TABLE IF NOT EXISTS callbacks (
    callback_id TEXT PRIMARY KEY,
    arn TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS owner (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    command TEXT NOT NULL,
    pid INTEGER NOT NULL,
    endpoint TEXT
);
CREATE TABLE IF NOT EXISTS invokes (
    arn TEXT NOT NULL,
    op_id TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (arn, op_id)
);
"""


def _json(data: Any) -> str:
    return json.dumps(data, default=_iso, separators=(",", ":"))


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__}")


class SqliteStore:
    """A `Store` in one SQLite file. Safe to share between threads: the service serialises all calls."""

    def __init__(self, path: str | Path, *, synchronous: str = "NORMAL") -> None:
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"unknown synchronous mode {synchronous!r}")
        self.path = str(path)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(executions)")}
        if "expires_at" not in columns:  # a file written before retention: its ended executions never expire
            self._db.execute("ALTER TABLE executions ADD COLUMN expires_at INTEGER")
        self._db.execute("CREATE INDEX IF NOT EXISTS executions_by_expiry ON executions (expires_at)")
        self._db.execute("CREATE INDEX IF NOT EXISTS callbacks_by_arn ON callbacks (arn)")

    def commit(self, changes: ChangeSet) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT INTO executions (arn, function_name, name, status, started_at, ended_at, meta, "
                "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (arn) DO UPDATE SET "
                "status = excluded.status, ended_at = excluded.ended_at, meta = excluded.meta, "
                "expires_at = excluded.expires_at",
                [
                    (
                        e.arn,
                        e.function_name,
                        e.name,
                        e.status.value,
                        to_epoch_us(e.started_at),
                        to_epoch_us(e.ended_at) if e.ended_at else None,
                        _json(e.meta_json()),
                        to_epoch_us(e.expires_at) if e.expires_at else None,
                    )
                    for e in changes.executions.values()
                ],
            )
            db.executemany(
                "INSERT INTO operations VALUES (?, ?, ?, ?) "
                "ON CONFLICT (arn, op_id) DO UPDATE SET data = excluded.data",
                [
                    (arn, op_id, seq, _json(op.to_boto_params()))
                    for (arn, op_id), (seq, op) in changes.operations.items()
                ],
            )
            db.executemany(
                "INSERT INTO events VALUES (?, ?, ?)",
                [
                    (arn, item.event_id, _json(to_event(item).to_boto_params()))
                    for arn, item in changes.events
                ],
            )
            db.executemany(
                "INSERT OR REPLACE INTO callbacks VALUES (?, ?, ?)",
                [(r.callback_id, r.arn, _json(r.to_json())) for r in changes.callbacks.values()],
            )
            db.executemany(
                "INSERT OR REPLACE INTO invokes VALUES (?, ?, ?)",
                [(arn, op_id, _json(r.to_json())) for (arn, op_id), r in changes.invokes.items()],
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def load(self, arn: str) -> LocalExecution | None:
        db = self._db
        row = db.execute("SELECT meta FROM executions WHERE arn = ?", (arn,)).fetchone()
        if row is None:
            return None
        execution = LocalExecution.from_meta_json(json.loads(row[0]))
        for (data,) in db.execute("SELECT data FROM operations WHERE arn = ? ORDER BY seq", (arn,)):
            execution.index(Operation.from_wire(data))
        execution.events = [
            Event.from_wire(data)
            for (data,) in db.execute("SELECT data FROM events WHERE arn = ? ORDER BY event_id", (arn,))
        ]
        for (data,) in db.execute("SELECT data FROM callbacks WHERE arn = ?", (arn,)):
            record = CallbackRecord.from_json(json.loads(data))
            execution.callbacks[record.callback_id] = record
        for (data,) in db.execute("SELECT data FROM invokes WHERE arn = ?", (arn,)):
            invoke = InvokeRecord.from_json(json.loads(data))
            execution.invokes[invoke.op_id] = invoke
        return execution

    def running(self) -> list[str]:
        live = (ExecutionStatus.RUNNING.value, ExecutionStatus.PAUSING.value, ExecutionStatus.PAUSED.value)
        rows = self._db.execute(
            "SELECT arn FROM executions WHERE status IN (?, ?, ?) ORDER BY started_at, rowid", live
        )
        return [arn for (arn,) in rows]

    def delete(self, *arns: str) -> None:
        db = self._db
        rows = [(arn,) for arn in arns]
        db.execute("BEGIN IMMEDIATE")
        try:
            for table in ("executions", "operations", "events", "callbacks", "invokes"):
                db.executemany(f"DELETE FROM {table} WHERE arn = ?", rows)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def expired(self, now: datetime) -> list[str]:
        rows = self._db.execute(
            "SELECT arn FROM executions WHERE expires_at <= ? ORDER BY expires_at", (to_epoch_us(now),)
        )
        return [arn for (arn,) in rows]

    def next_expiry(self) -> datetime | None:
        row = self._db.execute("SELECT MIN(expires_at) FROM executions").fetchone()
        return None if row is None or row[0] is None else from_epoch_us(row[0])

    def find_callback(self, callback_id: str) -> str | None:
        row = self._db.execute("SELECT arn FROM callbacks WHERE callback_id = ?", (callback_id,)).fetchone()
        return None if row is None else str(row[0])

    def find_by_name(self, function_name: str, name: str) -> str | None:
        row = self._db.execute(
            "SELECT arn FROM executions WHERE function_name = ? AND name = ?", (function_name, name)
        ).fetchone()
        return None if row is None else str(row[0])

    def list_executions(self, function_name: str | None = None) -> list[ExecutionSummary]:
        query = (
            "SELECT arn, function_name, name, status, started_at, ended_at, "
            "json_extract(meta, '$.Version') FROM executions"
        )
        args: tuple[str, ...] = ()
        if function_name is not None:
            query += " WHERE function_name = ?"
            args = (function_name,)
        return [
            ExecutionSummary(
                arn,
                function,
                name,
                ExecutionStatus(status),
                from_epoch_us(started),
                from_epoch_us(ended) if ended is not None else None,
                version=version or "$LATEST",
            )
            for arn, function, name, status, started, ended, version in self._db.execute(
                query + " ORDER BY rowid", args
            )
        ]

    # -- the one writer: a running service records itself, so other commands go through it -------------

    def owner(self) -> StoreOwner | None:
        """The process recorded as serving this file, if that process is still alive."""
        row = self._db.execute("SELECT command, pid, endpoint FROM owner").fetchone()
        if row is None:
            return None
        found = StoreOwner(row[0], int(row[1]), row[2])
        return found if found.alive() else None

    def claim(self, command: str, endpoint: str | None) -> None:
        """Record this process as the file's one writer (``endpoint``: where it takes changes over HTTP).
        Refuses if another live process holds it."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            current = self.owner()
            if current is not None and current.pid != os.getpid():
                raise StoreInUseError(self.path, current)
            db.execute("INSERT OR REPLACE INTO owner VALUES (1, ?, ?, ?)", (command, os.getpid(), endpoint))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def release(self) -> None:
        """Forget this process as the file's writer (a process that dies is recognised as gone anyway)."""
        self._db.execute("DELETE FROM owner WHERE pid = ?", (os.getpid(),))

    def close(self) -> None:
        self._db.close()


@dataclass(frozen=True)
class StoreOwner:
    """The process that serves a SQLite file: what it is, its pid, and its HTTP endpoint (if any)."""

    command: str
    pid: int
    endpoint: str | None

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # alive, another user's
            return True
        return True

    def describe(self) -> str:
        where = f" at {self.endpoint}" if self.endpoint else ""
        return f"{self.command} (pid {self.pid}){where}"


class StoreInUseError(Exception):
    """Another running process is the file's writer: changes must go through it."""

    def __init__(self, path: str, owner: StoreOwner) -> None:
        self.owner = owner
        super().__init__(f"{path} is in use by {owner.describe()}")
