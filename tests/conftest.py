"""Shared fixtures: run a handler on the in-process local service and record its checkpoints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from eventflow.handler import DurableHandler
from eventflow.local import LocalExecution, LocalService
from eventflow.testing import IdLabeler, RecordingBackend, render_checkpoints


@dataclass
class Run:
    service: LocalService
    recorder: RecordingBackend
    execution: LocalExecution

    @property
    def checkpoints(self) -> str:
        return render_checkpoints(self.recorder.batches, IdLabeler(), verbatim=True)


@pytest.fixture
def run_handler() -> Callable[..., Run]:
    """``run_handler(fn, input)``: run ``fn`` (a plain handler function) to completion, recording."""

    def run(fn: Callable[[Any, Any], Any], event: Any = None, *, name: str = "fn") -> Run:
        service = LocalService()
        recorder = RecordingBackend(service)
        service.register(name, DurableHandler(fn, recorder))
        execution = service.start_execution(name, event)
        service.run(execution.arn)
        return Run(service, recorder, execution)

    return run
