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
from typing import Any, TypeVar, cast

from eventflow.backends.base import Backend
from eventflow.batch import BatchResult, MapConfig, ParallelBranch, ParallelConfig
from eventflow.config import ChildConfig, StepConfig, StepSemantics
from eventflow.core.context import ContextCore
from eventflow.core.effects import PLAIN_RESULTS, Call, Effect, Enter, Flush, Fork, LoadPage, Plan
from eventflow.core.operations.callback import Callback
from eventflow.core.operations.compensation import CompensationSummary
from eventflow.core.operations.step import StepContext, open_step, run_step
from eventflow.core.scheduler import GATHER_SECONDS
from eventflow.core.scope import Scope, running_in_thread
from eventflow.core.state import ExecutionState
from eventflow.errors import SuspendExecution
from eventflow.events.emitted import AnyUpdate
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
                if _threaded_batches and (decided := _item.batch_decided) is not None and decided.is_set():
                    raise _ItemCancelled  # its batch is decided: the item stops at its next effect
                value = self._perform(effect)
            except BaseException as exc:  # handed back to the plan, which decides
                error = exc

    def _perform(self, effect: Effect) -> Any:
        if type(effect) is Flush:
            self._flush(effect.state)
            return None
        if type(effect) is Call:
            if effect.linger is not None:  # `CheckpointScheduler.defer`, inlined: once per step
                checkpoints = effect.linger.checkpoints
                checkpoints.deferrals += 1
                if not checkpoints.timer_armed:
                    self._arm(effect.linger)
            running_in_thread.step = effect.arg  # durable calls from the step's code are refused
            try:
                result = effect.fn(effect.arg)
            finally:
                running_in_thread.step = None
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
        checkpoints = state.checkpoints
        with state.mutex:
            if not (
                checkpoints.busy
                or checkpoints.waiters
                or checkpoints.forming
                or checkpoints.closed
                or checkpoints.in_flight is not None
            ):
                # Nobody else is flushing: this thread makes the call, as `_pump` would, in fewer steps
                # (a sequential step's one round trip). Nothing is in flight, so ``acked == sent`` and
                # anything emitted past it is queued: `next_call` hands it out.
                target = checkpoints.target()
                if checkpoints.acked >= target:
                    return
                batch = checkpoints.next_call()
                assert batch is not None
                token = state.token
            elif not checkpoints.busy or _item.state is not state:  # not an item thread of this state
                self._pump(state, checkpoints.target())
                return
            else:
                self._flush_item(state)
                return
        self._send(state, batch, token)
        if checkpoints.pending or checkpoints.waiters:  # queued meanwhile by a timer or a thread
            with state.mutex:
                self._pump(state, target)

    def _send(self, state: ExecutionState, batch: list[AnyUpdate], token: str) -> None:
        """Make one checkpoint call (``state.mutex`` not held: others may queue meanwhile) and apply its
        answer under the mutex; a failure breaks the scheduler and propagates."""
        try:
            result = self.backend.checkpoint(state.arn, token, batch)
        except BaseException as exc:
            with state.mutex:
                self._end_call(state, exc)
            raise
        with state.mutex:
            try:
                state.acknowledge(result.token, result.operations)
            except BaseException as exc:
                self._end_call(state, exc)
                raise
            self._end_call(state, None)

    def _flush_item(self, state: ExecutionState) -> None:
        """An item thread's flush (``state.mutex`` held): it adds nothing to the queue while it waits or
        calls, so it is not busy meanwhile."""
        checkpoints = state.checkpoints
        checkpoints.busy -= 1
        if checkpoints.forming:
            state.lock.notify_all()
        try:
            self._pump(state, checkpoints.target())
        finally:
            checkpoints.busy += 1

    def _pump(self, state: ExecutionState, target: int | None) -> None:
        """Make the calls that are due until ``target`` is acknowledged, waiting while another thread's
        call is in flight; then go on with whatever else is due (a linger's expiry) unless another thread
        waits to take it. ``target=None`` (the linger timer) only sends what is due. Called, and returns,
        with ``state.lock`` held; the lock is released for the call itself."""
        lock, checkpoints = state.lock, state.checkpoints
        while True:
            if checkpoints.busy and checkpoints.in_flight is None and not checkpoints.forming:
                self._gather(state)
            if target is None or checkpoints.done(target):
                if checkpoints.waiters:
                    lock.notify_all()  # a waiter takes what is due (it may be waiting for a gather)
                    return
                if (batch := checkpoints.next_call()) is None:
                    return
            elif (batch := checkpoints.next_call()) is None:
                checkpoints.waiters += 1
                lock.wait()  # another thread's call is in flight or being formed; its end notifies
                checkpoints.waiters -= 1
                continue
            token = state.token
            lock.release()
            try:
                self._send(state, batch, token)
            finally:
                lock.acquire()
            if not checkpoints.pending and not checkpoints.waiters:
                return  # everything emitted is acknowledged: the common end of a sequential step
    @staticmethod
    def _gather(state: ExecutionState) -> None:
        """Before making a call, wait (at most `GATHER_SECONDS`) while other item threads are still busy
        (between operations or in user code): their next updates are likely to join this call instead of
        waiting for the next round trip. Called with ``state.lock`` held."""
        lock, checkpoints = state.lock, state.checkpoints
        checkpoints.forming = True
        deadline = time.monotonic() + GATHER_SECONDS
        try:
            while checkpoints.busy > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                lock.wait(left)
        finally:
            checkpoints.forming = False
            if checkpoints.waiters:
                lock.notify_all()  # flushes that came while it formed: one of them may be the maker now

    @staticmethod
    def _end_call(state: ExecutionState, error: BaseException | None) -> None:
        checkpoints = state.checkpoints
        if error is None:
            checkpoints.ended()
        else:
            checkpoints.failed(error)
        if checkpoints.waiters:
            state.lock.notify_all()

    def _arm(self, state: ExecutionState) -> None:
        """User code starts with updates queued and no timer covers them: arm the one that sends them if
        the code runs long."""
        with state.mutex:
            period = state.checkpoints.arm()
        if period is not None:
            call_at(time.monotonic() + period, functools.partial(self._expire, state))

    def _expire(self, state: ExecutionState) -> None:
        """The linger timer fired (in the timer thread): another period, or send what waited."""
        with state.mutex:
            again = state.checkpoints.expire()
            if not again:
                try:
                    self._pump(state, None)
                except BaseException:  # recorded as broken; the invocation's next operation raises it
                    return
        if again and state.checkpoints.linger is not None:
            call_at(time.monotonic() + state.checkpoints.linger, functools.partial(self._expire, state))

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

        state = fork.state

        def work(index: int, plan: Plan[Any]) -> None:
            _item.batch_decided = cancelled
            _item.state = state
            if state is not None:
                _busy(state, +1)
            outcome: tuple[int, Any, BaseException | None]
            try:
                outcome = (index, self.run(plan), None)
            except BaseException as exc:
                outcome = (index, None, exc)
            finally:
                if state is not None:
                    _busy(state, -1)
                _item.batch_decided = None
                _item.state = None
            with done:
                outcomes.append(outcome)
                done.notify()

        global _threaded_batches  # noqa: PLW0603 - one counter for the process, changed under its lock
        with _batches_lock:
            _threaded_batches += 1
        outer = _item.state  # an item thread running a nested batch is not busy while it waits
        if outer is not None:
            _busy(outer, -1)
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
            if outer is not None:
                _busy(outer, +1)
            with _batches_lock:
                _threaded_batches -= 1


MAX_BATCH_THREADS = 32
"""Threads one sync map or parallel runs at most, whatever its max_concurrency (as the official SDK's
pool, ``min(32, cpus + 4)``, bounds an unlimited batch); items past it wait for a free thread."""


class _ItemCancelled(BaseException):
    """Raised into an item's plan once its batch is decided; not an outcome (plans do not catch it)."""


class _ItemThread(threading.local):
    """What a worker thread knows about the item it runs: its batch's "decided" event, and the state it
    emits into (counted busy there while it runs, except in a flush or a nested batch)."""

    batch_decided: threading.Event | None = None
    state: ExecutionState | None = None


def _busy(state: ExecutionState, delta: int) -> None:
    """An item thread becomes busy (+1) or stops being busy (-1); a call being formed waits, briefly, for
    the count to reach zero."""
    with state.mutex:
        checkpoints = state.checkpoints
        checkpoints.busy += delta
        if delta < 0 and checkpoints.forming:
            state.lock.notify_all()


_item = _ItemThread()
# Threaded batches running in this process: while there are none, the per-effect cancellation check is
# one global read instead of a thread-local one.
_threaded_batches = 0
_batches_lock = threading.Lock()


def _not_awaitable(result: Any, fn: Callable[..., Any]) -> Any:
    if type(result) not in PLAIN_RESULTS and inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()
        raise TypeError(
            f"{getattr(fn, '__qualname__', fn)!r} returned an awaitable in a synchronous handler; "
            "write the handler as `async def` to use async functions"
        )
    return result


# unasync: begin
class DurableContext(ContextCore):
    """What a durable handler receives: ``def handler(event, ctx: DurableContext)``.

    The sync context is generated from the async one in `eventflow/aio.py` (``python -m eventflow.unasync``),
    so both offer the same operations with the same arguments, checks and docstrings. Argument errors
    raise when the operation runs: at the call, or at the ``await``.
    """

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
        """Run ``fn(step_context)`` as a checkpointed, retried step and return its result.

        At least once per retry by default: START travels with the completion in one checkpoint call
        (or goes out while the code runs, once it runs long); ``semantics`` picks at most once.
        """
        config = self._step_config(config, retry, semantics, serdes)
        # Opened without a plan: a replayed step returns here; only an attempt that runs drives one.
        value, opened = open_step(self._state, self._scope, fn, name, config)
        if opened is None:
            return cast(T, value)
        return cast(T, self._driver.run(run_step(self._state, opened, fn)))

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
        """Run ``fn`` as a step; if it returns, register ``compensate(result)`` with this
        context.

        `run_compensations` runs the registered undos, newest first, each as a step. Registration is
        rebuilt on replay from the steps that returned, so nothing about it needs checkpointing.
        """
        plan = self._step_with_compensation(
            fn, compensate, name, config=config, retry=retry, semantics=semantics, serdes=serdes,
            compensation_name=compensation_name, compensation_config=compensation_config,
        )
        return cast(T, self._driver.run(plan))

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
        return cast(T, self._driver.run(self._child(fn, name, config, serdes)))

    def map(
        self,
        items: Iterable[U],
        fn: Callable[[DurableContext, U, int, Sequence[U]], T],
        name: str | None = None,
        *,
        config: MapConfig[U] | None = None,
    ) -> BatchResult[T]:
        """Run ``fn(item_ctx, item, index, items)`` for every item, each in its own child
        context, at most ``max_concurrency`` at once (on threads).

        An item that suspends (a wait, callback or retry in it) keeps its ``max_concurrency`` slot while
        the next starts; when nothing more may start the execution suspends. Items running side by side
        share checkpoint calls. Returns a `BatchResult` (item failures do not raise: see
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
        """Run every branch ``fn(branch_ctx)`` in its own child context, as `map` runs
        items.

        Branches are functions, `ParallelBranch` objects (named), or a mapping of name to function.
        """
        return self._driver.run(self._parallel(branches, name, config))

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
        """Create a callback, run ``submitter(callback_id, step_context)`` as a retried
        step, and return the callback's result. Failures raise `CallbackError`, `CallbackTimeoutError` or
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
        """Poll ``state = check(state, step_context)`` until ``wait_strategy`` says stop;
        return the state. Between checks the execution suspends for the strategy's delay (see
        `eventflow.waits`)."""
        return cast(
            T,
            self._driver.run(
                self._wait_for_condition(
                    check, initial_state=initial_state, wait_strategy=wait_strategy, name=name,
                    serdes=serdes,
                )
            ),
        )
# unasync: end
