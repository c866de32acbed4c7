"""Backends: where checkpoints go. See `base.Backend`."""

from eventflow.backends.base import (
    AsyncBackend,
    Backend,
    CheckpointResult,
    StatePage,
    current_backend,
    use_backend,
)

__all__ = ["AsyncBackend", "Backend", "CheckpointResult", "StatePage", "current_backend", "use_backend"]
