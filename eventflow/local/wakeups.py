"""Firing timers: everything the service does because a moment arrived.

Every timer lives in the one `TimerQueue` (``ServiceState.timers``), keyed ``(kind, arn, ref)``. The part
that arms a kind also handles it when it fires (``on_timer``: a WAIT's end, a retry delay, a callback's
timeout or heartbeat deadline, an execution's timeout); this module only finds what is due and dispatches
it, each firing a stored step of its own. It also runs actions scheduled with `LocalService.at` (e.g. an
outside answer to a callback), which take their place among the timers so they fire in exactly the
right order. Timers of executions that are no longer running are dropped unfired.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from eventflow.local.execution_start import EXECUTION_TIMEOUT_TIMER
from eventflow.local.model import LocalExecution
from eventflow.local.state import ServiceState
from eventflow.local.timers import TimerKey

Action = Callable[[], object]
"""Something `LocalService.at` runs when its time comes."""

TimerHandler = Callable[[LocalExecution, str], None]
"""Handles a fired timer of one kind: ``handler(execution, ref)``; called with the lock held."""

ACTION_TIMER = "action"
"""Timer kind: an `Action` scheduled with `Wakeups.at` (its key has no ARN)."""


class Wakeups:
    """Schedules actions and fires due timers, dispatching each by its kind."""

    def __init__(self, state: ServiceState, on_timer: Mapping[str, TimerHandler]) -> None:
        self._state = state
        self._on_timer = on_timer
        self._actions: dict[str, Action] = {}

    def at(self, seconds: float, action: Action) -> None:
        """Run ``action`` ``seconds`` from now on the service's clock (see `LocalService.at`)."""
        state = self._state
        with state.cond:
            key: TimerKey = (ACTION_TIMER, "", uuid.uuid4().hex)
            self._actions[key[2]] = action
            state.timers.arm(key, state.clock.now() + timedelta(seconds=seconds))
            state.cond.notify_all()

    def next_due(self) -> tuple[datetime, TimerKey] | None:
        """The earliest live timer and when it is due. Called with the lock held."""
        return self._state.timers.peek(self._alive)

    def pulls_virtual_clock(self, key: TimerKey) -> bool:
        """Whether a virtual clock with nothing else to do jumps to this timer. Not the 366-day limit of
        an execution paused with its timeout paused: like an unanswered callback, it waits for the outside
        world (a resume), so a test's run loop returns instead of timing the execution out. It still fires
        when the clock gets there."""
        kind, arn, _ = key
        if kind != EXECUTION_TIMEOUT_TIMER:
            return True
        execution = self._state.executions.get(arn)
        if execution is None or execution.pause is None:
            return True
        return not execution.pause.timeout_paused and bool(execution.timeout_seconds)

    def next_timer(self) -> datetime | None:
        """When the earliest live timer is due."""
        with self._state.lock:
            top = self.next_due()
            return None if top is None else top[0]

    def fire_due(self) -> None:
        """Fire every live timer due by now, in (deadline, arming) order, each as its own stored step."""
        state = self._state
        now = state.clock.now()
        while (top := self.next_due()) is not None and top[0] <= now:
            state.timers.pop(top[1])
            try:
                self._fire(top[1])
            finally:
                state.commit()

    def _fire(self, key: TimerKey) -> None:
        kind, arn, ref = key
        if kind == ACTION_TIMER:
            action = self._actions.pop(ref)
            action()
            return
        execution = self._state.executions.get(arn)
        if execution is None or not execution.running:
            return
        self._on_timer[kind](execution, ref)

    def _alive(self, key: TimerKey) -> bool:
        arn = key[1]
        executions = self._state.executions
        return not arn or (arn in executions and executions[arn].running)
