"""What the core calls to be observed: the execution observer (plugins) and the logging layer.

Why here: the core must not import the layers above it. It declares, in this module, the two protocols
it calls, and the layers above implement them: `eventflow.plugins.PluginHost` is an `ExecutionObserver`,
`eventflow.log.LogSettings` is a `Logging`. ``ExecutionState.hooks`` holds an observer or ``None``, so
an execution without plugins pays one attribute test per operation; ``ExecutionState.log_settings``
holds a `Logging` or ``None`` for the default one, which the logging layer installs when it is imported
(`install_default_logging`; ``import eventflow`` always imports it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from eventflow.core.operations.step import StepContext
    from eventflow.core.scope import Scope
    from eventflow.core.state import ExecutionState
    from eventflow.events.emitted import AnyUpdate
    from eventflow.events.wire import Operation


class ExecutionObserver(Protocol):
    """The calls the core makes to whoever observes an invocation (never able to change it).

    Each is made on the thread (or task) that runs the code concerned; `ExecutionState.emit` makes
    ``operation_updated`` with the state's lock held.
    """

    def start(self, state: ExecutionState, execution_input: Any, updated_ids: Sequence[str]) -> None:
        """The invocation's state is loaded and its handler is about to run."""

    def operation_replayed(self, op: Operation) -> None:
        """Replay met ``op``, recorded by an earlier invocation."""

    def operation_updated(self, update: AnyUpdate, previous: str) -> None:
        """``update`` was queued; ``previous`` is the operation's state before it."""

    def attempt_started(
        self, op_id: str, name: str | None, sub_type: str | None, parent_id: str | None, attempt: int
    ) -> None:
        """A step's function (or a condition check) is about to run, as attempt ``attempt``."""

    def attempt_ended(
        self,
        op_id: str,
        name: str | None,
        sub_type: str | None,
        parent_id: str | None,
        attempt: int,
        *,
        exc: BaseException | None,
    ) -> None:
        """That run ended, raising ``exc`` or not."""

    def context_entered(
        self, op_id: str, name: str | None, sub_type: str | None, parent_id: str | None, *, replay: bool
    ) -> None:
        """A child context's function is about to run; ``replay`` when it re-runs to rebuild a result."""

    def context_exited(
        self,
        op_id: str,
        name: str | None,
        sub_type: str | None,
        parent_id: str | None,
        *,
        exc: BaseException | None,
    ) -> None:
        """That function returned or raised ``exc`` (a suspension included)."""

    def trace_header(self, op_id: str, function_name: str) -> str | None:
        """The X-Ray trace header to send with the chained invoke ``op_id`` starts (its START's
        ``ChainedInvokeOptions.XAmznTraceId``), or ``None``."""


class ContextLogger(Protocol):
    """The logger a context or a step attempt hands to user code (``ctx.logger``)."""

    @property
    def enabled(self) -> bool: ...

    def bind(self, **fields: object) -> ContextLogger: ...

    def debug(self, msg: object, *args: object, **kwargs: Any) -> None: ...

    def info(self, msg: object, *args: object, **kwargs: Any) -> None: ...

    def warning(self, msg: object, *args: object, **kwargs: Any) -> None: ...

    def error(self, msg: object, *args: object, **kwargs: Any) -> None: ...

    def exception(self, msg: object, *args: object, **kwargs: Any) -> None: ...


class LoggerLike(Protocol):
    """A logger records can be written to: the stdlib's level methods, taking ``extra=``."""

    def debug(self, msg: object, *args: Any, **kwargs: Any) -> None: ...

    def info(self, msg: object, *args: Any, **kwargs: Any) -> None: ...

    def warning(self, msg: object, *args: Any, **kwargs: Any) -> None: ...

    def error(self, msg: object, *args: Any, **kwargs: Any) -> None: ...

    def exception(self, msg: object, *args: Any, **kwargs: Any) -> None: ...


class Logging(Protocol):
    """What the core asks of the logging layer: the loggers of contexts and step attempts."""

    def context_logger(self, state: ExecutionState, scope: Scope) -> ContextLogger: ...

    def step_logger(self, step: StepContext) -> ContextLogger: ...

    def configured(self, logger: LoggerLike, log_replay: bool) -> Logging:
        """The same layer writing to ``logger`` (``ctx.set_logger``)."""
        ...


_default_logging: list[Logging] = []


def install_default_logging(logging: Logging) -> None:
    """Called by the logging layer on import: the `Logging` of states whose handler configured none."""
    _default_logging[:] = [logging]


def logging_of(state: ExecutionState | None) -> Logging:
    """The logging layer ``state`` uses."""
    settings = state.log_settings if state is not None else None
    if settings is not None:
        return settings
    if not _default_logging:
        raise RuntimeError("no logging layer is installed (importing eventflow installs eventflow.log's)")
    return _default_logging[0]


__all__ = [
    "ContextLogger",
    "ExecutionObserver",
    "LoggerLike",
    "Logging",
    "install_default_logging",
    "logging_of",
]
