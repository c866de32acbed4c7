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
completion. If the step's code is still running about ``linger`` seconds later, what is queued must go out
while it runs (so a long attempt is on record, and a sandbox that dies mid-step leaves StepStarted): the
plan asks for that with ``Call(..., linger=state)``; the driver counts the deferral (`defer`), arms a
timer if none runs (`arm`), and when it fires calls `expire`, which makes the queue due once it waited a
whole period with no new deferral, or asks for another period. One timer serves any number of sequential
steps: a step costs a counter increment, and the timer wakes once a period while steps run.

Fail-stop. A call that fails, or an answer the machines refuse, breaks the invocation: the service's
state and ours may differ, so nothing may be built on it. Every later `target`, `done` and emit raises
`CheckpointError` naming the first failure (h11's connection goes to ERROR the same way), and the
invocation cannot end SUCCEEDED.

Drivers bring the rest: a lock or condition around these calls when threads share the state (the sync
driver), futures when tasks do (the async driver), a clock, and the I/O itself.
"""

from __future__ import annotations

from eventflow.core.batching import MAX_BATCH_BYTES, first_batch_length, update_size
from eventflow.errors import CheckpointError
from eventflow.events.emitted import AnyUpdate
from eventflow.events.enums import OperationAction
from eventflow.events.limits import PAIRABLE_TYPES

_START = OperationAction.START

GATHER_SECONDS = 0.001
"""How long the maker of a call waits for other items running side by side to reach their own flushes,
so that their updates share the call: bounded, and only while such items are busy."""

START_LINGER_SECONDS = 0.05
"""The period of the linger timer: an at-least-once step's START still waiting for the step's completion
after one to two periods is sent alone.

Long enough that a step doing a few round trips of its own (10 ms of I/O) sends START with its completion;
short enough that a long attempt is on record almost at once."""


class CheckpointScheduler:
    """The queue of one invocation's updates and the bookkeeping of its single chain of calls."""

    __slots__ = ("acked", "broken", "busy", "closed", "deferrals", "forming", "in_flight", "linger",
                 "pending", "seen", "sent", "timer_armed", "waiters", "wanted")

    def __init__(self, linger: float | None = START_LINGER_SECONDS) -> None:
        self.pending: list[AnyUpdate] = []
        self.sent = 0  # updates handed to calls, acknowledged or in flight
        self.acked = 0  # updates the service acknowledged
        self.wanted = 0  # the highest sequence number somebody waits for (or a linger made due)
        self.in_flight: list[AnyUpdate] | None = None
        self.linger = linger  # None: deferred updates wait for a flush, however long the code runs
        self.deferrals = 0  # user code started with updates queued (`defer`), ever
        self.seen = 0  # ``deferrals`` when the timer last looked
        self.timer_armed = False  # a driver's timer will call `expire`
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
        count = len(pending)
        if count == 2:  # a START and its completion, the common call: legal unless too big or not a pair
            first, second = pending
            if not (  # `limits.pairs`, inlined: once per step
                first.id == second.id
                and first.action is _START
                and second.action is not _START
                and first.type in PAIRABLE_TYPES
                and update_size(first) + update_size(second) <= MAX_BATCH_BYTES
            ):
                count = first_batch_length(pending)
        elif count > 2:
            count = first_batch_length(pending)
        if count == len(pending):
            batch, self.pending = pending, []
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

    def defer(self) -> bool:
        """User code starts running while updates are queued (an at-least-once START waiting for its
        completion): they must go out if the code runs past the linger. A counter, so that the sync
        driver can call it without the lock on every step; answers whether no timer covers it yet (the
        driver then calls `arm`, under the lock)."""
        self.deferrals += 1
        return not self.timer_armed

    def arm(self) -> float | None:
        """The period to arm the driver's timer for, or ``None`` when none is needed (armed already, no
        linger, or the invocation is over). The timer calls `expire` when the period ends."""
        if self.timer_armed or self.linger is None or self.closed:
            return None
        self.timer_armed = True
        self.seen = self.deferrals
        return self.linger

    def expire(self) -> bool:
        """The driver's timer fired, a period after it was armed. Queued updates that waited a whole
        period without a new deferral (the code that deferred them is still running) become due now:
        `next_call` hands them out though nobody waits, and the timer stops. While steps keep starting,
        the timer runs another period (answers True: re-arm). So a long attempt's START goes out between
        one and two periods after its code starts, and sequential steps pay no timer work of their own."""
        if not self.pending or self.closed:
            self.timer_armed = False
            return False
        if self.deferrals != self.seen:
            self.seen = self.deferrals
            return True
        self.timer_armed = False
        target = self.sent + len(self.pending)
        self.wanted = max(self.wanted, target)
        return False


__all__ = ["GATHER_SECONDS", "START_LINGER_SECONDS", "CheckpointScheduler"]
