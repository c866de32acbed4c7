"""A local service on SQLite in its own process, for the kill -9 and ``os._exit`` tests.

``python durable_child.py DB RUNS_LOG [EXIT_AT]`` starts (or, on a restart, resumes) the execution named
"long" of a long workflow, prints ``ACK <op id> <action>`` after every checkpoint the service
acknowledged, and ``DONE <status> <result>`` at the end. With EXIT_AT the process calls ``os._exit(137)``
at that crash point (counted as in `workflows.Crasher`: before/after each step's code, before/after each
checkpoint), as a sandbox that dies without unwinding anything.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from eventflow import DurableContext
from eventflow.backends.base import CheckpointResult, StatePage
from eventflow.events.wire import OperationUpdate
from eventflow.handler import DurableHandler
from eventflow.local import LocalService, VirtualClock
from eventflow.local.sqlite_store import SqliteStore

STEPS = 40
TICKS = [0]
EXIT_AT = int(sys.argv[3]) if len(sys.argv) > 3 else -1


def point() -> None:
    tick = TICKS[0]
    TICKS[0] += 1
    if tick == EXIT_AT:
        sys.stdout.flush()
        os._exit(137)


class Acking:
    def __init__(self, inner: LocalService) -> None:
        self.inner = inner

    def checkpoint(self, arn: str, token: str, updates: Sequence[OperationUpdate]) -> CheckpointResult:
        point()
        result = self.inner.checkpoint(arn, token, updates)
        point()
        for u in updates:
            print(f"ACK {u.id} {u.action}", flush=True)
        return result

    def get_state(self, arn: str, token: str, marker: str) -> StatePage:
        return self.inner.get_state(arn, token, marker)


def square(i: int) -> Any:
    def fn(_: Any) -> int:
        point()
        with open(RUNS, "a") as log:
            log.write(f"{i}\n")
        point()
        return i * i

    return fn


def workflow(event: Any, ctx: DurableContext) -> Any:
    total = 0
    for i in range(STEPS):
        if i % 10 == 9:
            ctx.wait(seconds=30)
        if i % 7 == 3:
            total += ctx.child_context(lambda c, i=i: c.step(square(i), name=f"sq{i}"), name=f"c{i}")
        else:
            total += ctx.step(square(i), name=f"sq{i}")
    return total


if __name__ == "__main__":
    DB, RUNS = sys.argv[1], sys.argv[2]
    service = LocalService(VirtualClock(), store=SqliteStore(DB))
    service.register("long", DurableHandler(workflow, Acking(service)))
    execution = service.start_execution("long", {}, name="long")
    service.run(execution.arn)
    print(f"DONE {execution.status} {execution.result}", flush=True)
