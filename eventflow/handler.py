"""`durable_execution`: turns ``def handler(event, ctx)`` or ``async def handler(event, ctx)`` into a
Lambda handler that takes the durable-execution invocation input and returns the invocation output.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import threading
from collections.abc import Callable, Sequence
from typing import Any, overload

from eventflow.backends.base import AsyncBackend, Backend, CheckpointResult, StatePage, current_backend
from eventflow.context import SyncDriver
from eventflow.core.effects import Plan
from eventflow.core.error_names import ErrorTypes, wants_official
from eventflow.core.invocation import invocation_plan
from eventflow.events.emitted import AnyUpdate
from eventflow.log import LoggerLike, LogSettings
from eventflow.plugins import Plugin, PluginFactory, PluginHost
from eventflow.serdes import SerDes

BackendSource = Backend | Callable[[], Backend]

_default_backend: Backend | None = None
_runners = threading.local()


class DurableHandler:
    """A durable Lambda handler. Call it as Lambda does: ``handler(invocation_input, lambda_context)``.

    Checkpoints go to, in order of precedence: the backend given to `durable_execution`, the one
    installed with `eventflow.backends.use_backend`, or AWS Lambda through boto3 (created on first use).
    """

    def __init__(
        self,
        fn: Callable[[Any, Any], Any],
        backend: BackendSource | None,
        *,
        plugins: Sequence[Plugin | PluginFactory] = (),
        logger: LoggerLike | None = None,
        log_replay: bool = False,
        serdes: SerDes | None = None,
        event_log: bool = False,
        error_types: ErrorTypes | str = ErrorTypes.EVENTFLOW,
    ) -> None:
        self.fn = fn
        self.official_errors = wants_official(error_types)
        self.event_log = event_log
        self.is_async = inspect.iscoroutinefunction(fn)
        self._backend = backend
        self.plugins: tuple[Plugin | PluginFactory, ...] = tuple(plugins)
        self.log_settings = LogSettings(logger, log_replay) if logger is not None or log_replay else None
        self.serdes = serdes
        functools.update_wrapper(self, fn)

    def _plan(self, event: Any, lambda_context: Any) -> Plan[dict[str, Any]]:
        """The invocation plan with this handler's options; observed by a fresh `PluginHost` if any."""
        if not self.plugins:
            return invocation_plan(
                event, self.fn, log_settings=self.log_settings, serdes=self.serdes, keep_log=self.event_log,
                official_errors=self.official_errors,
            )
        host = PluginHost(self.plugins, lambda_context)
        plan = invocation_plan(
            event, self.fn, hooks=host, log_settings=self.log_settings, serdes=self.serdes,
            keep_log=self.event_log, official_errors=self.official_errors,
        )
        return host.observe(plan)

    def backend(self) -> Backend:
        """Where this invocation's checkpoints go: the handler's own backend, else the one installed with
        `eventflow.backends.use_backend`, else AWS Lambda (built on first use)."""
        if self._backend is not None:
            return self._backend() if callable(self._backend) else self._backend
        installed = current_backend()
        if installed is not None:
            return installed
        global _default_backend  # noqa: PLW0603 - one boto3 client per warm Lambda sandbox
        if _default_backend is None:
            from eventflow.backends.aws import LambdaBackend

            _default_backend = LambdaBackend()
        return _default_backend

    def _transport(self) -> Backend:
        """A backend ready at hand is used directly; one that must be built (boto3's) waits for the
        first checkpoint, so that bad input fails before any client exists."""
        if self._backend is not None and not callable(self._backend):
            return self._backend
        return current_backend() or _Lazy(self.backend)

    def __call__(self, event: Any, lambda_context: Any = None) -> dict[str, Any]:
        if self.is_async:
            import asyncio  # only async handlers pay for importing asyncio

            runner: asyncio.Runner | None = getattr(_runners, "runner", None)
            if runner is None:
                runner = _runners.runner = asyncio.Runner()
            # The runner is reused across warm invocations; each run takes the caller's context so that
            # `use_backend` (and any other contextvar) set around this call is seen inside.
            return runner.run(self.ainvoke(event, lambda_context), context=contextvars.copy_context())
        return SyncDriver(self._transport()).run(self._plan(event, lambda_context))

    async def ainvoke(self, event: Any, lambda_context: Any = None) -> dict[str, Any]:
        """Run one invocation of an ``async def`` handler on the running event loop."""
        if not self.is_async:
            raise TypeError(f"{self.fn.__qualname__} is not an async handler; call the handler directly")
        from eventflow.aio import AsyncDriver

        return await AsyncDriver(self._transport()).run(self._plan(event, lambda_context))


class _Lazy:
    """Resolves the backend at the first checkpoint, so input errors surface before any client is built."""

    __slots__ = ("_async", "_backend", "_resolve")

    def __init__(self, resolve: Callable[[], Backend]) -> None:
        self._resolve = resolve
        self._backend: Backend | None = None
        self._async = False

    def _get(self) -> Backend:
        if self._backend is None:
            self._backend = self._resolve()
            self._async = isinstance(self._backend, AsyncBackend)  # a Protocol check: slow, so once
        return self._backend

    def checkpoint(self, arn: str, token: str, updates: Sequence[AnyUpdate]) -> CheckpointResult:
        return self._get().checkpoint(arn, token, updates)

    def get_state(self, arn: str, token: str, marker: str) -> StatePage:
        return self._get().get_state(arn, token, marker)

    async def acheckpoint(self, arn: str, token: str, updates: Sequence[AnyUpdate]) -> CheckpointResult:
        backend = self._get()
        if self._async:
            return await backend.acheckpoint(arn, token, updates)  # type: ignore[attr-defined,no-any-return]
        return backend.checkpoint(arn, token, updates)

    async def aget_state(self, arn: str, token: str, marker: str) -> StatePage:
        backend = self._get()
        if self._async:
            return await backend.aget_state(arn, token, marker)  # type: ignore[attr-defined,no-any-return]
        return backend.get_state(arn, token, marker)


@overload
def durable_execution(fn: Callable[[Any, Any], Any], /) -> DurableHandler: ...


@overload
def durable_execution(
    *,
    backend: BackendSource | None = None,
    plugins: Sequence[Plugin | PluginFactory] = (),
    logger: LoggerLike | None = None,
    log_replay: bool = False,
    serdes: SerDes | None = None,
    event_log: bool = False,
    error_types: ErrorTypes | str = ErrorTypes.EVENTFLOW,
) -> Callable[[Callable[[Any, Any], Any]], DurableHandler]: ...


def durable_execution(
    fn: Callable[[Any, Any], Any] | None = None,
    /,
    *,
    backend: BackendSource | None = None,
    plugins: Sequence[Plugin | PluginFactory] = (),
    logger: LoggerLike | None = None,
    log_replay: bool = False,
    serdes: SerDes | None = None,
    event_log: bool = False,
    error_types: ErrorTypes | str = ErrorTypes.EVENTFLOW,
) -> DurableHandler | Callable[[Callable[[Any, Any], Any]], DurableHandler]:
    """Decorate a durable handler: ``@durable_execution`` or ``@durable_execution(backend=..., ...)``.

    ``plugins`` observe every invocation (`eventflow.plugins`); ``logger`` is what ``ctx.logger`` and
    ``step_context.logger`` write to (a stdlib or Powertools logger), ``log_replay`` keeps them writing
    while replaying; ``serdes`` is the default for every operation that names none (e.g.
    `EnvelopeSerDes` to replay histories the official SDK wrote); ``event_log`` keeps every snapshot
    and update of each invocation in ``ctx.state.log`` (for audits and tests; off, it costs nothing);
    ``error_types="official"`` records the official SDK's ErrorType names where an operation's failure
    escapes into its parent or ends the execution (``...exceptions.StepError`` where eventflow records the
    step's own error; docs/MIGRATING.md).
    """
    options: dict[str, Any] = {
        "plugins": plugins, "logger": logger, "log_replay": log_replay, "serdes": serdes,
        "event_log": event_log, "error_types": error_types,
    }
    if fn is not None:
        _require_handler(fn)
        return DurableHandler(fn, backend, **options)

    def decorate(f: Callable[[Any, Any], Any]) -> DurableHandler:
        _require_handler(f)
        return DurableHandler(f, backend, **options)

    return decorate


def _require_handler(fn: object) -> None:
    """Refuse, when decorating, what cannot be a handler (a bare TypeError would come at the first event)."""
    if not callable(fn):
        from eventflow.errors import InvalidInputError

        raise InvalidInputError(
            f"durable_execution decorates a handler function (event, ctx) -> result, got "
            f"{type(fn).__name__} {fn!r}; use @durable_execution or @durable_execution(...) on a function"
        )
