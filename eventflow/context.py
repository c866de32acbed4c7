"""The synchronous front-end: `DurableContext` and the driver that performs plan effects inline."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from eventflow.backends.base import Backend
from eventflow.config import ChildConfig, StepConfig, StepSemantics
from eventflow.core.context import ContextCore
from eventflow.core.effects import Call, Effect, Enter, Flush, LoadPage, Plan
from eventflow.core.operations.step import StepContext
from eventflow.core.scope import Scope
from eventflow.core.state import ExecutionState
from eventflow.retry import RetryStrategy
from eventflow.serdes import SerDes

T = TypeVar("T")


class SyncDriver:
    """Runs plans to completion, doing their I/O with blocking calls on a `Backend`."""

    __slots__ = ("backend",)

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def run(self, plan: Plan[T]) -> T:
        send, throw = plan.send, plan.throw
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                effect = send(value) if error is None else throw(error)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            value, error = None, None
            try:
                value = self._perform(effect)
            except BaseException as exc:  # handed back to the plan, which decides
                error = exc

    def _perform(self, effect: Effect) -> Any:
        if type(effect) is Flush:
            state = effect.state
            for batch in state.take_batches():
                result = self.backend.checkpoint(state.arn, state.token, batch)
                state.acknowledge(result.token, result.operations)
            return None
        if type(effect) is Call:
            result = effect.fn(effect.arg)
            return _not_awaitable(result, effect.fn)
        if type(effect) is Enter:
            child = DurableContext(self, effect.state, effect.scope)
            return _not_awaitable(effect.fn(child), effect.fn)
        if type(effect) is LoadPage:
            return self.backend.get_state(effect.arn, effect.token, effect.marker)
        raise TypeError(f"unknown effect {effect!r}")


def _not_awaitable(result: Any, fn: Callable[..., Any]) -> Any:
    if inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()
        raise TypeError(
            f"{getattr(fn, '__qualname__', fn)!r} returned an awaitable in a synchronous handler; "
            "write the handler as `async def` to use async functions"
        )
    return result


class DurableContext(ContextCore):
    """What a synchronous durable handler receives: ``def handler(event, ctx: DurableContext)``."""

    __slots__ = ("_driver",)

    def __init__(self, driver: SyncDriver, state: ExecutionState, scope: Scope) -> None:
        super().__init__(state, scope)
        self._driver = driver

    def step(
        self,
        fn: Callable[[StepContext], T],
        name: str | None = None,
        *,
        config: StepConfig | None = None,
        retry: RetryStrategy | None = None,
        semantics: StepSemantics | None = None,
        serdes: SerDes | None = None,
    ) -> T:
        """Run ``fn(step_context)`` as a checkpointed, retried step and return its result."""
        return self._driver.run(self._step(fn, name, config, retry, semantics, serdes))  # type: ignore[no-any-return]

    def wait(
        self,
        duration: float | timedelta | None = None,
        *,
        seconds: float = 0,
        minutes: float = 0,
        hours: float = 0,
        days: float = 0,
        name: str | None = None,
    ) -> None:
        """Suspend the execution for a while (at least 1 s); the service wakes it up again."""
        self._driver.run(self._wait(duration, seconds, minutes, hours, days, name))

    def child_context(
        self,
        fn: Callable[[DurableContext], T],
        name: str | None = None,
        *,
        config: ChildConfig | None = None,
        serdes: SerDes | None = None,
    ) -> T:
        """Run ``fn(child_ctx)`` in its own id namespace, checkpointed as one operation."""
        return self._driver.run(self._child(fn, name, config, serdes))  # type: ignore[no-any-return]
