"""The run loop: performs queued work and fires timers until the caller's condition holds.

Work (handler invocations, plain chained-invoke calls) always goes before timers, so everything that is
due now settles before time moves. With a `VirtualClock` the loop never waits: when no work is left it
jumps the clock to the next live timer and fires it, and when there is no timer either it returns (only the
outside world can move things on). With a real clock it waits on the service's condition variable until
the next timer is due, another thread changes something, or the caller's time runs out. It never sleeps a
fixed time.

With ``concurrency`` above 1 (what ``eventflow serve`` uses) the loop hands each work item to a bounded
thread pool instead of running it itself, so invocations of different executions run at the same time, at
most ``concurrency`` of them; one execution's invocations still run one at a time (`Invocations.invoke`
does nothing for an execution already in flight, and the running invocation queues the next one when it
ends). While any item runs, a virtual clock does not move: time on it stands still while handlers run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from eventflow.local.chained_invokes import ChainedInvokes
from eventflow.local.clock import VirtualClock
from eventflow.local.invocations import Invocations
from eventflow.local.model import LocalExecution
from eventflow.local.retention import Retention
from eventflow.local.state import ServiceState
from eventflow.local.timers import TimerKey
from eventflow.local.wakeups import Wakeups
from eventflow.local.work import INVOKE, WorkItem

log = logging.getLogger(__name__)

Hold = Callable[[datetime, TimerKey], bool]
"""``hold(due, key)``: True keeps a virtual clock from moving to this timer (the caller acts first)."""


class RunLoop:
    """Drives the service: queued invocations and calls first, then due timers."""

    def __init__(
        self,
        state: ServiceState,
        wakeups: Wakeups,
        invocations: Invocations,
        chained_invokes: ChainedInvokes,
        concurrency: int = 1,
        retention: Retention | None = None,
    ) -> None:
        self._state = state
        self._retention = retention
        self._wakeups = wakeups
        self._invocations = invocations
        self._chained_invokes = chained_invokes
        self._concurrency = concurrency
        self._pool: ThreadPoolExecutor | None = None
        self._busy = 0  # items running on the pool

    def _perform(self, item: WorkItem) -> None:
        kind, arn, ref = item
        if kind == INVOKE:
            self._invocations.invoke(arn)
        else:
            self._chained_invokes.call_plain(arn, ref)

    def _perform_on_pool(self, item: WorkItem) -> None:
        try:
            self._perform(item)
        except Exception:  # one bad item must not stop the others; the service stays up
            log.exception("a work item of the local service failed: %s", item)
        finally:
            with self._state.cond:
                self._busy -= 1
                self._state.cond.notify_all()

    def _dispatch(self, item: WorkItem) -> None:
        """Hand ``item`` to the pool (the lock is held): it leaves the queue now, so it runs once."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._concurrency, thread_name_prefix="eventflow-invoke")
        self._state.work.discard(item)
        self._busy += 1
        self._pool.submit(self._perform_on_pool, item)

    def drive(
        self,
        done: Callable[[], bool],
        timeout: float | None,
        *,
        forever: bool = False,
        advance: bool = True,
        hold: Hold | None = None,
    ) -> None:
        """Run until ``done()``; or until ``timeout`` real seconds pass; or, unless ``forever``, until only
        another thread could move things on. ``advance=False`` keeps a virtual clock where it is; ``hold``
        stops it before the timers it holds (a test answers a callback before its timeout fires)."""
        state = self._state
        deadline = None if timeout is None else time.monotonic() + timeout
        virtual = isinstance(state.clock, VirtualClock) and advance
        pooled = self._concurrency > 1
        while True:
            with state.cond:
                if done():
                    return
                item = state.work.first()
                if item is not None and pooled and self._busy < self._concurrency:
                    self._dispatch(item)
                    continue
                if item is None or pooled:  # nothing to run here, now: timers, or wait
                    if self._retention is not None:
                        self._retention.sweep()  # one comparison unless an ended execution is due
                    if not (virtual and self._busy):  # virtual time stands still while handlers run
                        top = self._wakeups.next_due()
                        if (
                            top is not None
                            and virtual
                            and top[0] > state.clock.now()
                            and not self._wakeups.pulls_virtual_clock(top[1])
                        ):
                            top = None  # e.g. a paused execution's 366-day limit: wait for a resume
                        if top is not None and virtual and hold is not None and hold(*top):
                            top = None  # the test's turn: only timers an answer would cancel remain
                        if top is not None and (virtual or top[0] <= state.clock.now()):
                            if virtual:
                                assert isinstance(state.clock, VirtualClock)
                                state.clock.advance_to(top[0])
                            self._wakeups.fire_due()
                            continue
                    else:
                        top = None
                    idle = item is None and not self._busy
                    if virtual and idle and not forever:
                        return
                    waits = [] if top is None else [(top[0] - state.clock.now()).total_seconds()]
                    if state.next_expiry is not None and not isinstance(state.clock, VirtualClock):
                        waits.append(max(0.0, (state.next_expiry - state.clock.now()).total_seconds()))
                    if deadline is not None:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            return
                        waits.append(remaining)
                    if top is None and deadline is None and idle and not forever:
                        return  # nothing will ever happen without another thread; do not hang
                    state.cond.wait(min(waits) if waits else None)
                    continue
            self._perform(item)

    def wait_for(self, arn: str, timeout: float | None = None) -> LocalExecution:
        """Block until another thread has ended the execution, or ``timeout`` passes."""
        state = self._state
        deadline = None if timeout is None else time.monotonic() + timeout
        with state.cond:
            execution = state.get(arn)
            while execution.running:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                state.cond.wait(remaining)
            return execution
