"""The transport abstraction: how checkpoints reach a durable-execution service.

A backend speaks the two calls an invocation needs, in eventflow's wire models. `LambdaBackend` talks to
AWS through boto3; the local service (`eventflow.local`) is a backend too. Front-ends call the sync
methods, or the async ones when a backend offers them (`AsyncBackend`).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from eventflow.events.emitted import AnyUpdate
from eventflow.events.records import OperationRecord

if TYPE_CHECKING:
    from eventflow.events.wire import Operation


@dataclass(frozen=True, slots=True)
class CheckpointResult:
    """The service's answer to a checkpoint: the token for the next one, and the operations it changed
    (models, or records validated with `eventflow.events.records.validate_record`)."""

    token: str
    operations: Sequence[Operation | OperationRecord]
    next_marker: str | None = None


@dataclass(frozen=True, slots=True)
class StatePage:
    """One page of GetDurableExecutionState (operations as in `CheckpointResult`)."""

    operations: Sequence[Operation | OperationRecord]
    next_marker: str | None


class Backend(Protocol):
    def checkpoint(self, arn: str, token: str, updates: Sequence[AnyUpdate]) -> CheckpointResult:
        """CheckpointDurableExecution. Raises `CheckpointError` when the service refuses."""
        ...

    def get_state(self, arn: str, token: str, marker: str) -> StatePage:
        """GetDurableExecutionState, the page after ``marker``."""
        ...


@runtime_checkable
class AsyncBackend(Protocol):
    async def acheckpoint(self, arn: str, token: str, updates: Sequence[AnyUpdate]) -> CheckpointResult:
        """`Backend.checkpoint`, awaited: the async front-end checkpoints here when a backend has it."""
        ...

    async def aget_state(self, arn: str, token: str, marker: str) -> StatePage:
        """`Backend.get_state`, awaited."""


_override: contextvars.ContextVar[Backend | None] = contextvars.ContextVar("eventflow_backend", default=None)


@contextmanager
def use_backend(backend: Backend) -> Iterator[Backend]:
    """Make every durable handler called inside this block checkpoint through ``backend``.

    This is how a runner or a test points unmodified handlers at a local service.
    """
    reset = _override.set(backend)
    try:
        yield backend
    finally:
        _override.reset(reset)


def current_backend() -> Backend | None:
    """The backend installed by `use_backend`, if any."""
    return _override.get()
