"""The synchronous front-end: `DurableContext` and the driver that performs plan effects inline."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
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
from eventflow.core.scope import Scope
from eventflow.core.state import ExecutionState
from eventflow.errors import SuspendExecution
from eventflow.retry import RetryStrategy
from eventflow.serdes import SerDes
from eventflow.waits import WaitStrategy

T = TypeVar("T")
U = TypeVar("U")


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

    def _fork(self, fork: Fork) -> None:
        """Run a batch's items one after another in this thread: no thread per item.

        An item that suspends (a wait, callback or retry inside it) returns its slot to nobody and the
        next admitted one starts; the plan decides what is admitted and when the batch is done.
        """
        admit, start, finish = fork.admit, fork.start, fork.finish
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
