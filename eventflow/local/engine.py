"""`LocalService`: the durable-execution service's semantics, in process.

It starts executions, invokes handlers with the plain invocation input, applies checkpoint batches through
the same state machines as the SDK (rejecting stale tokens, illegal transitions, duplicate ids and
oversized payloads), keeps the history with dense EventIds, and completes what only the service can
complete: waits and retry delays (timers), callbacks (answered from outside, or timed out), chained invokes
(the target runs as its own execution), execution timeouts and stops, and Lambda's per-invocation
timeout when a function is registered with one. It is also a `Backend`: handlers it invokes checkpoint
straight back into it.

`LocalService` is the public face; each job is a part of its own, all sharing one `ServiceState`:

- ``state.py``: the shared state and the bookkeeping of a step (stage operations and events, commit).
- ``execution_start.py`` / ``execution_end.py``: how executions start, and every way they end.
- ``checkpointing.py``: the `Backend` calls; routes what each applied update sets in motion to
- ``waits.py`` (WAIT ends, retry delays), ``callbacks.py`` (answers, heartbeats, timeouts) and
  ``chained_invokes.py`` (child executions, plain targets).
- ``invocations.py``: one invocation of a durable handler and what its output does.
- ``wakeups.py``: fires due timers, dispatching each kind to the part that armed it.
- ``run_loop.py``: performs queued work (``work.py``) and fires timers until the caller is done.
- ``recovery.py``: re-arms executions loaded from the store; ``queries.py``: the read-only calls.

Cost: every service step is O(size of the step). Operations live in a dict with a creation-order list (state
pages are slices), the operations still waiting on the service are a set, timers are one heap with lazy
deletion (`TimerQueue`), callbacks are indexed by id, and the store writes only a step's `ChangeSet`.

Threads: one re-entrant lock guards all state; handlers run *outside* it, so an HTTP thread can answer a
callback while an invocation is in flight. `run` never sleeps a fixed time: with a `VirtualClock` it jumps
to the next timer; with a real clock it waits on a condition variable until the next timer is due or
another thread changes something.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from eventflow.backends.base import CheckpointResult, StatePage
from eventflow.events.emitted import AnyUpdate
from eventflow.events.history import Event
from eventflow.events.wire import ErrorObject, GetDurableExecutionResponse
from eventflow.local.callbacks import (
    CALLBACK_HEARTBEAT,
    CALLBACK_TIMEOUT,
    CALLBACK_TIMER,
    HEARTBEAT_TIMER,
    Callbacks,
)
from eventflow.local.chained_invokes import CHAINED_INVOKE_TIMEOUT, ChainedInvokes
from eventflow.local.checkpointing import Checkpoints
from eventflow.local.clock import Clock, VirtualClock
from eventflow.local.errors import InvalidParameterValueError
from eventflow.local.execution_end import ExecutionEnder
from eventflow.local.execution_start import EXECUTION_TIMEOUT_TIMER, ExecutionStarter
from eventflow.local.functions import Handler, LambdaContext, RegisteredFunction
from eventflow.local.invocations import Invocations
from eventflow.local.model import DEFAULT_RETENTION_DAYS, ExecutionSummary, LocalExecution, function_arn
from eventflow.local.pausing import Pauses
from eventflow.local.queries import DEFAULT_PAGE_ITEMS, ExecutionFilter, Queries
from eventflow.local.recovery import adopt, resume
from eventflow.local.retention import Retention, check_retention_days
from eventflow.local.run_loop import Hold, RunLoop
from eventflow.local.runtime import Runtime
from eventflow.local.state import EventListener, ServiceState
from eventflow.local.store import MemoryStore, Store
from eventflow.local.waits import RETRY_TIMER, WAIT_TIMER, Waits
from eventflow.local.wakeups import Action, Wakeups
from eventflow.local.work import WorkItem

__all__ = [
    "CALLBACK_HEARTBEAT",
    "CALLBACK_TIMEOUT",
    "CHAINED_INVOKE_TIMEOUT",
    "MAX_LAMBDA_RETRIES",
    "Action",
    "Handler",
    "LambdaContext",
    "LocalService",
    "RegisteredFunction",
    "WorkItem",
]

MAX_LAMBDA_RETRIES = 2
"""How often Lambda re-runs an invocation whose handler raised. Read at each failure, so a test may raise
it on this module."""


class LocalService:
    """An in-process durable-execution service. See the module docstring."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        store: Store | None = None,
        page_size: int = 1000,
        on_event: EventListener | None = None,
        concurrency: int = 1,
    ) -> None:
        """``on_event(arn, event)`` is called for every history event as it is appended (under the service's
        lock: keep it short), e.g. to show progress. ``concurrency`` bounds how many invocations (of
        different executions) run at once; 1 runs each on the thread that drives the service."""
        if concurrency < 1:
            raise InvalidParameterValueError(f"concurrency must be at least 1, got {concurrency}")
        state = ServiceState(clock or VirtualClock(), store or MemoryStore(), page_size, on_event, adopt)
        starter = ExecutionStarter(state)
        chained_invokes = ChainedInvokes(state, starter)
        ender = ExecutionEnder(state, chained_invokes)
        waits = Waits(state)
        callbacks = Callbacks(state)
        invocations = Invocations(state, ender, self, lambda: MAX_LAMBDA_RETRIES)
        wakeups = Wakeups(
            state,
            {
                WAIT_TIMER: waits.wait_elapsed,
                RETRY_TIMER: waits.retry_delay_elapsed,
                CALLBACK_TIMER: callbacks.timeout_elapsed,
                HEARTBEAT_TIMER: callbacks.heartbeat_missed,
                EXECUTION_TIMEOUT_TIMER: ender.time_out,
            },
        )
        self._state = state
        self._lock = state.lock
        self._cond = state.cond  # notified after every change: a thread may wait on it for one
        self._starter = starter
        self._ender = ender
        self._callbacks = callbacks
        self._checkpoints = Checkpoints(state, waits, callbacks, chained_invokes)
        self._invocations = invocations
        self._wakeups = wakeups
        self._pauses = Pauses(state)
        self._retention = Retention(state)
        self._run_loop = RunLoop(state, wakeups, invocations, chained_invokes, concurrency, self._retention)
        self._queries = Queries(state)
        resume(state, invocations.lost_in_restart)

    # -- what the service holds -------------------------------------------------------------------

    @property
    def clock(self) -> Clock:
        return self._state.clock

    @property
    def store(self) -> Store:
        return self._state.store

    @property
    def page_size(self) -> int:
        """Operations per state page (GetDurableExecutionState, and the invocation input's first page)."""
        return self._state.page_size

    @page_size.setter
    def page_size(self, value: int) -> None:
        self._state.page_size = value

    @property
    def on_event(self) -> EventListener | None:
        return self._state.on_event

    @on_event.setter
    def on_event(self, listener: EventListener | None) -> None:
        self._state.on_event = listener

    @property
    def registry(self) -> dict[str, RegisteredFunction]:
        return self._state.registry

    @property
    def functions(self) -> dict[str, Handler]:
        """Name -> handler, as registered."""
        return self._state.functions

    @property
    def executions(self) -> dict[str, LocalExecution]:
        """The executions loaded in memory, by ARN."""
        return self._state.executions

    # -- functions and executions -----------------------------------------------------------------

    def register(
        self,
        function_name: str,
        handler: Handler | Runtime,
        *,
        durable: bool = True,
        timeout_seconds: int | None = None,
        invocation_timeout_seconds: float | None = None,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        replace: bool = False,
    ) -> None:
        """Make ``handler`` invocable as ``function_name``. A plain (``durable=False``) handler is called
        with the decoded payload, as Lambda calls a function that is not durable.

        ``handler`` is a callable run in this process, or a `runtime.Runtime` (a pool of worker
        processes, a Runtime API command, a remote Invoke endpoint: `function_specs.runtime_for`) that
        runs it elsewhere, ends a run past the invocation timeout itself, and reports a sandbox that died
        as ``Runtime.ExitError``.

        ``timeout_seconds`` is the execution timeout an execution of the function takes unless its start
        names one. ``invocation_timeout_seconds`` is Lambda's function timeout (at most 900): it bounds each
        *invocation*, in wall time of the handler call (also on a virtual clock, whose time stands still
        while a handler runs). An invocation that runs past it counts as a timed-out sandbox: it fails with
        ``Sandbox.Timedout`` and is retried like a crash (`MAX_LAMBDA_RETRIES`), and the handler, which
        Python cannot kill, is left to finish on its own thread with its checkpoints refused. Without it an
        invocation is not bounded, and the handler runs on the thread that drives the service.

        ``retention_days`` is the function's RetentionPeriodInDays (1 to 90): its executions, once ended,
        are deleted that long after their end, on the service's clock (`retention.py`).
        A second, different handler under a name already registered is refused unless ``replace=True``
        (deploying new code under the same name), so two functions never silently share one name."""
        if not (callable(handler) or isinstance(handler, Runtime)):
            raise InvalidParameterValueError(
                f"register({function_name!r}, ...) takes a handler function or a Runtime, got "
                f"{type(handler).__name__} {handler!r}"
            )
        check_retention_days(retention_days)
        if invocation_timeout_seconds is not None and not 0 < invocation_timeout_seconds <= 900:
            raise InvalidParameterValueError(
                f"invocation_timeout_seconds must be over 0 and at most 900, got {invocation_timeout_seconds}"
            )
        limit = invocation_timeout_seconds
        runtime: Runtime | None = None
        if isinstance(handler, Runtime):
            runtime = handler
            call: Handler = _through(handler, function_name, self._state.clock, limit)
        else:
            call = handler
        state = self._state
        with state.cond:
            previous = state.registry.get(function_name)
            same = previous is not None and (
                previous.runtime is runtime if runtime is not None else previous.handler is call
            )
            if previous is not None and not replace and not same:
                raise InvalidParameterValueError(
                    f"a function named {function_name!r} is registered already; register another name, or "
                    "pass replace=True to put the new code in its place (a new version of the function)"
                )
            state.registry[function_name] = RegisteredFunction(
                function_name, call, durable, timeout_seconds, limit, runtime, retention_days
            )
            state.functions[function_name] = call
            if previous is not None and previous.runtime is not None and previous.runtime is not runtime:
                previous.runtime.close()
            state.work.release(function_name)
            state.cond.notify_all()

    def start_execution(
        self,
        function_name: str,
        input: Any = None,
        *,
        name: str | None = None,
        timeout_seconds: int | None = None,
        input_payload: str | None = None,
        version: str | None = None,
    ) -> LocalExecution:
        """Create an execution (its EXECUTION operation and ExecutionStarted event) and queue its first
        invocation; `run` performs it. Reusing a ``name`` with the same input returns the existing execution
        (DurableExecutionName idempotency; a paused one too); with a different input it raises
        `ExecutionAlreadyStartedError`. ``version`` is the qualifier of a qualified start (a version or
        alias: the execution's ARN and GetDurableExecution's Version carry it; default ``$LATEST``)."""
        if input_payload is None and input is not None:
            input_payload = json.dumps(input)
        return self._starter.start(function_name, input_payload, name, timeout_seconds, version)

    def get(self, arn: str) -> LocalExecution:
        """The execution with this ARN (loaded from the store if need be)."""
        return self._state.get(arn)

    def stop(self, arn: str, error: ErrorObject | None = None) -> datetime:
        """StopDurableExecution: the execution ends STOPPED and its timers are dropped. Stopping an
        execution that already ended changes nothing and returns when it ended."""
        return self._ender.stop(arn, error)

    def pause(
        self,
        arn: str,
        *,
        client_token: str | None = None,
        reason: str | None = None,
        timeout_paused: bool = True,
    ) -> LocalExecution:
        """PauseDurableExecution: the execution runs no code until `resume` (an invocation in flight is
        let finish: PAUSING, then PAUSED); its timers and callbacks still complete. ``timeout_paused``
        stops its execution timeout meanwhile; it still ends 366 days after its start. Idempotent by
        ``client_token``; an ended or paused execution raises `ResourceConflictError` (`pausing.py`)."""
        pauses = self._pauses
        return pauses.pause(arn, client_token=client_token, reason=reason, timeout_paused=timeout_paused)

    def resume(
        self, arn: str, *, client_token: str | None = None, reason: str | None = None
    ) -> LocalExecution:
        """ResumeDurableExecution: the paused execution runs again, from its last checkpoint. Idempotent
        by ``client_token``; one that is not paused raises `ResourceConflictError`."""
        return self._pauses.resume(arn, client_token=client_token, reason=reason)

    def delete(self, arn: str) -> datetime:
        """DeleteDurableExecution: an ended execution and its history are deleted (when is returned); one
        that has not ended raises `ResourceConflictError` (`retention.py`)."""
        return self._retention.delete(arn)

    # -- the Backend protocol ---------------------------------------------------------------------

    def checkpoint(self, arn: str, token: str, updates: Sequence[AnyUpdate]) -> CheckpointResult:
        """CheckpointDurableExecution: all of the batch applies, or none of it does."""
        return self._checkpoints.checkpoint(arn, token, updates)

    def get_state(self, arn: str, token: str, marker: str, max_items: int | None = None) -> StatePage:
        """GetDurableExecutionState: operations in creation order, a page at a time."""
        return self._checkpoints.get_state(arn, token, marker, max_items)

    # -- callbacks --------------------------------------------------------------------------------

    def send_callback_success(self, callback_id: str, result: str | bytes | None = None) -> None:
        """SendDurableExecutionCallbackSuccess: the callback SUCCEEDS with ``result`` (the raw string)."""
        self._callbacks.send_success(callback_id, result)

    def send_callback_failure(self, callback_id: str, error: ErrorObject | None = None) -> None:
        """SendDurableExecutionCallbackFailure: the callback FAILS with ``error``."""
        self._callbacks.send_failure(callback_id, error)

    def send_callback_heartbeat(self, callback_id: str) -> None:
        """SendDurableExecutionCallbackHeartbeat: push the heartbeat deadline out by the heartbeat timeout."""
        self._callbacks.send_heartbeat(callback_id)

    # -- invoking ---------------------------------------------------------------------------------

    def invocation_input(
        self, execution: LocalExecution, updated_operation_ids: Sequence[str] = ()
    ) -> dict[str, Any]:
        """The plain JSON dict Lambda hands a durable handler; ``updated_operation_ids`` lists the
        operations the service changed since the previous invocation (timers, answers, invokes)."""
        return self._invocations.invocation_input(execution, updated_operation_ids)

    def invoke(self, arn: str) -> dict[str, Any] | None:
        """One invocation of the execution's handler; its output (None if it raised or did not run)."""
        return self._invocations.invoke(arn)

    # -- running to the end -----------------------------------------------------------------------

    def at(self, seconds: float, action: Action) -> None:
        """Run ``action`` (e.g. answering a callback) ``seconds`` from now on the service's clock. With a
        virtual clock it takes its place among the timers, so it fires in exactly the right order."""
        self._wakeups.at(seconds, action)

    def run(self, arn: str, *, timeout: float | None = None, hold: Hold | None = None) -> LocalExecution:
        """Drive the service (this execution, its chained invokes, anything else queued) until the execution
        ends; with a virtual clock, also return when only the outside world can move it on (an unanswered
        callback without a timeout), or when the next timer is one ``hold(due, key)`` holds. With a real
        clock, ``timeout`` bounds the real time spent."""
        execution = self.get(arn)
        self._run_loop.drive(lambda: not execution.running, timeout, hold=hold)
        return execution

    def run_all(self, *, timeout: float | None = None) -> None:
        """Drive until nothing is left to do (virtual clock), or until ``timeout`` (real clock)."""
        self._run_loop.drive(lambda: False, timeout)

    def run_due(self) -> None:
        """Do everything that is due now (invocations, chained-invoke calls, timers already due), without
        moving a virtual clock forward."""
        self._run_loop.drive(lambda: False, 0, advance=False)

    def serve_forever(self, stop: threading.Event) -> None:
        """The worker loop of a server: drive whatever becomes due, until ``stop`` is set."""
        self._run_loop.drive(stop.is_set, None, forever=True)

    def close_runtimes(self) -> None:
        """End the worker processes of every registered function's runtime (`eventflow serve` calls it
        when it stops); invocations still running in them end as their sandbox dying would."""
        with self._lock:
            runtimes = [spec.runtime for spec in self._state.registry.values() if spec.runtime is not None]
        for runtime in runtimes:
            runtime.close()

    def shutdown(self) -> None:
        """Wake a `serve_forever` loop so it notices its stop event (`LocalHttpServer.stop` calls this).

        It does not close the store: the service and its store belong to whoever created them, who may
        still read from them after a server stops (and a worker may still be finishing its last step).
        The creator closes the store when done, with ``service.store.close()``."""
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, arn: str, timeout: float | None = None) -> LocalExecution:
        """Block until another thread (a server's worker) has ended the execution, or ``timeout`` passes."""
        return self._run_loop.wait_for(arn, timeout)

    def wait_for_change(self, seen: int, timeout: float) -> int:
        """Block until the service commits a change after the one numbered ``seen`` (or ``timeout`` seconds
        pass), and return the number of the latest one. Why: a reader that shows the service live (the web
        console's long polls) sleeps on the service's own condition instead of asking again and again."""
        state = self._state
        with state.cond:
            state.cond.wait_for(lambda: state.generation != seen, timeout)
            return state.generation

    @property
    def generation(self) -> int:
        """The number of the latest committed change (see `wait_for_change`)."""
        return self._state.generation

    def next_timer(self) -> datetime | None:
        """When the earliest live timer is due (None if there is none)."""
        return self._wakeups.next_timer()

    # -- reading ----------------------------------------------------------------------------------

    def history(self, arn: str) -> list[Event]:
        """The execution's whole history."""
        return self._queries.history(arn)

    def get_history(
        self,
        arn: str,
        *,
        max_items: int | None = None,
        marker: str | None = None,
        reverse: bool = False,
        include_data: bool = True,
    ) -> tuple[list[Event], str | None]:
        """GetDurableExecutionHistory: a page of events (oldest first unless ``reverse``) and the next marker.
        Without ``include_data`` payloads are left out and marked truncated."""
        count = max_items or DEFAULT_PAGE_ITEMS
        return self._queries.history_page(arn, marker, count, reverse, include_data)

    def describe(self, arn: str, *, include_data: bool = True) -> GetDurableExecutionResponse:
        """GetDurableExecution."""
        return self._queries.describe(arn, include_data=include_data)

    def list_executions(
        self,
        function_name: str | None = None,
        *,
        qualifier: str | None = None,
        name: str | None = None,
        statuses: Sequence[str] | None = None,
        started_after: datetime | None = None,
        started_before: datetime | None = None,
        reverse: bool = False,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> tuple[list[ExecutionSummary], str | None]:
        """ListDurableExecutionsByFunction (all functions when ``function_name`` is None); a ``qualifier``
        keeps only the executions of that function version (every local execution runs ``$LATEST``)."""
        where = ExecutionFilter(name, statuses, started_after, started_before, qualifier)
        return self._queries.list_executions(
            function_name, where, reverse=reverse, marker=marker, max_items=max_items
        )


def _through(runtime: Runtime, function_name: str, clock: Clock, limit: float | None) -> Handler:
    """The handler callable of a function whose ``runtime`` runs it elsewhere: ``handler(event,
    context)`` runs one invocation there, bounded by the function's invocation timeout ``limit`` (a
    context of None, as a plain Invoke passes, gets a fresh one)."""

    def handler(event: Any, context: Any) -> Any:
        if not isinstance(context, LambdaContext):
            arn = function_arn(function_name)
            context = LambdaContext.starting_at(clock.now(), function_name, arn, clock)
        return runtime.invoke(event, context, limit)

    return handler
