"""The synchronous front-end: `DurableContext` and the driver that performs plan effects inline."""

from __future__ import annotations

import contextvars
import functools
import inspect
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, TypeVar

from eventflow.backends.base import Backend
from eventflow.batch import BatchResult, MapConfig, ParallelBranch, ParallelConfig
from eventflow.config import ChildConfig, StepConfig, StepSemantics
from eventflow.core.context import ContextCore
from eventflow.core.effects import PLAIN_RESULTS, Call, Effect, Enter, Flush, Fork, LoadPage, Plan
from eventflow.core.operations.callback import Callback
from eventflow.core.operations.compensation import CompensationSummary
from eventflow.core.operations.step import StepContext, open_step, run_step
from eventflow.core.scope import Scope, running_step
from eventflow.core.state import ExecutionState
from eventflow.errors import SuspendExecution
from eventflow.retry import RetryStrategy
from eventflow.serdes import SerDes
from eventflow.timer import call_at
from eventflow.waits import WaitStrategy

T = TypeVar("T")
U = TypeVar("U")


class SyncDriver:
    """Runs plans to completion, doing their I/O with blocking calls on a `Backend`.

    Checkpoints go through the state's `CheckpointScheduler` under the state's lock: whichever thread
    flushes while no call is in flight makes the next call, and threads that flush meanwhile wait for it
    and share the one after (group commit). Map and parallel items run on a pool of threads that lives
    for the batch, at most the batch's ``max_concurrency`` at once (`_fork`).
    """

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
                decided = _item.batch_decided
                if decided is not None and decided.is_set():
                    raise _ItemCancelled  # its batch is decided: the item stops at its next effect
                value = self._perform(effect)
            except BaseException as exc:  # handed back to the plan, which decides
                error = exc

    def _perform(self, effect: Effect) -> Any:
        if type(effect) is Flush:
            self._flush(effect.state)
            return None
        if type(effect) is Call:
            if effect.linger is not None:
                self._linger(effect.linger)
            running = running_step.set(effect.arg)  # durable calls from the step's code are refused
            try:
                result = effect.fn(effect.arg)
            finally:
                running_step.reset(running)
            # A step function's usual result is a plain value: skip the call that rules out awaitables.
            return result if type(result) in PLAIN_RESULTS else _not_awaitable(result, effect.fn)
        if type(effect) is Enter:
            child = DurableContext(self, effect.state, effect.scope)
            return _not_awaitable(effect.fn(child), effect.fn)
        if type(effect) is LoadPage:
            return self.backend.get_state(effect.arn, effect.token, effect.marker)
        if type(effect) is Fork:
            return self._fork(effect)
        raise TypeError(f"unknown effect {effect!r}")

    # -- checkpoints ------------------------------------------------------------------------------

    def _flush(self, state: ExecutionState) -> None:
        with state.lock:
            self._pump(state, state.checkpoints.target())

    def _pump(self, state: ExecutionState, target: int | None) -> None:
        """Make the calls that are due until ``target`` is acknowledged, waiting while another thread's
        call is in flight; then go on with whatever else is due (a linger's expiry) unless another thread
        waits to take it. ``target=None`` (the linger timer) only sends what is due. Called, and returns,
        with ``state.lock`` held; the lock is released for the call itself."""
        lock, checkpoints = state.lock, state.checkpoints
        while True:
            if target is None or checkpoints.done(target):
                if checkpoints.waiters or (batch := checkpoints.next_call()) is None:
                    return
            elif (batch := checkpoints.next_call()) is None:
                checkpoints.waiters += 1
                lock.wait()  # another thread's call is in flight; its end notifies
                checkpoints.waiters -= 1
                continue
            token = state.token
            lock.release()
            try:
                result = self.backend.checkpoint(state.arn, token, batch)
            except BaseException as exc:
                lock.acquire()
                self._end_call(state, exc)
                raise
            lock.acquire()
            try:
                state.acknowledge(result.token, result.operations)
            except BaseException as exc:
                self._end_call(state, exc)
                raise
            self._end_call(state, None)

    @staticmethod
    def _end_call(state: ExecutionState, error: BaseException | None) -> None:
        checkpoints = state.checkpoints
        if error is None:
            checkpoints.ended()
        else:
            checkpoints.failed(error)
        if checkpoints.waiters:
            state.lock.notify_all()

    def _linger(self, state: ExecutionState) -> None:
        """User code starts with updates queued: arm the timer that sends them if it runs long."""
        with state.lock:
            when = state.checkpoints.linger_deadline(time.monotonic())
        if when is not None:
            call_at(when, functools.partial(self._expire, state))

    def _expire(self, state: ExecutionState) -> None:
        """The linger timer fired (in the timer thread): re-arm, or send what is queued."""
        with state.lock:
            again = state.checkpoints.expire(time.monotonic())
            if again is None:
                try:
                    self._pump(state, None)
                except BaseException:
                    return
        if again is not None:
            call_at(again, functools.partial(self._expire, state))

    # -- map and parallel -------------------------------------------------------------------------

    def _fork(self, fork: Fork) -> None:
        """Run a batch's items, at most ``fork.limit`` at once, on a pool of threads that lives for the
        batch; with a limit of 1 they run one after another in this thread, as they always did.

        This thread alone asks the plan (admit, start, finish); workers only run item plans, each in a
        copy of this thread's context variables. An item that suspends (a wait, callback or retry in it)
        frees its thread; the plan decides whether its slot is free. Once the batch is decided, items
        still running stop at their next durable operation (their updates so far stay queued and are
        sent), and the batch returns when every worker has stopped.
        """
        admit, start, finish = fork.admit, fork.start, fork.finish
        workers = min(fork.limit, MAX_BATCH_THREADS)
        if workers <= 1:
            while (index := admit()) is not None:
                plan = start(index)
                try:
                    value = self.run(plan)
                except (Exception, SuspendExecution) as exc:
                    stop = finish(index, None, exc)
                else:
                    stop = finish(index, value, None)
                if stop:
                    return
            return

        done = threading.Condition(threading.Lock())
        outcomes: deque[tuple[int, Any, BaseException | None]] = deque()
        cancelled = threading.Event()
        running = 0

        def work(index: int, plan: Plan[Any]) -> None:
            _item.batch_decided = cancelled
            outcome: tuple[int, Any, BaseException | None]
            try:
                outcome = (index, self.run(plan), None)
            except BaseException as exc:
                outcome = (index, None, exc)
            finally:
                _item.batch_decided = None
            with done:
                outcomes.append(outcome)
                done.notify()

        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="eventflow-item")
        try:
            decided = False
            while True:
                while outcomes:
                    with done:
                        index, value, error = outcomes.popleft()
                    running -= 1
                    if isinstance(error, _ItemCancelled):
                        continue
                    if isinstance(error, Exception | SuspendExecution):
                        decided = finish(index, None, error) or decided
                    elif error is not None:
                        raise error  # KeyboardInterrupt and the like: not an item's outcome
                    else:
                        decided = finish(index, value, None) or decided
                if decided:
                    return
                if running < workers and (index := admit()) is not None:
                    plan = start(index)
                    running += 1
                    pool.submit(contextvars.copy_context().run, work, index, plan)
                    continue
                if not running:
                    return
                with done:
                    while not outcomes:
                        done.wait()
        finally:
            cancelled.set()
            pool.shutdown(wait=True)


MAX_BATCH_THREADS = 32
"""Threads one sync map or parallel runs at most, whatever its max_concurrency (as the official SDK's
pool, ``min(32, cpus + 4)``, bounds an unlimited batch); items past it wait for a free thread."""


class _ItemCancelled(BaseException):
    """Raised into an item's plan once its batch is decided; not an outcome (plans do not catch it)."""


class _ItemThread(threading.local):
    """What a worker thread knows about the item it runs: its batch's "decided" event."""

    batch_decided: threading.Event | None = None


_item = _ItemThread()


def _not_awaitable(result: Any, fn: Callable[..., Any]) -> Any:
    if type(result) not in PLAIN_RESULTS and inspect.isawaitable(result):
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
        config = self._step_config(config, retry, semantics, serdes)
        # Opened without a plan: a replayed step returns here; only an attempt that runs drives one.
        value, opened = open_step(self._state, self._scope, fn, name, config)
        if opened is None:
            return value  # type: ignore[no-any-return]
        return self._driver.run(run_step(self._state, opened, fn))  # type: ignore[no-any-return]

    def step_with_compensation(
        self,
        fn: Callable[[StepContext], T],
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
        """Run ``fn`` as a step; if it returns, register ``compensate(result)`` with this context.

        `run_compensations` runs the registered undos, newest first, each as a step. Registration is
        rebuilt on replay from the steps that returned, so nothing about it needs checkpointing.
        """
        plan = self._step_with_compensation(
            fn, compensate, name, config=config, retry=retry, semantics=semantics, serdes=serdes,
            compensation_name=compensation_name, compensation_config=compensation_config,
        )
        return self._driver.run(plan)  # type: ignore[no-any-return]

    def run_compensations(self, name: str | None = None) -> CompensationSummary:
        """Run this context's registered undos in reverse order under a ``Compensation`` CONTEXT.

        Every undo is attempted even if an earlier one fails; returns the summary, or raises
        `CompensationError` (with ``.summary``) if any undo failed after its retries.
        """
        return self._driver.run(self._run_compensations(name))

    def now(self, name: str | None = None) -> datetime:
        """The current UTC time, recorded as a step: a replay returns the same instant."""
        return self._driver.run(self._now(name))

    def random(self, name: str | None = None) -> float:
        """A float in [0, 1), recorded as a step: a replay returns the same number."""
        return self._driver.run(self._random(name))

    def uuid4(self, name: str | None = None) -> uuid.UUID:
        """A random UUID, recorded as a step: a replay returns the same UUID."""
        return self._driver.run(self._uuid4(name))

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
        """Suspend the execution for a while; the service wakes it up again. The service counts whole
        seconds, at least 1: a fraction is rounded up (``seconds=0.5`` waits 1 s)."""
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

    def map(
        self,
        items: Iterable[U],
        fn: Callable[[DurableContext, U, int, Sequence[U]], T],
        name: str | None = None,
        *,
        config: MapConfig[U] | None = None,
    ) -> BatchResult[T]:
        """Run ``fn(item_ctx, item, index, items)`` for every item, each in its own child context.

        Items run one after another in this thread; one that suspends (a wait, callback or retry in
        it) keeps its ``max_concurrency`` slot while the next starts, and when nothing more may start
        the execution suspends. Returns a `BatchResult` (item failures do not raise: see
        ``throw_if_error``). Fails fast by default; see `MapConfig` and `CompletionConfig`.
        """
        return self._driver.run(self._map(items, fn, name, config))

    def parallel(
        self,
        branches: Sequence[Callable[[DurableContext], T] | ParallelBranch[T]]
        | Mapping[str, Callable[[DurableContext], T]],
        name: str | None = None,
        *,
        config: ParallelConfig | None = None,
    ) -> BatchResult[T]:
        """Run every branch ``fn(branch_ctx)`` in its own child context, as `map` runs items.

        Branches are functions, `ParallelBranch` objects (named), or a mapping of name to function.
        """
        return self._driver.run(self._parallel(branches, name, config))

    def _drive(self, plan: Plan[Any]) -> Any:
        return self._driver.run(plan)

    def create_callback(
        self,
        name: str | None = None,
        *,
        timeout: float | timedelta | None = None,
        heartbeat_timeout: float | timedelta | None = None,
        serdes: SerDes | None = None,
    ) -> Callback[Any]:
        """Create a callback: hand ``cb.callback_id`` to an external system, then ``cb.result()``.

        ``result()`` suspends the execution until the system answers with
        SendDurableExecutionCallbackSuccess/Failure, or ``timeout`` (or ``heartbeat_timeout`` without a
        heartbeat) elapses: `CallbackError` / `CallbackTimeoutError`. The result is the raw string
        the sender sent unless ``serdes`` decodes it (e.g. ``JsonSerDes()``).
        """
        handle = self._driver.run(self._create_callback(name, timeout, heartbeat_timeout, serdes))
        return Callback(handle, self._driver.run)

    def wait_for_callback(
        self,
        submitter: Callable[[str, StepContext], Any],
        name: str | None = None,
        *,
        timeout: float | timedelta | None = None,
        heartbeat_timeout: float | timedelta | None = None,
        retry: RetryStrategy | None = None,
        serdes: SerDes | None = None,
    ) -> Any:
        """Create a callback, run ``submitter(callback_id, step_context)`` as a retried step, and return
        the callback's result. Failures raise `CallbackError`, `CallbackTimeoutError` or
        `CallbackSubmitterError`."""
        return self._driver.run(
            self._wait_for_callback(
                submitter, name, timeout=timeout, heartbeat_timeout=heartbeat_timeout, retry=retry,
                serdes=serdes,
            )
        )

    def invoke(
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
        return self._driver.run(plan)

    def wait_for_condition(
        self,
        check: Callable[[T, StepContext], T],
        initial_state: T,
        wait_strategy: WaitStrategy[T],
        name: str | None = None,
        *,
        serdes: SerDes | None = None,
    ) -> T:
        """Poll ``state = check(state, step_context)`` until ``wait_strategy`` says stop; return the state.

        Between checks the execution suspends for the strategy's delay (see `eventflow.waits`).
        """
        return self._driver.run(  # type: ignore[no-any-return]
            self._wait_for_condition(
                check, initial_state=initial_state, wait_strategy=wait_strategy, name=name, serdes=serdes
            )
        )
