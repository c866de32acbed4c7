"""`RecordingBackend`: a backend that remembers every checkpoint batch it passes on."""

from __future__ import annotations

from collections.abc import Sequence

from eventflow.backends.base import Backend, CheckpointResult, StatePage
from eventflow.events.emitted import AnyUpdate, as_update
from eventflow.events.wire import OperationUpdate


class RecordingBackend:
    """Wraps another backend and records each checkpoint call's updates, in order, as `OperationUpdate`
    models (what a test inspects, copies and snapshots), whichever form the core emitted them in."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.batches: list[list[OperationUpdate]] = []

    @property
    def updates(self) -> list[OperationUpdate]:
        return [u for batch in self.batches for u in batch]

    def checkpoint(self, arn: str, token: str, updates: Sequence[AnyUpdate]) -> CheckpointResult:
        """Record the batch, then pass it on to the service."""
        result = self.inner.checkpoint(arn, token, updates)
        self.batches.append([as_update(update) for update in updates])
        return result

    def get_state(self, arn: str, token: str, marker: str) -> StatePage:
        """Pass the state read on to the service (reads are not recorded)."""
        return self.inner.get_state(arn, token, marker)
