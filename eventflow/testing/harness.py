"""Run a durable handler to completion on the local service and look at everything it did.

Why: a test of a durable function wants its result, its checkpoints and its history after the service has
driven it through every wait and retry (instantly, on the virtual clock), and a way to play the outside
world for callbacks. `DurableHarness.run` gives a `DurableRun` with all of that; `always_replay=True`
runs it under `eventflow.testing.always_replay`, which fails the run when a replay diverges.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eventflow.backends.base import use_backend
from eventflow.events.enums import ExecutionStatus, OperationStatus, OperationType
from eventflow.events.history import Event
from eventflow.events.wire import ErrorObject, Operation, OperationUpdate
from eventflow.handler import DurableHandler
from eventflow.local import LocalExecution, LocalService
from eventflow.testing.always_replay import AlwaysReplayHandler, CuttingBackend, ReplayCheck, relabel
from eventflow.testing.labels import IdLabeler
from eventflow.testing.lines import op_label, render_checkpoints, render_history
from eventflow.testing.normalize import Normalizer, decode_payload
from eventflow.testing.recording import RecordingBackend

__all__ = ["AlwaysReplayError", "DurableHarness", "DurableRun"]


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
        op = self.execution.operations.get(op_id)
        return op_label(self.labeler, op_id, op.parent_id if op else None)

    # -- callbacks ------------------------------------------------------------------------------------------

    def open_callbacks(self) -> dict[str, str]:
        """Callback id by operation name for every callback still waiting for an answer."""
        found: dict[str, str] = {}
        for op in self.execution.operations.values():
            if op.type == OperationType.CALLBACK and op.status == OperationStatus.STARTED:
                details = op.callback_details
                if details is not None and details.callback_id:
                    found[op.name or op.id] = details.callback_id
        return found

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
            raise LookupError(f"no single open callback named {which!r}; open: {sorted(open_)}")
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
        """Drive the execution until it ends or waits for the outside world again."""
        self.service.run(self.execution.arn)
        return self


class DurableHarness:
    """Registers handlers on one local service and runs them to completion, recording their checkpoints."""

    def __init__(self, service: LocalService | None = None, *, always_replay: bool = False) -> None:
        self.service = service or LocalService()
        self.always_replay = always_replay
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
        self.service.run(execution.arn)
        run = DurableRun(self.service, execution, recorder, check_result)
        if check and check_result is not None and not check_result.ok:
            raise AlwaysReplayError(
                f"always-replay mode: {len(check_result.divergences)} divergence(s) after "
                f"{check_result.replays} replay(s):\n"
                + "\n".join(relabel(d, run.label) for d in check_result.divergences)
            )
        return run


def _with_backend(target: Callable[..., Any], backend: Any) -> Callable[[dict[str, Any], Any], Any]:
    """``target`` invoked with checkpoints routed to ``backend`` (for handlers that name no backend)."""

    def invoke(event: dict[str, Any], lambda_context: Any = None) -> Any:
        with use_backend(backend):
            return target(event, lambda_context)

    return invoke
