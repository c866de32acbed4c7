"""The run loop: performs queued work and fires timers until the caller's condition holds.

Work (handler invocations, plain chained-invoke calls) always goes before timers, so everything that is
due now settles before time moves. With a `VirtualClock` the loop never waits: when no work is left it
jumps the clock to the next live timer and fires it, and when there is no timer either it returns (only the
outside world can move things on). With a real clock it waits on the service's condition variable until
the next timer is due, another thread changes something, or the caller's time runs out. It never sleeps a
fixed time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from eventflow.local.chained_invokes import ChainedInvokes
from eventflow.local.clock import VirtualClock
from eventflow.local.invocations import Invocations
from eventflow.local.model import LocalExecution
from eventflow.local.state import ServiceState
from eventflow.local.wakeups import Wakeups
from eventflow.local.work import INVOKE


class RunLoop:
    """Drives the service: queued invocations and calls first, then due timers."""

    def __init__(
        self,
        state: ServiceState,
        wakeups: Wakeups,
        invocations: Invocations,
        chained_invokes: ChainedInvokes,
    ) -> None:
        self._state = state
        self._wakeups = wakeups
        self._invocations = invocations
        self._chained_invokes = chained_invokes

    def drive(
        self, done: Callable[[], bool], timeout: float | None, *, forever: bool = False, advance: bool = True
    ) -> None:
        """Run until ``done()``; or until ``timeout`` real seconds pass; or, unless ``forever``, until only
        another thread could move things on. ``advance=False`` keeps a virtual clock where it is."""
        state = self._state
        deadline = None if timeout is None else time.monotonic() + timeout
        virtual = isinstance(state.clock, VirtualClock) and advance
        while True:
            with state.cond:
                if done():
                    return
                item = state.work.first()
                if item is None:
                    top = self._wakeups.next_due()
                    if top is not None and (virtual or top[0] <= state.clock.now()):
                        if virtual:
                            assert isinstance(state.clock, VirtualClock)
                            state.clock.advance_to(top[0])
                        self._wakeups.fire_due()
                        continue
                    if virtual and not forever:
                        return
                    waits = [] if top is None else [(top[0] - state.clock.now()).total_seconds()]
                    if deadline is not None:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            return
                        waits.append(remaining)
                    if top is None and deadline is None and not forever:
                        return  # nothing will ever happen without another thread; do not hang
                    state.cond.wait(min(waits) if waits else None)
                    continue
            kind, arn, ref = item
            if kind == INVOKE:
                self._invocations.invoke(arn)
            else:
                self._chained_invokes.call_plain(arn, ref)

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
