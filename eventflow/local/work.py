"""`WorkQueue`: the handler runs the run loop still has to perform, in order.

A work item is either the next invocation of a durable execution's handler (`invocation`) or one call of a
plain chained-invoke target (`plain_call`). Items run first in, first out, and an item queued twice runs
once (an execution woken by two timers before it runs is invoked once). Work for a function that is not
registered yet (a store resumed before its handlers are loaded) is parked under the function's name and
released, in order, when the function is registered.
"""

from __future__ import annotations

WorkItem = tuple[str, str, str]
"""(kind, execution ARN, operation id): ``("invoke", arn, "")`` or ``("call", arn, op_id)``."""

INVOKE = "invoke"
CALL = "call"


def invocation(arn: str) -> WorkItem:
    """The work item that invokes the execution's durable handler."""
    return (INVOKE, arn, "")


def plain_call(arn: str, op_id: str) -> WorkItem:
    """The work item that calls the plain target of the execution's chained invoke ``op_id``."""
    return (CALL, arn, op_id)


class WorkQueue:
    """Ready work in FIFO order without duplicates, and work parked until its function is registered."""

    def __init__(self) -> None:
        self._ready: dict[WorkItem, None] = {}  # a dict keeps insertion order and drops duplicates
        self._parked: dict[str, list[WorkItem]] = {}

    def add(self, item: WorkItem) -> None:
        self._ready[item] = None

    def park(self, function_name: str, item: WorkItem) -> None:
        """Keep ``item`` until ``function_name`` is registered."""
        self._parked.setdefault(function_name, []).append(item)

    def release(self, function_name: str) -> None:
        """Make the work parked for ``function_name`` ready, in the order it was parked."""
        for item in self._parked.pop(function_name, ()):
            self._ready[item] = None

    def discard(self, item: WorkItem) -> None:
        self._ready.pop(item, None)

    def first(self) -> WorkItem | None:
        """The oldest ready item (left in the queue: the code that performs it discards it)."""
        return next(iter(self._ready), None)
