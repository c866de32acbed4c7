"""What a plan asks its front-end to do. The only I/O the core ever needs, named.

A plan is a generator: it yields an effect, the front-end performs it and sends the outcome back in
(or throws the exception the effect raised). Both front-ends interpret exactly these effects. They are
named tuples: immutable, and a new step builds three of them, at a third of a frozen dataclass's cost.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

if TYPE_CHECKING:
    from eventflow.core.scope import Scope
    from eventflow.core.state import ExecutionState

T = TypeVar("T")


class Flush(NamedTuple):
    """Send every pending update of ``state`` and wait for the service's acknowledgement."""

    state: ExecutionState


class Call(NamedTuple):
    """Run user code ``fn(arg)``; an async front-end awaits the result if it is awaitable.

    ``linger`` is the state whose queued updates (an at-least-once step's START) wait for the code to end:
    if it runs longer than the state's linger, the driver sends them while it runs
    (`eventflow.core.scheduler`)."""

    fn: Callable[[Any], Any]
    arg: Any
    linger: ExecutionState | None = None


class Enter(NamedTuple):
    """Run ``fn(child)`` where ``child`` is a context of the front-end's own flavour over ``scope``."""

    fn: Callable[[Any], Any]
    state: ExecutionState
    scope: Scope


class LoadPage(NamedTuple):
    """Fetch the page of operations (GetDurableExecutionState) after ``marker``; answered with a
    `eventflow.backends.base.StatePage`."""

    arn: str
    token: str
    marker: str


class Fork(NamedTuple):
    """Run the items of a map/parallel: the one effect that runs several plans side by side.

    The protocol keeps every decision in the plan, so a driver only schedules:
    ``admit()`` gives the index of the next item to start, or ``None`` when none may start now (a slot
    limit, the end of the items, or a completed batch); ``start(index)`` builds that item's plan
    (raising here fails the whole batch); ``finish(index, value, error)`` reports how the item's plan
    ended (``error`` is the exception it raised, a `SuspendExecution` included) and returns True once the
    batch is decided, when the driver must stop running the others. The effect is answered with
    ``None`` when nothing runs and nothing more may start. ``limit`` is how many items may run at once
    (the batch's max_concurrency, or all of them).

    A sync driver runs up to ``limit`` items at once on a pool of threads that lives for the batch (one
    at a time in the calling thread when ``limit`` is 1); an async driver runs each item as a task. Both
    call ``admit``, ``start`` and ``finish`` from one thread and admit in index order, so operation ids
    are the same whatever the timing.
    """

    admit: Callable[[], int | None]
    start: Callable[[int], Generator[Any, Any, Any]]
    finish: Callable[[int, Any, BaseException | None], bool]
    limit: int = 1
    state: ExecutionState | None = None  # the state the items emit into


Effect = Flush | Call | Enter | LoadPage | Fork
Plan = Generator[Effect, Any, T]

PLAIN_RESULTS = frozenset({type(None), bool, int, float, str, bytes, list, dict, tuple})
"""Types a `Call` answer can have that are never awaitable: what step functions almost always return.

Drivers test ``type(result) in PLAIN_RESULTS`` before `inspect.isawaitable`, which also asks the
`Awaitable` ABC and costs several times more, once per step."""
