"""The asyncio front-end: `AsyncDurableContext` and the driver that awaits plan effects.

Same plans as the sync front-end; the driver awaits async step functions, async backends, and
serialises checkpoints so that concurrent branches share one token chain in order.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from eventflow.backends.base import AsyncBackend, Backend
from eventflow.config import ChildConfig, StepConfig, StepSemantics
from eventflow.core.context import ContextCore
from eventflow.core.effects import Call, Effect, Enter, Flush, LoadPage, Plan
from eventflow.core.operations.step import StepContext
from eventflow.core.scope import Scope
from eventflow.core.state import ExecutionState
from eventflow.retry import RetryStrategy
from eventflow.serdes import SerDes

T = TypeVar("T")


class AsyncDriver:
    """Runs plans to completion, awaiting their I/O."""

    __slots__ = ("_lock", "backend")

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._lock = asyncio.Lock()

    async def run(self, plan: Plan[T]) -> T:
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
                value = await self._perform(effect)
            except BaseException as exc:  # handed back to the plan, which decides
                error = exc

    async def _perform(self, effect: Effect) -> Any:
        if type(effect) is Flush:
            await self._flush(effect.state)
            return None
        if type(effect) is Call:
            result = effect.fn(effect.arg)
            return (await result) if inspect.isawaitable(result) else result
        if type(effect) is Enter:
            result = effect.fn(AsyncDurableContext(self, effect.state, effect.scope))
            return (await result) if inspect.isawaitable(result) else result
        if type(effect) is LoadPage:
            if isinstance(self.backend, AsyncBackend):
                return await self.backend.aget_state(effect.arn, effect.token, effect.marker)
            return self.backend.get_state(effect.arn, effect.token, effect.marker)
        raise TypeError(f"unknown effect {effect!r}")

    async def _flush(self, state: ExecutionState) -> None:
        # Take the batches under the lock: a flush that finds its updates already in flight elsewhere
        # must still wait for their acknowledgement before it returns.
        async with self._lock:
            for batch in state.take_batches():
                if isinstance(self.backend, AsyncBackend):
                    result = await self.backend.acheckpoint(state.arn, state.token, batch)
                else:
                    result = self.backend.checkpoint(state.arn, state.token, batch)
                state.acknowledge(result.token, result.operations)


class AsyncDurableContext(ContextCore):
    """What an async durable handler receives: ``async def handler(event, ctx: AsyncDurableContext)``."""

    __slots__ = ("_driver",)

    def __init__(self, driver: AsyncDriver, state: ExecutionState, scope: Scope) -> None:
        super().__init__(state, scope)
        self._driver = driver

    def step(
        self,
        fn: Callable[[StepContext], T | Awaitable[T]],
        name: str | None = None,
        *,
        config: StepConfig | None = None,
        retry: RetryStrategy | None = None,
        semantics: StepSemantics | None = None,
        serdes: SerDes | None = None,
    ) -> Awaitable[T]:
        """Run ``fn(step_context)`` (sync or async) as a checkpointed, retried step."""
        return self._driver.run(self._step(fn, name, config, retry, semantics, serdes))

    def wait(
        self,
        duration: float | timedelta | None = None,
        *,
        seconds: float = 0,
        minutes: float = 0,
        hours: float = 0,
        days: float = 0,
        name: str | None = None,
    ) -> Awaitable[None]:
        """Suspend the execution for a while (at least 1 s); the service wakes it up again."""
        return self._driver.run(self._wait(duration, seconds, minutes, hours, days, name))

    def child_context(
        self,
        fn: Callable[[AsyncDurableContext], T | Awaitable[T]],
        name: str | None = None,
        *,
        config: ChildConfig | None = None,
        serdes: SerDes | None = None,
    ) -> Awaitable[T]:
        """Run ``fn(child_ctx)`` in its own id namespace, checkpointed as one operation."""
        return self._driver.run(self._child(fn, name, config, serdes))
