"""One context's id namespace: its parent operation and its counter (PROTOCOL.md §3).

Every durable operation takes its id here, so this is also where one called from inside a step's function
is refused (`DurableCallInStepError`): the front-ends' drivers mark the step whose code runs, the sync
driver per thread (`running_in_thread`: two attribute stores per step, where a context variable's set and
reset cost several times more) and the async driver per task (`running_step`, a context variable), so map
items on worker threads and concurrent tasks each see only their own.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from typing import Any

from eventflow.errors import DurableCallInStepError
from eventflow.ids import child_id

running_step: ContextVar[Any] = ContextVar("eventflow_running_step", default=None)
"""The `StepContext` of the step whose function runs in this asyncio task, if any (the async driver's)."""


class _RunningInThread(threading.local):
    step: Any = None  # the `StepContext` of the step whose function runs in this thread (the sync driver's)


running_in_thread = _RunningInThread()


def refuse_in_step() -> None:
    """Raise `DurableCallInStepError` if a step's function is running here."""
    step = running_in_thread.step or running_step.get()
    if step is not None:
        raise DurableCallInStepError(step.name, step.operation_id)


class Scope:
    """The ids a context hands out: ``blake2b(n)`` at the root, ``blake2b(f"{parent}-{n}")`` below."""

    __slots__ = ("counter", "parent_id")

    def __init__(self, parent_id: str | None = None) -> None:
        self.parent_id = parent_id
        self.counter = 0

    def next_id(self) -> str:
        if running_in_thread.step is not None or running_step.get() is not None:
            refuse_in_step()
        self.counter += 1
        return child_id(self.parent_id, self.counter)


class VirtualScope(Scope):
    """A virtual context's namespace: ids derive from the context's own id (``prefix``), while ParentId is
    the enclosing context's (a virtual context is never recorded). FLAT map/parallel items use it."""

    __slots__ = ("prefix",)

    def __init__(self, prefix: str, parent_id: str | None) -> None:
        super().__init__(parent_id)
        self.prefix = prefix

    def next_id(self) -> str:
        if running_in_thread.step is not None or running_step.get() is not None:
            refuse_in_step()
        self.counter += 1
        return child_id(self.prefix, self.counter)
