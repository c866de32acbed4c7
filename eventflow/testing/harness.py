"""Run a durable handler to completion on the local service and look at everything it did.

Why: a test of a durable function wants its result, its checkpoints and its history after the service has
driven it through every wait and retry (instantly, on the virtual clock), and a way to play the outside
world for callbacks. `DurableHarness.run` gives a `DurableRun` with all of that; `always_replay=True`
runs it under `eventflow.testing.always_replay`, which fails the run when a replay diverges.

The test is the outside world, so time does not run past a question only it can answer: the harness
stops when the next timer is one an answer would cancel (a callback's timeout or heartbeat deadline, or
the execution's own timeout while a callback is open) and says so in `DurableRun.waiting`
(``waiting on callback 'approve' (times out at +3600 s)``). Time passes when the test says:
`DurableRun.advance`. Retry jitter is seeded (`eventflow.retry.seeded_jitter`), so a snapshot of the same
test is the same every time.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from eventflow.backends.base import use_backend
from eventflow.events.enums import ExecutionStatus, OperationStatus, OperationType
from eventflow.events.history import Event
from eventflow.events.wire import ErrorObject, Operation, OperationUpdate
from eventflow.handler import DurableHandler
from eventflow.local import LocalExecution, LocalService
from eventflow.local.callbacks import CALLBACK_TIMER, HEARTBEAT_TIMER
from eventflow.local.clock import VirtualClock
from eventflow.local.execution_start import EXECUTION_TIMEOUT_TIMER
from eventflow.local.timers import TimerKey
from eventflow.retry import seeded_jitter
from eventflow.testing.always_replay import AlwaysReplayHandler, CuttingBackend, ReplayCheck, relabel
from eventflow.testing.labels import IdLabeler
from eventflow.testing.lines import op_label, render_checkpoints, render_history
from eventflow.testing.normalize import Normalizer, decode_payload
from eventflow.testing.recording import RecordingBackend

__all__ = ["AlwaysReplayError", "DurableHarness", "DurableRun", "answer_would_cancel"]

log = logging.getLogger("eventflow.testing")

_CALLBACK_NAME_SUFFIX = " create callback id"  # wait_for_callback's CALLBACK, named after its context


def answer_would_cancel(service: LocalService) -> Callable[[datetime, TimerKey], bool]:
    """A ``hold`` for `LocalService.run`: True for a timer an outside answer would cancel or move -- a
    callback's timeout or heartbeat deadline, and an execution's timeout while one of its callbacks is
    open -- so a virtual clock stops before it instead of timing the callback out at once."""

    def hold(due: datetime, key: TimerKey) -> bool:
        kind, arn, _ = key
        if kind in (CALLBACK_TIMER, HEARTBEAT_TIMER):
            return True
        if kind == EXECUTION_TIMEOUT_TIMER:
            return bool(_open_callbacks(service.get(arn)))
        return False

    return hold


def _open_callbacks(execution: LocalExecution) -> list[Operation]:
    return [
        op
        for op in execution.operations.values()
        if op.type == OperationType.CALLBACK and op.status == OperationStatus.STARTED
    ]


def _callback_title(op: Operation) -> str:
    name = op.name or op.id
    return name[: -len(_CALLBACK_NAME_SUFFIX)] if name.endswith(_CALLBACK_NAME_SUFFIX) else name


class AlwaysReplayError(AssertionError):
    """Always-replay mode found that replaying the handler does not reach what its first run recorded."""


@dataclass
class DurableRun:
    """One execution run by the harness: the service, what was checkpointed, and the outcome."""

    service: LocalService
    execution: LocalExecution
    recorder: RecordingBackend
    replay_check: ReplayCheck | None = None
    labeler: IdLabeler = field(default_factory=IdLabeler)
    seed: int = 0

    # -- outcome ------------------------------------------------------------------------------------------

    @property
    def status(self) -> ExecutionStatus:
        return self.execution.status

    @property
    def result(self) -> Any:
        """The execution's result, decoded from its JSON payload (None while running or failed)."""
        return decode_payload(self.execution.result)

    @property
    def error(self) -> ErrorObject | None:
        return self.execution.error

    # -- what happened ------------------------------------------------------------------------------------

    @property
    def batches(self) -> list[list[OperationUpdate]]:
        """Every checkpoint call's updates, in order, across all invocations."""
        return self.recorder.batches

    @property
    def updates(self) -> list[OperationUpdate]:
        return self.recorder.updates

    @property
    def history(self) -> list[Event]:
        return self.service.history(self.execution.arn)

    @property
    def operations(self) -> list[Operation]:
        return list(self.execution.operations.values())

    @property
    def checkpoints(self) -> str:
        """The checkpoint sequence as normalized text (what the snapshot extension stores)."""
        return render_checkpoints(self.batches, IdLabeler(), Normalizer())

    @property
    def history_text(self) -> str:
        return render_history(self.history, IdLabeler(), Normalizer())

    def snapshot_text(self) -> str:
        """Outcome, checkpoints and history, for `eventflow.testing.snapshot.DurableSnapshotExtension`."""
        normalizer = Normalizer()
        outcome = f"status: {self.status.value}\n"
        if self.execution.result is not None:
            outcome += f"result: {normalizer.payload(self.execution.result)}\n"
        if self.error is not None:
            outcome += normalizer.text(f"error: {self.error.error_type}: {self.error.error_message}") + "\n"
        labeler = IdLabeler()
        return (
            outcome
            + "\ncheckpoints:\n"
            + render_checkpoints(self.batches, labeler, normalizer)
            + "\nhistory:\n"
            + render_history(self.history, labeler, normalizer)
        )

    def label(self, op_id: str) -> str:
        """``root/2/1``: the operation's position label (the id itself if no position explains it)."""
        op = self.execution.operations.get(op_id)
        return op_label(self.labeler, op_id, op.parent_id if op else None)

    # -- callbacks ------------------------------------------------------------------------------------------

    def open_callbacks(self) -> dict[str, str]:
        """Callback id by operation name for every callback still waiting for an answer."""
        found: dict[str, str] = {}
        for op in _open_callbacks(self.execution):
            details = op.callback_details
            if details is not None and details.callback_id:
                found[op.name or op.id] = details.callback_id
        return found

    @property
    def waiting(self) -> str | None:
        """What the execution waits on from the outside world, one line per open callback, e.g.
        ``waiting on callback 'approve' (times out at +3600 s)`` (offsets from the clock's now); None
        when it waits on nothing the test could answer."""
        if not self.execution.running:
            return None
        records = {r.op_id: r for r in self.execution.callbacks.values()}
        now = self.service.clock.now()
        lines = []
        for op in _open_callbacks(self.execution):
            record = records.get(op.id)
            deadlines = []
            if record is not None and record.timeout_at is not None:
                deadlines.append(f"times out at {_offset(record.timeout_at, now)}")
            if record is not None and record.heartbeat_deadline is not None:
                deadlines.append(f"heartbeat due by {_offset(record.heartbeat_deadline, now)}")
            when = f" ({', '.join(deadlines)})" if deadlines else " (no timeout)"
            lines.append(f"waiting on callback {_callback_title(op)!r}{when}")
        return "\n".join(lines) or None

    def callback_id(self, which: str | None = None) -> str:
        """The open callback named ``which`` (or whose name starts with it: a `wait_for_callback` named
        ``"approve"`` creates ``"approve create callback id"``), or the only open one."""
        open_ = self.open_callbacks()
        if which is None:
            if len(open_) != 1:
                raise LookupError(f"expected exactly one open callback, found {sorted(open_)}")
            return next(iter(open_.values()))
        if which in open_.values():
            return which
        matches = [cid for name, cid in open_.items() if name == which or name.startswith(f"{which} ")]
        if len(matches) != 1:
            state = f"; {self.waiting}" if self.waiting else f"; the execution is {self.status.value}"
            raise LookupError(f"no single open callback named {which!r}; open: {sorted(open_)}{state}")
        return matches[0]

    def succeed_callback(
        self, which: str | None = None, result: Any = None, *, raw: str | None = None
    ) -> DurableRun:
        """Answer a callback with ``result`` (sent as JSON, or ``raw`` as is) and drive the execution on."""
        payload = raw if raw is not None else json.dumps(result)
        self.service.send_callback_success(self.callback_id(which), payload)
        return self.resume()

    def fail_callback(
        self,
        which: str | None = None,
        error_type: str = "Error",
        message: str = "",
        *,
        data: str | None = None,
    ) -> DurableRun:
        """Fail a callback and drive the execution on."""
        error = ErrorObject(error_type=error_type, error_message=message, error_data=data)
        self.service.send_callback_failure(self.callback_id(which), error)
        return self.resume()

    def heartbeat_callback(self, which: str | None = None) -> DurableRun:
        """Send a heartbeat for a callback (the execution is not driven: nothing changes for it)."""
        self.service.send_callback_heartbeat(self.callback_id(which))
        return self

    def resume(self) -> DurableRun:
        """Drive the execution until it ends or waits for the outside world again (a callback: the clock
        stops before its timeout, see `waiting`)."""
        with seeded_jitter(self.seed):
            self.service.run(self.execution.arn, hold=answer_would_cancel(self.service))
        if self.waiting:
            log.info("%s", self.waiting)
        return self

    def advance(self, seconds: float | None = None) -> DurableRun:
        """Let ``seconds`` of (virtual) time pass -- or, without ``seconds``, time up to the next timer --
        firing every timer due meanwhile, callback timeouts included; then drive on as `resume` does."""
        clock = self.service.clock
        if not isinstance(clock, VirtualClock):
            raise TypeError("advance() needs a service on a virtual clock; a real clock moves by itself")
        if seconds is not None and seconds < 0:
            raise ValueError(f"advance() takes seconds >= 0, got {seconds}")
        if seconds is None:
            target = self.service.next_timer()
            if target is None:
                raise LookupError("advance(): no timer is left to move time to")
        else:
            target = clock.now() + timedelta(seconds=seconds)
        with seeded_jitter(self.seed):
            self.service.run(self.execution.arn, hold=lambda due, key: due > target)
            if self.execution.running and clock.now() < target:
                clock.advance_to(target)
        return self.resume()


class DurableHarness:
    """Registers handlers on one local service and runs them to completion, recording their checkpoints."""

    def __init__(
        self, service: LocalService | None = None, *, always_replay: bool = False, seed: int = 0
    ) -> None:
        """``seed`` seeds retry jitter (`eventflow.retry.seeded_jitter`): the same seed, the same delays."""
        self.service = service or LocalService()
        self.always_replay = always_replay
        self.seed = seed
        self._names = itertools.count(1)

    def run(
        self,
        handler: Callable[..., Any],
        event: Any = None,
        *,
        name: str | None = None,
        always_replay: bool | None = None,
        check: bool = True,
    ) -> DurableRun:
        """Start ``handler`` (a plain ``(event, ctx)`` function or a `durable_execution` handler) with
        ``event`` and drive it until it ends or waits on a callback.

        With ``always_replay`` (default: the harness's setting) a divergence raises `AlwaysReplayError` unless
        ``check=False``, in which case it is left in ``run.replay_check``.
        """
        replaying = self.always_replay if always_replay is None else always_replay
        function_name = name or f"fn-{next(self._names)}"
        target = handler if isinstance(handler, DurableHandler) else DurableHandler(handler, None)
        recorder = RecordingBackend(self.service)
        check_result: ReplayCheck | None = None
        registered: Callable[[dict[str, Any], Any], Any]
        if replaying:
            cutter = CuttingBackend(recorder)
            check_result = ReplayCheck()
            service = self.service
            always = AlwaysReplayHandler(
                _with_backend(target, cutter),
                cutter,
                lambda arn: service.invocation_input(service.get(arn)),
                check_result,
            )
            registered = always
        else:
            registered = _with_backend(target, recorder)
        self.service.register(function_name, registered)
        execution = self.service.start_execution(function_name, event)
        run = DurableRun(self.service, execution, recorder, check_result, seed=self.seed)
        run.resume()
        if check and check_result is not None and not check_result.ok:
            raise AlwaysReplayError(
                f"always-replay mode: {len(check_result.divergences)} divergence(s) after "
                f"{check_result.replays} replay(s):\n"
                + "\n".join(relabel(d, run.label) for d in check_result.divergences)
            )
        return run


def _offset(when: datetime, now: datetime) -> str:
    return f"+{(when - now).total_seconds():g} s"


def _with_backend(target: Callable[..., Any], backend: Any) -> Callable[[dict[str, Any], Any], Any]:
    """``target`` invoked with checkpoints routed to ``backend`` (for handlers that name no backend)."""

    def invoke(event: dict[str, Any], lambda_context: Any = None) -> Any:
        with use_backend(backend):
            return target(event, lambda_context)

    return invoke
