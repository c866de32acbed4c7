"""The asyncio front-end: `AsyncDurableContext` and the driver that awaits plan effects.

Same plans as the sync front-end; the driver awaits async step functions and async backends (a sync-only
backend's calls run in a thread), and checkpoints through the state's `CheckpointScheduler`: tasks that
flush while a call is in flight wait for it and share the next one (group commit), so that concurrent
branches and ``asyncio.gather``-ed steps share one token chain in order and a few calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast, overload

from eventflow.backends.base import AsyncBackend, Backend
from eventflow.batch import BatchResult, MapConfig, ParallelBranch, ParallelConfig
from eventflow.config import ChildConfig, StepConfig, StepSemantics
from eventflow.core.context import ContextCore
from eventflow.core.effects import PLAIN_RESULTS, Call, Effect, Enter, Flush, Fork, LoadPage, Plan
from eventflow.core.operations.callback import AsyncCallback
from eventflow.core.operations.compensation import CompensationSummary
from eventflow.core.operations.step import StepContext, open_step, run_step
from eventflow.core.scope import Scope, running_step
from eventflow.core.state import ExecutionState
from eventflow.errors import SuspendExecution
from eventflow.retry import RetryStrategy
from eventflow.serdes import SerDes
from eventflow.waits import WaitStrategy

T = TypeVar("T")
U = TypeVar("U")


class AsyncDriver:
    """Runs plans to completion, awaiting their I/O."""

    __slots__ = ("_abackend", "_background", "_call_done", "_checkpointing", "_doomed", "backend")

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        # Checked once: isinstance against a runtime-checkable Protocol costs more than a checkpoint
        # into a fast backend, and `_flush` runs once per item of a map.
        self._abackend: AsyncBackend | None = backend if isinstance(backend, AsyncBackend) else None
        # The end of the call in flight, which flushes waiting for it await; the task making the call,
        # and item tasks to cancel once their call is over: cancelling one mid-call would lose the token
        # it consumed.
        self._call_done: asyncio.Future[None] | None = None
        self._checkpointing: asyncio.Task[Any] | None = None
        self._doomed: set[asyncio.Task[Any]] = set()
        self._background: set[asyncio.Task[Any]] = set()  # calls a linger's expiry started

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
            if effect.linger is not None and effect.linger.checkpoints.defer():
                self._arm(effect.linger)
            running = running_step.set(effect.arg)  # durable calls from the step's code are refused
            try:
                result = effect.fn(effect.arg)
                if type(result) in PLAIN_RESULTS:  # a sync step function's usual result: skip the ABC check
                    return result
                return (await result) if inspect.isawaitable(result) else result
            finally:
                running_step.reset(running)
        if type(effect) is Enter:
            result = effect.fn(AsyncDurableContext(self, effect.state, effect.scope))
            return (await result) if inspect.isawaitable(result) else result
        if type(effect) is LoadPage:
            if isinstance(self.backend, AsyncBackend):
                return await self.backend.aget_state(effect.arn, effect.token, effect.marker)
            return self.backend.get_state(effect.arn, effect.token, effect.marker)
        if type(effect) is Fork:
            await self._fork(effect)
            return None
        raise TypeError(f"unknown effect {effect!r}")

    async def _fork(self, fork: Fork) -> None:
        """Run a batch's items as tasks; the plan decides which start and when the batch is done.

        Each new task runs up to its first real await before the next item is admitted, so items that
        never truly await run one after another exactly as in the sync driver, and no task outlives its
        item: tasks alive at once are bounded by the items really awaiting something. Once the batch is
        decided, the tasks still running are cancelled (their items stay STARTED).
        """
        running: set[asyncio.Task[bool]] = set()
        finished: deque[asyncio.Task[bool]] = deque()
        progress = asyncio.Event()

        def on_done(task: asyncio.Task[bool]) -> None:
            running.discard(task)
            finished.append(task)
            progress.set()

        try:
            while True:
                while finished:
                    if finished.popleft().result():  # re-raises what the item's report raised
                        return
                index = fork.admit()
                if index is not None:
                    task = asyncio.ensure_future(self._branch(fork, index, fork.start(index)))
                    running.add(task)
                    task.add_done_callback(on_done)
                    await asyncio.sleep(0)
                elif running:
                    progress.clear()
                    await progress.wait()
                else:
                    return
        finally:
            for task in running:
                if task is self._checkpointing:
                    self._doomed.add(task)  # cancelled by `_flush` once the service has answered
                else:
                    task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    async def _branch(self, fork: Fork, index: int, plan: Plan[Any]) -> bool:
        try:
            value = await self.run(plan)
        except (Exception, SuspendExecution) as exc:
            return fork.finish(index, None, exc)
        return fork.finish(index, value, None)

    async def _flush(self, state: ExecutionState) -> None:
        await self._pump(state, state.checkpoints.target())
        if self._doomed and (task := asyncio.current_task()) in self._doomed:
            self._doomed.discard(task)
            raise asyncio.CancelledError

    async def _pump(self, state: ExecutionState, target: int | None) -> None:
        """Make the calls that are due until ``target`` is acknowledged, waiting while another task's call
        is in flight; then go on with whatever else is due unless another task waits to take it
        (``target=None``: a linger's expiry, only what is due). As `SyncDriver._pump`, with futures."""
        checkpoints = state.checkpoints
        while True:
            if target is None or checkpoints.done(target):
                if checkpoints.waiters or (batch := checkpoints.next_call()) is None:
                    return
            elif (batch := checkpoints.next_call()) is None:
                assert self._call_done is not None  # nothing due for us: a call is in flight
                checkpoints.waiters += 1
                try:
                    await asyncio.shield(self._call_done)  # a waiter's cancellation leaves the call be
                finally:
                    checkpoints.waiters -= 1
                continue
            call_done = self._call_done = asyncio.get_running_loop().create_future()
            self._checkpointing = asyncio.current_task()
            try:
                if self._abackend is not None:
                    result = await self._abackend.acheckpoint(state.arn, state.token, batch)
                else:
                    result = await asyncio.to_thread(self.backend.checkpoint, state.arn, state.token, batch)
                with state.mutex:
                    state.acknowledge(result.token, result.operations)
            except BaseException as exc:
                checkpoints.failed(exc)
                raise
            else:
                checkpoints.ended()
            finally:
                self._checkpointing = None
                call_done.set_result(None)

    def _arm(self, state: ExecutionState) -> None:
        """User code starts with updates queued and no timer covers them: arm the one that sends them if
        the code runs long."""
        period = state.checkpoints.arm()
        if period is not None:
            asyncio.get_running_loop().call_later(period, self._expire, state)

    def _expire(self, state: ExecutionState) -> None:
        """The linger timer fired: another period, or send what waited in a task of its own."""
        checkpoints = state.checkpoints
        loop = asyncio.get_running_loop()
        if checkpoints.expire():
            if checkpoints.linger is not None:
                loop.call_later(checkpoints.linger, self._expire, state)
        elif checkpoints.in_flight is None:
            task = loop.create_task(self._send_due(state))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _send_due(self, state: ExecutionState) -> None:
        with contextlib.suppress(Exception):  # recorded as broken; the next operation raises it
            await self._pump(state, None)


# unasync: begin
class AsyncDurableContext(ContextCore):
    """What a durable handler receives: ``async def handler(event, ctx: AsyncDurableContext)``.

    The sync context is generated from the async one in `eventflow/aio.py` (``python -m eventflow.unasync``),
    so both offer the same operations with the same arguments, checks and docstrings. Argument errors
    raise when the operation runs: at the call, or at the ``await``.
    """

    __slots__ = ("_driver",)

    def __init__(self, driver: AsyncDriver, state: ExecutionState, scope: Scope) -> None:
        super().__init__(state, scope)
        self._driver = driver

    # unasync: async only
    @overload
    async def step(
        self,
        fn: Callable[[StepContext], Awaitable[T]],
        name: str | None = None,
        *,
        config: StepConfig | None = None,
        retry: RetryStrategy | None = None,
        semantics: StepSemantics | None = None,
        serdes: SerDes | None = None,
    ) -> T: ...

    @overload
    async def step(
        self,
        fn: Callable[[StepContext], T],
        name: str | None = None,
        *,
        config: StepConfig | None = None,
        retry: RetryStrategy | None = None,
        semantics: StepSemantics | None = None,
        serdes: SerDes | None = None,
    ) -> T: ...

    # unasync: end async only
    async def step(
        self,
        fn: Callable[[StepContext], T | Awaitable[T]],
        name: str | None = None,
        *,
        config: StepConfig | None = None,
        retry: RetryStrategy | None = None,
        semantics: StepSemantics | None = None,
        serdes: SerDes | None = None,
    ) -> T:
        """Run ``fn(step_context)`` (sync or async) as a checkpointed, retried step and return its result.

        At least once per retry by default: START travels with the completion in one checkpoint call
        (or goes out while the code runs, once it runs long); ``semantics`` picks at most once.
        """
        config = self._step_config(config, retry, semantics, serdes)
        # Opened without a plan: a replayed step returns here; only an attempt that runs drives one.
        value, opened = open_step(self._state, self._scope, fn, name, config)
        if opened is None:
            return cast(T, value)
        return cast(T, await self._driver.run(run_step(self._state, opened, fn)))

    async def step_with_compensation(
        self,
        fn: Callable[[StepContext], T | Awaitable[T]],
        compensate: Callable[[T], Any],
        name: str | None = None,
        *,
        config: StepConfig | None = None,
        retry: RetryStrategy | None = None,
        semantics: StepSemantics | None = None,
        serdes: SerDes | None = None,
        compensation_name: str | None = None,
        compensation_config: StepConfig | None = None,
    ) -> T:
        """Run ``fn`` (sync or async) as a step; if it returns, register ``compensate(result)`` with this
        context.

        `run_compensations` runs the registered undos, newest first, each as a step. Registration is
        rebuilt on replay from the steps that returned, so nothing about it needs checkpointing.
        """
        plan = self._step_with_compensation(
            fn, compensate, name, config=config, retry=retry, semantics=semantics, serdes=serdes,
            compensation_name=compensation_name, compensation_config=compensation_config,
        )
        return cast(T, await self._driver.run(plan))

    async def run_compensations(self, name: str | None = None) -> CompensationSummary:
        """Run this context's registered undos in reverse order under a ``Compensation`` CONTEXT.

        Every undo is attempted even if an earlier one fails; returns the summary, or raises
        `CompensationError` (with ``.summary``) if any undo failed after its retries.
        """
        return await self._driver.run(self._run_compensations(name))

    async def now(self, name: str | None = None) -> datetime:
        """The current UTC time, recorded as a step: a replay returns the same instant."""
        return await self._driver.run(self._now(name))

    async def random(self, name: str | None = None) -> float:
        """A float in [0, 1), recorded as a step: a replay returns the same number."""
        return await self._driver.run(self._random(name))

    async def uuid4(self, name: str | None = None) -> uuid.UUID:
        """A random UUID, recorded as a step: a replay returns the same UUID."""
        return await self._driver.run(self._uuid4(name))

    async def wait(
        self,
        duration: float | timedelta | None = None,
        *,
        seconds: float = 0,
        minutes: float = 0,
        hours: float = 0,
        days: float = 0,
        name: str | None = None,
    ) -> None:
        """Suspend the execution for a while; the service wakes it up again. The service counts whole
        seconds, at least 1: a fraction is rounded up (``seconds=0.5`` waits 1 s)."""
        await self._driver.run(self._wait(duration, seconds, minutes, hours, days, name))

    # unasync: async only
    @overload
    async def child_context(
        self,
        fn: Callable[[AsyncDurableContext], Awaitable[T]],
        name: str | None = None,
        *,
        config: ChildConfig | None = None,
        serdes: SerDes | None = None,
    ) -> T: ...

    @overload
    async def child_context(
        self,
        fn: Callable[[AsyncDurableContext], T],
        name: str | None = None,
        *,
        config: ChildConfig | None = None,
        serdes: SerDes | None = None,
    ) -> T: ...

    # unasync: end async only
    async def child_context(
        self,
        fn: Callable[[AsyncDurableContext], T | Awaitable[T]],
        name: str | None = None,
        *,
        config: ChildConfig | None = None,
        serdes: SerDes | None = None,
    ) -> T:
        """Run ``fn(child_ctx)`` (sync or async) in its own id namespace, checkpointed as one operation."""
        return cast(T, await self._driver.run(self._child(fn, name, config, serdes)))

    # unasync: async only
    @overload
    async def map(
        self,
        items: Iterable[U],
        fn: Callable[[AsyncDurableContext, U, int, Sequence[U]], Awaitable[T]],
        name: str | None = None,
        *,
        config: MapConfig[U] | None = None,
    ) -> BatchResult[T]: ...

    @overload
    async def map(
        self,
        items: Iterable[U],
        fn: Callable[[AsyncDurableContext, U, int, Sequence[U]], T],
        name: str | None = None,
        *,
        config: MapConfig[U] | None = None,
    ) -> BatchResult[T]: ...

    # unasync: end async only
    async def map(
        self,
        items: Iterable[U],
        fn: Callable[[AsyncDurableContext, U, int, Sequence[U]], T | Awaitable[T]],
        name: str | None = None,
        *,
        config: MapConfig[U] | None = None,
    ) -> BatchResult[T]:
        """Run ``fn(item_ctx, item, index, items)`` (sync or async) for every item, each in its own child
        context, at most ``max_concurrency`` at once (on asyncio tasks).

        An item that suspends (a wait, callback or retry in it) keeps its ``max_concurrency`` slot while
        the next starts; when nothing more may start the execution suspends. Items running side by side
        share checkpoint calls. Returns a `BatchResult` (item failures do not raise: see
        ``throw_if_error``). Fails fast by default; see `MapConfig` and `CompletionConfig`.
        """
        return await self._driver.run(self._map(items, fn, name, config))

    async def parallel(
        self,
        branches: Sequence[Callable[[AsyncDurableContext], T | Awaitable[T]] | ParallelBranch[T]]
        | Mapping[str, Callable[[AsyncDurableContext], T | Awaitable[T]]],
        name: str | None = None,
        *,
        config: ParallelConfig | None = None,
    ) -> BatchResult[T]:
        """Run every branch ``fn(branch_ctx)`` (sync or async) in its own child context, as `map` runs
        items.

        Branches are functions, `ParallelBranch` objects (named), or a mapping of name to function.
        """
        return await self._driver.run(self._parallel(branches, name, config))

    async def create_callback(
        self,
        name: str | None = None,
        *,
        timeout: float | timedelta | None = None,
        heartbeat_timeout: float | timedelta | None = None,
        serdes: SerDes | None = None,
    ) -> AsyncCallback[Any]:
        """Create a callback: hand ``cb.callback_id`` to an external system, then ``await cb.result()``.

        ``result()`` suspends the execution until the system answers with
        SendDurableExecutionCallbackSuccess/Failure, or ``timeout`` (or ``heartbeat_timeout`` without a
        heartbeat) elapses: `CallbackError` / `CallbackTimeoutError`. The result is the raw string
        the sender sent unless ``serdes`` decodes it (e.g. ``JsonSerDes()``).
        """
        handle = await self._driver.run(self._create_callback(name, timeout, heartbeat_timeout, serdes))
        return AsyncCallback(handle, self._driver.run)

    async def wait_for_callback(
        self,
        submitter: Callable[[str, StepContext], Any],
        name: str | None = None,
        *,
        timeout: float | timedelta | None = None,
        heartbeat_timeout: float | timedelta | None = None,
        retry: RetryStrategy | None = None,
        serdes: SerDes | None = None,
    ) -> Any:
        """Create a callback, run ``submitter(callback_id, step_context)`` (sync or async) as a retried
        step, and return the callback's result. Failures raise `CallbackError`, `CallbackTimeoutError` or
        `CallbackSubmitterError`."""
        return await self._driver.run(
            self._wait_for_callback(
                submitter, name, timeout=timeout, heartbeat_timeout=heartbeat_timeout, retry=retry,
                serdes=serdes,
            )
        )

    async def invoke(
        self,
        function_name: str,
        payload: Any = None,
        name: str | None = None,
        *,
        tenant_id: str | None = None,
        serdes: SerDes | None = None,
        payload_serdes: SerDes | None = None,
        result_serdes: SerDes | None = None,
    ) -> Any:
        """Run another durable function with ``payload`` and return its result; its failure raises
        `InvokeError` (`InvokeTimeoutError`, `InvokeStoppedError`). Suspends while it runs.

        ``serdes`` writes the payload and reads the result; ``payload_serdes`` / ``result_serdes`` set
        either side on its own (they win over ``serdes``)."""
        plan = self._invoke(
            function_name, payload, name, tenant_id=tenant_id, serdes=serdes,
            payload_serdes=payload_serdes, result_serdes=result_serdes,
        )
        return await self._driver.run(plan)

    # unasync: async only
    @overload
    async def wait_for_condition(
        self,
        check: Callable[[T, StepContext], Awaitable[T]],
        initial_state: T,
        wait_strategy: WaitStrategy[T],
        name: str | None = None,
        *,
        serdes: SerDes | None = None,
    ) -> T: ...

    @overload
    async def wait_for_condition(
        self,
        check: Callable[[T, StepContext], T],
        initial_state: T,
        wait_strategy: WaitStrategy[T],
        name: str | None = None,
        *,
        serdes: SerDes | None = None,
    ) -> T: ...

    # unasync: end async only
    async def wait_for_condition(
        self,
        check: Callable[[T, StepContext], T | Awaitable[T]],
        initial_state: T,
        wait_strategy: WaitStrategy[T],
        name: str | None = None,
        *,
        serdes: SerDes | None = None,
    ) -> T:
        """Poll ``state = check(state, step_context)`` (sync or async) until ``wait_strategy`` says stop;
        return the state. Between checks the execution suspends for the strategy's delay (see
        `eventflow.waits`)."""
        return cast(
            T,
            await self._driver.run(
                self._wait_for_condition(
                    check, initial_state=initial_state, wait_strategy=wait_strategy, name=name,
                    serdes=serdes,
                )
            ),
        )
# unasync: end
