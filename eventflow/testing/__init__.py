"""Tools for testing durable handlers: readable operation labels, checkpoint recording and rendering,
a harness that runs handlers on the local service (with an always-replay mode), snapshot text, replay
verification (`eventflow.testing.replay`) and history export/import (`eventflow.testing.histories`).

The pytest plugin (`eventflow.testing.pytest_plugin`) and the syrupy extension
(`eventflow.testing.snapshot`) are imported on their own, as they need pytest and syrupy. The harness and
renderers are loaded on first use: the plugin imports this package in every pytest session of a project
that installs eventflow, and must not pull in the local service there until a fixture needs it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from eventflow.testing.labels import IdLabeler
from eventflow.testing.recording import RecordingBackend

if TYPE_CHECKING:
    from eventflow.testing.harness import AlwaysReplayError, DurableHarness, DurableRun
    from eventflow.testing.lines import render_checkpoints, render_history, render_operations
    from eventflow.testing.normalize import Normalizer

_LAZY = {
    "AlwaysReplayError": "eventflow.testing.harness",
    "DurableHarness": "eventflow.testing.harness",
    "DurableRun": "eventflow.testing.harness",
    "Normalizer": "eventflow.testing.normalize",
    "render_checkpoints": "eventflow.testing.lines",
    "render_history": "eventflow.testing.lines",
    "render_operations": "eventflow.testing.lines",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "AlwaysReplayError",
    "DurableHarness",
    "DurableRun",
    "IdLabeler",
    "Normalizer",
    "RecordingBackend",
    "render_checkpoints",
    "render_history",
    "render_operations",
]
