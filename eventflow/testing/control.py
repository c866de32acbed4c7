"""`ExecutionControl`: the operator's part in a test: pause, resume and delete executions on a service.

What an operator does from a console or the CLI (PauseDurableExecution, ResumeDurableExecution,
DeleteDurableExecution), as plain calls on the test's `LocalService`, with the clock moved on in between
when a test needs time to pass while an execution is paused (`advance`: due timers fire, the paused
execution's waits and callbacks complete, and no code of it runs).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eventflow.events.enums import ExecutionStatus
    from eventflow.local import LocalService


class ExecutionControl:
    """Pauses, resumes and deletes executions of ``service`` (the ``execution_control`` fixture)."""

    def __init__(self, service: LocalService) -> None:
        self.service = service

    def pause(self, arn: str, reason: str | None = None, *, timeout_paused: bool = True) -> ExecutionStatus:
        """Pause the execution; returns its status (PAUSED, or PAUSING while an invocation is in flight)."""
        return self.service.pause(arn, reason=reason, timeout_paused=timeout_paused).status

    def resume(self, arn: str, reason: str | None = None, *, run: bool = True) -> ExecutionStatus:
        """Resume the execution and, unless ``run=False``, drive it until it ends or waits on the outside
        world; returns its status."""
        self.service.resume(arn, reason=reason)
        if run:
            self.service.run(arn)
        return self.service.get(arn).status

    def delete(self, arn: str) -> datetime:
        """Delete an ended execution and its history."""
        return self.service.delete(arn)

    def advance(self, seconds: float) -> None:
        """Move a virtual clock on by ``seconds`` and do what is due by then (timers fire one by one, in
        order; a paused execution's waits end, and nothing of it runs)."""
        from eventflow.local.clock import VirtualClock

        clock = self.service.clock
        if not isinstance(clock, VirtualClock):
            raise TypeError("advance needs a service on a VirtualClock")
        target = clock.now() + timedelta(seconds=seconds)
        while (due := self.service.next_timer()) is not None and due <= target:
            clock.advance_to(due)
            self.service.run_due()
        clock.advance_to(target)
        self.service.run_due()
