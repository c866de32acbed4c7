"""Group commit of one invocation's checkpoints: which updates go in the next call, and when. No I/O.

Theory of operation
===================
On AWS every CheckpointDurableExecution is a round trip, and tokens chain: one invocation can have at most
one call in flight. So the scheduler is a small state machine over the invocation's queue of updates::

    IDLE ---next_call()---> CALLING ---ended()---> IDLE
                               |
                               +------failed(exc)---> BROKEN  (final: every later question raises)

Updates are queued in emission order (`ExecutionState.emit`); each has a sequence number, its position in
that order. ``sent`` counts the updates handed to calls, ``acked`` those the service acknowledged. A flush
asks for a *target*, everything emitted so far (`target`), and returns once ``acked`` reaches it (`done`).
Whoever flushes while nothing is in flight takes the next call; while a call is in flight, new updates
queue, and when it returns the first waiter takes everything queued as the next call: N operations
running side by side (map items, asyncio.gather) share calls instead of paying one each (group commit).
A call carries the longest legal prefix of the queue (`eventflow.core.batching.first_batch_length`), so the
batching rules of PROTOCOL.md §6 hold for every call.

Gathering. Items of a map or parallel running on threads reach their flushes microseconds to a
millisecond apart; a call taken by the first would leave the others for the next round trip. So while
other items are busy (``busy``, counted by the sync driver: running, and not in a flush), the maker of a
call waits for them, at most `GATHER_SECONDS` (``forming``: nobody else starts a call meanwhile), as the
official SDK's batcher lingers a millisecond. Sequential code has no busy items and never waits.

Deferred updates. An at-least-once step's START is queued without a flush and rides with the step's
completion. If the step's code is still running ``linger`` seconds later, what is queued must go out while
it runs (so a long attempt is on record, and a sandbox that dies mid-step leaves StepStarted): the plan
asks for that with ``Call(..., linger=True)``, the driver calls `linger_deadline` and, if it answers a
time, arms a timer for it; when the timer fires the driver calls `expire`, which either names a later
deadline to re-arm for or makes the queue due, as if somebody had flushed it. One timer serves any number
of sequential steps: it is armed once, and re-armed only when it fires early.

Fail-stop. A call that fails, or an answer the machines refuse, breaks the invocation: the service's
state and ours may differ, so nothing may be built on it. Every later `target`, `done` and emit raises
`CheckpointError` naming the first failure (h11's connection goes to ERROR the same way), and the
invocation cannot end SUCCEEDED.

Drivers bring the rest: a lock or condition around these calls when threads share the state (the sync
driver), futures when tasks do (the async driver), a clock, and the I/O itself.
"""

from __future__ import annotations

from eventflow.core.batching import first_batch_length
from eventflow.errors import CheckpointError
from eventflow.events.emitted import AnyUpdate

GATHER_SECONDS = 0.001
"""How long the maker of a call waits for other items running side by side to reach their own flushes,
so that their updates share the call: bounded, and only while such items are busy."""

START_LINGER_SECONDS = 0.05
"""How long an at-least-once step's START may wait for the step's completion before it is sent alone.

Long enough that a step doing a few round trips of its own (10 ms of I/O) sends START with its completion;
short enough that a long attempt is on record almost at once."""


class CheckpointScheduler:
    """The queue of one invocation's updates and the bookkeeping of its single chain of calls."""

    __slots__ = ("acked", "broken", "busy", "closed", "deadline", "forming", "in_flight", "linger",
                 "pending", "sent", "timer_armed", "waiters", "wanted")

    def __init__(self, linger: float | None = START_LINGER_SECONDS) -> None:
        self.pending: list[AnyUpdate] = []
        self.sent = 0  # updates handed to calls, acknowledged or in flight
        self.acked = 0  # updates the service acknowledged
        self.wanted = 0  # the highest sequence number somebody waits for (or a linger made due)
        self.in_flight: list[AnyUpdate] | None = None
        self.linger = linger  # None: deferred updates wait for a flush, however long the code runs
        self.deadline: float | None = None  # when the queued updates must go out even if nobody flushes
        self.timer_armed = False  # a driver's timer will call `expire` (at the latest `deadline` set)
        self.broken: BaseException | None = None
        self.closed = False  # the invocation is over: a timer that fires late sends nothing
        self.waiters = 0  # flushes waiting for the call in flight (a driver's count)
        # Item threads running and not in a flush (the sync driver's count), and whether a call is being
        # formed: its maker waits a moment for them, and nobody else may start one meanwhile.
        self.busy = 0
        self.forming = False

    # -- flushing ---------------------------------------------------------------------------------

    def target(self) -> int:
        """What a flush asked for now must see acknowledged: every update emitted so far."""
        if self.broken is not None:
            raise self.broken_error()
        target = self.sent + len(self.pending)
        self.wanted = max(self.wanted, target)
        return target

    def done(self, target: int) -> bool:
        """Whether the service acknowledged every update up to ``target``."""
        if self.broken is not None:
            raise self.broken_error()
        if self.acked >= target:
            return True
        if self.closed:
            raise CheckpointError("the invocation has answered: its queued updates are not sent")
        return False

    def next_call(self) -> list[AnyUpdate] | None:
        """Take the updates of the next checkpoint call out of the queue, or ``None`` when no call is due:
        one is in flight already, nothing is queued, or nobody waits for what is queued yet."""
        pending = self.pending
        if (
            self.in_flight is not None
            or self.forming
            or not pending
            or self.wanted <= self.sent
            or self.broken is not None
            or self.closed
        ):
            return None
        count = len(pending) if len(pending) == 1 else first_batch_length(pending)
        if count == len(pending):
            batch, self.pending = pending, []
            self.deadline = None
        else:
            batch = pending[:count]
            del pending[:count]
        self.in_flight = batch
        self.sent += count
        return batch

    def ended(self) -> None:
        """The call in flight was acknowledged (its answer already applied to the state)."""
        self.acked = self.sent
        self.in_flight = None

    def failed(self, exc: BaseException) -> None:
        """The call in flight, or applying its answer, failed: the invocation is broken for good."""
        self.in_flight = None
        if self.broken is None:
            self.broken = exc

    def close(self) -> None:
        """The invocation has answered: nothing more is sent, whatever is still queued (an invocation that
        raised leaves its queue to the next invocation's replay, as a crash would)."""
        self.closed = True
        self.deadline = None

    def broken_error(self) -> CheckpointError:
        """What every durable operation raises once a checkpoint failed."""
        first = self.broken
        terminal = isinstance(first, CheckpointError) and first.terminal
        error = CheckpointError(
            f"a checkpoint of this invocation failed earlier ({type(first).__name__}: {first}); its state "
            "is not what the service holds, so no durable operation may run and the invocation cannot "
            "succeed",
            terminal=terminal,
            code=getattr(first, "code", None),
        )
        error.__cause__ = first
        return error

    # -- lingering --------------------------------------------------------------------------------

    def linger_deadline(self, now: float) -> float | None:
        """User code starts running while updates are queued: they must go out by ``now + linger``.

        Answers the time a driver must arm its timer for, or ``None`` when no timer is needed (nothing
        queued, no linger, or the timer is armed already: it re-arms itself from `expire`)."""
        if self.linger is None or not self.pending or self.closed:
            return None
        if self.deadline is None:
            self.deadline = now + self.linger
        if self.timer_armed:
            return None
        self.timer_armed = True
        return self.deadline

    def expire(self, now: float) -> float | None:
        """The driver's timer fired at ``now``. Answers a later deadline to re-arm for, or ``None``; past
        the deadline, everything queued becomes due: `next_call` hands it out though nobody waits."""
        deadline = self.deadline
        if deadline is not None and now < deadline:
            return deadline
        self.timer_armed = False
        if deadline is not None:
            self.deadline = None
            target = self.sent + len(self.pending)
            self.wanted = max(self.wanted, target)
        return None


__all__ = ["GATHER_SECONDS", "START_LINGER_SECONDS", "CheckpointScheduler"]
