"""Always-replay mode: cut the invocation after every acknowledged checkpoint and replay from the service.

Why: a handler that branches on ``random``, reads the clock or generates ids outside a step works on its
first run and breaks only when Lambda replays it, typically in production after a wait. Restate's test
harness suspends after every journal entry; this does the same for eventflow, so such bugs fail in unit
tests.

How, without touching the core or slowing its normal path:

- `CuttingBackend` wraps the real backend. After a checkpoint the service acknowledged, it raises `ReplayCut`
  (a `BaseException`, so neither user code nor the core's ``except Exception`` handlers swallow it; not
  `SuspendExecution`, which the core answers with PENDING and, with nothing pending, fails the execution).
  It does not cut right after a batch that leaves a step STARTED (its code is about to run, and an
  at-most-once step found STARTED on replay counts as interrupted) nor after an EXECUTION update. Every
  step's START is such a batch: it is acknowledged on its own before the code runs (`StepConfig.batch_start`
  aside). The wire does not say whether the step is at-most-once, so no such batch is cut; for an
  at-least-once step a cut there would be harmless but would only re-run an attempt whose code had not
  begun, and the completion's checkpoint right after it is cut instead.
- `AlwaysReplayHandler` wraps the Lambda-level handler: on a cut it reloads the execution state from the
  service and invokes the handler again, within the same service invocation, so the service sees an
  ordinary invocation. Every operation is thus replayed after each checkpoint, and the core's replay check
  (same type, sub-type, name and parent at each id) runs against it.
- When the handler finishes (SUCCEEDED or FAILED), it is replayed once more over the final state, which must
  give the same output and write no checkpoint: this catches values computed outside steps that reach the
  result (a timestamp, a uuid) though they name no operation.

Findings are collected in a `ReplayCheck` rather than raised inside the service, so the service's view
of the execution stays exactly what Lambda would produce; the test harness turns them into a failure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventflow.backends.base import Backend, CheckpointResult, StatePage
from eventflow.events.emitted import AnyUpdate
from eventflow.events.enums import OperationAction, OperationType

__all__ = ["AlwaysReplayHandler", "CuttingBackend", "ReplayCheck", "ReplayCut", "can_cut_after"]

LambdaHandler = Callable[[dict[str, Any], Any], Any]
NON_DETERMINISM = "NonDeterministicExecutionError"
_HEX_ID = re.compile(r"\b[0-9a-f]{64}\b")
_ENUM_REPR = re.compile(r"<\w+\.\w+: '([^']*)'>")


class ReplayCut(BaseException):
    """Ends an invocation right after an acknowledged checkpoint, as if the sandbox had been recycled."""


class UnexpectedCheckpoint(BaseException):
    """A replay over a finished execution tried to checkpoint: the code does something it did not record."""

    def __init__(self, updates: Sequence[AnyUpdate]) -> None:
        self.updates = list(updates)
        super().__init__(f"{len(self.updates)} update(s)")


def can_cut_after(updates: Sequence[AnyUpdate]) -> bool:
    """Whether an invocation may be cut after this acknowledged batch without changing the execution.

    Not after an EXECUTION update, nor after a batch whose last update for some step is its START (a
    step's START alone, or with the updates pending before it): whether that step is at-most-once, in
    which case a replay would take the attempt for interrupted, is not on the wire.
    """
    last_step_action: dict[str, OperationAction] = {}
    for update in updates:
        if update.type == OperationType.EXECUTION:
            return False
        if update.type == OperationType.STEP:
            last_step_action[update.id] = update.action
    return OperationAction.START not in last_step_action.values()


class CuttingBackend:
    """Passes checkpoints on and, while `armed`, raises `ReplayCut` after each acknowledged one."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.armed = True
        self.refuse = False  # set during the final verification replay: nothing may be checkpointed
        self.cuts = 0

    def checkpoint(self, arn: str, token: str, updates: Sequence[AnyUpdate]) -> CheckpointResult:
        if self.refuse:
            raise UnexpectedCheckpoint(updates)
        result = self.inner.checkpoint(arn, token, updates)
        if self.armed and can_cut_after(updates):
            self.cuts += 1
            raise ReplayCut(f"cut after checkpoint {self.cuts}")
        return result

    def get_state(self, arn: str, token: str, marker: str) -> StatePage:
        return self.inner.get_state(arn, token, marker)


@dataclass
class ReplayCheck:
    """What always-replay mode found: how often it replayed, and every divergence (empty when sound)."""

    replays: int = 0
    divergences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.divergences


class AlwaysReplayHandler:
    """A Lambda handler that re-invokes ``handler`` after every cut and verifies the final replay.

    ``reload(arn)`` returns a fresh invocation input (current token and operations) from the service.
    """

    def __init__(
        self,
        handler: LambdaHandler,
        backend: CuttingBackend,
        reload: Callable[[str], dict[str, Any]],
        check: ReplayCheck | None = None,
    ) -> None:
        self.handler = handler
        self.backend = backend
        self.reload = reload
        self.check = check or ReplayCheck()

    def __call__(self, event: dict[str, Any], lambda_context: Any = None) -> Any:
        arn = event["DurableExecutionArn"]
        while True:
            try:
                output = self.handler(event, lambda_context)
            except ReplayCut:
                self.check.replays += 1
                event = self.reload(arn)
                continue
            break
        if isinstance(output, dict) and output.get("Status") in ("SUCCEEDED", "FAILED"):
            self._verify_final(arn, output, lambda_context)
        return output

    def _verify_final(self, arn: str, output: dict[str, Any], lambda_context: Any) -> None:
        error = output.get("Error") or {}
        if NON_DETERMINISM in str(error.get("ErrorType", "")):
            message = _ENUM_REPR.sub(r"'\1'", str(error.get("ErrorMessage")))
            self.check.divergences.append(f"replay diverged: {message}")
            return
        self.backend.armed, self.backend.refuse = False, True
        try:
            again = self.handler(self.reload(arn), lambda_context)
        except UnexpectedCheckpoint as exc:
            shown = ", ".join(f"{u.action.value} {u.type.value} {u.name!r}" for u in exc.updates)
            self.check.divergences.append(
                f"replaying the finished execution checkpointed again ({shown}): the code now does "
                "something the first run did not record"
            )
            return
        finally:
            self.backend.armed, self.backend.refuse = True, False
        self.check.replays += 1
        if again != output:
            self.check.divergences.append(
                f"replaying the finished execution gave another outcome: first {_brief(output)}, replay "
                f"{_brief(again)}; a value computed outside a step (time, random, uuid) reaches the result"
            )


def _brief(output: Any) -> str:
    if not isinstance(output, dict):
        return repr(output)
    if output.get("Status") == "SUCCEEDED":
        return f"SUCCEEDED {output.get('Result')}"
    error = output.get("Error") or {}
    return f"{output.get('Status')} {error.get('ErrorType')}: {error.get('ErrorMessage')}"


def relabel(text: str, label: Callable[[str], str]) -> str:
    """``text`` with every 64-hex operation id replaced by ``label(id)``."""
    return _HEX_ID.sub(lambda m: label(m.group(0)), text)
