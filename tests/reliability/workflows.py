"""Random durable workflows, an interpreter that runs them, and a harness that crashes them.

A workflow is a tree of `Spec` nodes (steps with and without retries in both semantics, waits, child
contexts, map, parallel, callbacks answered / failed / timed out, chained invokes, wait_for_condition).
`run_workflow` runs one on a fresh `LocalService` (virtual clock: waits and retry delays cost no real
time), optionally crashing it at chosen *crash points*: every step attempt offers two (before and after
its user code ran, i.e. between user code and its checkpoint) and every checkpoint call offers two
(before it is sent, and after the service applied it but before its answer is read). A crash raises
`SandboxCrash`, which nothing in eventflow catches; the Lambda boundary turns it into a failed
invocation, and the service re-invokes as Lambda would.

The outcome (`Outcome`) holds what the properties compare: the execution's final status, result and
error, the operations that completed (in creation order, without fields that legitimately differ
between runs such as timestamps and callback ids), and every run of user step code with its attempt.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from eventflow import (
    CallbackError,
    ChildContextError,
    DurableContext,
    InvokeError,
    StepContext,
    StepError,
    StepSemantics,
    WaitForConditionError,
    retry,
    waits,
)
from eventflow.backends.base import Backend, CheckpointResult, StatePage
from eventflow.batch import BatchItemStatus, CompletionConfig, MapConfig, ParallelConfig
from eventflow.events.enums import TERMINAL_STATUSES, OperationAction
from eventflow.events.wire import ErrorObject, Operation, OperationUpdate
from eventflow.handler import DurableHandler
from eventflow.local import CallbackNotFoundError, LocalService
from eventflow.testing.faults import SandboxCrash

# -- the workflow language ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    name: str
    fails: int = 0  # the first `fails` attempts raise
    attempts: int = 1  # max attempts of its retry strategy (1: no retry)
    at_most_once: bool = False


@dataclass(frozen=True)
class Wait:
    seconds: int


@dataclass(frozen=True)
class Child:
    name: str
    body: tuple[Spec, ...]


@dataclass(frozen=True)
class Map:
    name: str
    items: int
    body: tuple[Spec, ...]
    tolerate_all: bool = True


@dataclass(frozen=True)
class Parallel:
    name: str
    branches: tuple[tuple[Spec, ...], ...]


@dataclass(frozen=True)
class Callback:
    name: str
    outcome: str  # "success" | "failure" | "timeout"


@dataclass(frozen=True)
class Invoke:
    name: str
    target: str  # "double" | "fail"
    payload: int


@dataclass(frozen=True)
class Condition:
    name: str
    polls: int


Spec = Step | Wait | Child | Map | Parallel | Callback | Invoke | Condition


# -- strategies -----------------------------------------------------------------------------------------

_names = st.sampled_from(["a", "b", "c", "d", "e"])


def _step(max_crashes: int) -> st.SearchStrategy[Step]:
    """Steps whose outcome cannot depend on where a crash lands.

    An at-most-once attempt cut off by a crash is *not* re-run: it counts as a failed attempt (by design).
    Such steps get enough attempts to absorb every crash and still succeed, so the crash-free and the
    crashed run agree. At-least-once steps re-run the interrupted attempt, so any budget works.
    """

    def build(name: str, fails: int, extra: int, most: bool, retried: bool) -> Step:
        if most:
            return Step(name, fails, fails + 1 + max_crashes + extra, True)
        if not retried:
            return Step(name, min(fails, 1), 1, False)
        return Step(name, fails, max(1, fails + extra - 1), False)

    return st.builds(build, _names, st.integers(0, 2), st.integers(0, 2), st.booleans(), st.booleans())


def specs(max_crashes: int = 3, *, max_leaves: int = 5) -> st.SearchStrategy[tuple[Spec, ...]]:
    """A workflow body: a short sequence of operations, some of them nesting further bodies."""
    leaf: st.SearchStrategy[Spec] = st.one_of(
        _step(max_crashes),
        st.builds(Wait, st.integers(1, 3600)),
        st.builds(Callback, _names, st.sampled_from(["success", "failure", "timeout"])),
        st.builds(Invoke, _names, st.sampled_from(["double", "fail"]), st.integers(0, 100)),
        st.builds(Condition, _names, st.integers(1, 3)),
    )

    def extend(inner: st.SearchStrategy[Spec]) -> st.SearchStrategy[Spec]:
        body = st.lists(inner, min_size=1, max_size=3).map(tuple)
        return st.one_of(
            st.builds(Child, _names, body),
            st.builds(Map, _names, st.integers(1, 3), body, st.booleans()),
            st.builds(Parallel, _names, st.lists(body, min_size=1, max_size=3).map(tuple)),
        )

    node = st.recursive(leaf, extend, max_leaves=max_leaves)
    return st.lists(node, min_size=1, max_size=4).map(tuple)


def count_ops(body: Sequence[Spec]) -> int:
    """A rough size, for reporting."""
    total = 0
    for spec in body:
        total += 1
        if isinstance(spec, Child):
            total += count_ops(spec.body)
        elif isinstance(spec, Map):
            total += spec.items * (1 + count_ops(spec.body))
        elif isinstance(spec, Parallel):
            total += sum(1 + count_ops(b) for b in spec.branches)
    return total


# -- crash points ----------------------------------------------------------------------------------------


@dataclass
class Crasher:
    """Counts crash points as the run passes them and crashes at the chosen ones.

    It also tracks which step attempt is in flight (its code started, its completion not yet
    acknowledged), so a test can tell an interrupted attempt from a needless re-run. Items of a map or
    parallel run on threads: a crash in one kills the sandbox for all of them, so once a crash fired,
    every crash point any thread reaches until the next invocation (`revive`) crashes too, as nothing
    runs in a dead sandbox.
    """

    at: frozenset[int] = frozenset()
    ticks: int = 0
    fired: list[tuple[int, str]] = field(default_factory=list)
    in_flight: set[tuple[str, int]] = field(default_factory=set)
    interrupted: set[tuple[str, int]] = field(default_factory=set)
    dead: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def point(self, where: str) -> None:
        with self.lock:
            if self.dead:
                self.interrupted |= self.in_flight
                raise SandboxCrash(f"the sandbox died already: {where}")
            tick = self.ticks
            self.ticks += 1
            if tick in self.at:
                self.fired.append((tick, where))
                self.interrupted |= self.in_flight
                self.dead = True
                raise SandboxCrash(f"crash point {tick}: {where}")

    def started(self, attempt: tuple[str, int]) -> None:
        with self.lock:
            self.in_flight.add(attempt)

    def acknowledged(self, done: set[str]) -> None:
        with self.lock:
            self.in_flight = {f for f in self.in_flight if f[0] not in done}

    def interrupt(self) -> None:
        with self.lock:
            self.interrupted |= self.in_flight

    def revive(self) -> None:
        """A new invocation: a new sandbox."""
        with self.lock:
            self.dead = False


class CrashingBackend:
    """Offers a crash point before each checkpoint is sent and one after the service applied it."""

    def __init__(self, inner: Backend, crasher: Crasher) -> None:
        self.inner = inner
        self.crasher = crasher

    def checkpoint(self, arn: str, token: str, updates: Sequence[OperationUpdate]) -> CheckpointResult:
        self.crasher.point("before a checkpoint is sent")
        result = self.inner.checkpoint(arn, token, updates)
        done = {f"{arn}#{u.id}" for u in updates if u.action != OperationAction.START}
        self.crasher.point("after a checkpoint was applied, before its answer is read")
        self.crasher.acknowledged(done)
        return result

    def get_state(self, arn: str, token: str, marker: str) -> StatePage:
        return self.inner.get_state(arn, token, marker)


class InterruptionTracker:
    """Outermost backend wrapper: any failure of a checkpoint call (an injected fault as well as a crash)
    interrupts the step attempt in flight, which may then legitimately run again."""

    def __init__(self, inner: Backend, crasher: Crasher) -> None:
        self.inner = inner
        self.crasher = crasher

    def checkpoint(self, arn: str, token: str, updates: Sequence[OperationUpdate]) -> CheckpointResult:
        try:
            return self.inner.checkpoint(arn, token, updates)
        except BaseException:
            self.crasher.interrupt()
            raise

    def get_state(self, arn: str, token: str, marker: str) -> StatePage:
        return self.inner.get_state(arn, token, marker)


# -- the interpreter ---------------------------------------------------------------------------------------


@dataclass
class Env:
    service: LocalService
    crasher: Crasher
    runs: list[tuple[str, int, bool]] = field(default_factory=list)  # (arn#op id, attempt, at-most-once)


_ENV: list[Env] = []


def _env() -> Env:
    return _ENV[-1]


class Boom(Exception):
    """What a failing step raises."""


def _step_fn(spec: Step) -> Callable[[StepContext], Any]:
    def fn(sc: StepContext) -> Any:
        env = _env()
        key = (_key(sc), sc.attempt)
        env.crasher.started(key)
        env.crasher.point(f"step {spec.name} attempt {sc.attempt}: before its code")
        env.runs.append((key[0], sc.attempt, spec.at_most_once))
        env.crasher.point(f"step {spec.name} attempt {sc.attempt}: after its code, before its checkpoint")
        if sc.attempt <= spec.fails:
            raise Boom(f"{spec.name} fails attempt {sc.attempt}")
        return f"{spec.name}:{sc.operation_id[:6]}"

    return fn


def _key(sc: StepContext) -> str:
    """A step's identity across executions: op ids repeat between an invoked function's executions."""
    arn = sc.state.arn if sc.state is not None else ""
    return f"{arn}#{sc.operation_id}"


def run_body(ctx: DurableContext, body: Sequence[Spec]) -> list[Any]:
    """Run a body and return what each operation produced; failures are caught and named, so that the
    result records them and the workflow goes on."""
    out: list[Any] = []
    for spec in body:
        try:
            out.append(_run_one(ctx, spec))
        except (StepError, ChildContextError, CallbackError, InvokeError, WaitForConditionError) as exc:
            out.append(f"error:{type(exc).__name__}:{exc.error_type}")
    return out


def _run_one(ctx: DurableContext, spec: Spec) -> Any:
    if isinstance(spec, Step):
        strategy = retry.linear(max_attempts=spec.attempts, step=2)
        semantics = (
            StepSemantics.AT_MOST_ONCE_PER_RETRY
            if spec.at_most_once
            else StepSemantics.AT_LEAST_ONCE_PER_RETRY
        )
        return ctx.step(_step_fn(spec), name=spec.name, retry=strategy, semantics=semantics)
    if isinstance(spec, Wait):
        ctx.wait(seconds=spec.seconds)
        return "waited"
    if isinstance(spec, Child):
        body = spec.body
        return ctx.child_context(lambda c: run_body(c, body), name=spec.name)
    if isinstance(spec, Map):
        body = spec.body
        config: MapConfig[int] = MapConfig(
            completion_config=CompletionConfig.all_completed() if spec.tolerate_all else CompletionConfig()
        )
        batch = ctx.map(
            list(range(spec.items)), lambda c, item, i, items: run_body(c, body), spec.name, config=config
        )
        return [_item(i.status, i.result) for i in batch.all] + [str(batch.completion_reason)]
    if isinstance(spec, Parallel):
        branches = [(lambda c, b=b: run_body(c, b)) for b in spec.branches]
        batch = ctx.parallel(
            branches, spec.name, config=ParallelConfig(completion_config=CompletionConfig.all_completed())
        )
        return [_item(i.status, i.result) for i in batch.all] + [str(batch.completion_reason)]
    if isinstance(spec, Callback):
        outcome = spec.outcome
        return ctx.wait_for_callback(
            lambda cid, sc: _answer(cid, outcome), spec.name, timeout=600, retry=retry.no_retry
        )
    if isinstance(spec, Invoke):
        return ctx.invoke(spec.target, {"n": spec.payload}, spec.name)
    if isinstance(spec, Condition):
        polls = spec.polls

        def check(state: int, sc: StepContext) -> int:
            _env().crasher.point(f"condition {spec.name} check {state}")
            return state + 1

        return ctx.wait_for_condition(
            check, 0, waits.fixed(3, until=lambda s: s >= polls, max_attempts=polls + 1), spec.name
        )
    raise TypeError(spec)


def _item(status: BatchItemStatus, result: Any) -> Any:
    return result if status is BatchItemStatus.SUCCEEDED else str(status)


def _answer(callback_id: str, outcome: str) -> None:
    """The submitter: schedule the outside world's answer. A re-run submitter schedules it twice; the
    second answer then finds the callback closed, which the outside world shrugs off."""
    env = _env()
    env.crasher.point("callback submitter")
    if outcome == "timeout":
        return
    service = env.service

    def answer() -> None:
        try:
            if outcome == "success":
                service.send_callback_success(callback_id, json.dumps({"ok": "yes"}))
            else:
                service.send_callback_failure(
                    callback_id, ErrorObject(error_type="Rejected", error_message="the outside world said no")
                )
        except CallbackNotFoundError:
            pass

    service.at(5, answer)


def workflow(event: Any, ctx: DurableContext) -> Any:
    return run_body(ctx, event_body())


_BODIES: list[tuple[Spec, ...]] = []


def event_body() -> tuple[Spec, ...]:
    return _BODIES[-1]


def double(event: Any, ctx: DurableContext) -> Any:
    return ctx.step(lambda sc: _target_step(sc, event["n"] * 2), name="double")


def fail(event: Any, ctx: DurableContext) -> Any:
    return ctx.step(lambda sc: _target_step(sc, None), name="fail", retry=retry.no_retry)


def _target_step(sc: StepContext, value: Any) -> Any:
    env = _env()
    env.crasher.started((_key(sc), sc.attempt))
    env.crasher.point("invoked function's step")
    env.runs.append((_key(sc), sc.attempt, False))
    if value is None:
        raise Boom("the invoked function fails")
    return value


# -- running ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Outcome:
    status: str
    result: str | None
    error: tuple[str | None, str | None] | None
    completed: dict[str | None, tuple[tuple[Any, ...], ...]]
    runs: tuple[tuple[str, int, bool], ...]
    crashes: tuple[tuple[int, str], ...]
    interrupted: frozenset[tuple[str, int]]
    ticks: int
    invocations: int
    service: LocalService | None = field(default=None, compare=False, repr=False)

    def run_counts(self) -> Counter[tuple[str, int]]:
        return Counter((op, attempt) for op, attempt, _ in self.runs)


def completed_ops(service: LocalService, arn: str) -> dict[str | None, tuple[tuple[Any, ...], ...]]:
    """Every operation that ended, with what it ended with (not when, nor the ids the service picks at
    random), grouped by parent in creation order.

    Grouped because only a context's own operations run in a fixed order: siblings in a map or parallel
    interleave by timing (an item whose step needed one more retry after a crash finishes later; items
    run side by side on threads), and that is not something a crash may be blamed for. So the items of a
    map or parallel are compared as a set (sorted by id); every other context's operations in order.
    """
    execution = service.get(arn)
    out: dict[str | None, list[tuple[Any, ...]]] = {}
    for op_id in execution.op_order:
        op = execution.operations[op_id]
        if op.status in TERMINAL_STATUSES and op.type != "EXECUTION":
            out.setdefault(op.parent_id, []).append(_summary(op))
    batches = {
        op_id for op_id, op in execution.operations.items() if op.sub_type in ("Map", "Parallel")
    }
    return {
        parent: tuple(sorted(ops) if parent in batches else ops) for parent, ops in out.items()
    }


def _summary(op: Operation) -> tuple[Any, ...]:
    result: Any = None
    error: Any = None
    for details in (op.step_details, op.context_details, op.callback_details, op.chained_invoke_details):
        if details is not None:
            result = getattr(details, "result", None)
            err = getattr(details, "error", None)
            error = (err.error_type, err.error_message) if err is not None else None
    return (op.id, str(op.type), op.sub_type, op.name, str(op.status), result, error)


@contextmanager
def _installed(env: Env, body: tuple[Spec, ...]) -> Iterator[None]:
    _ENV.append(env)
    _BODIES.append(body)
    try:
        yield
    finally:
        _ENV.pop()
        _BODIES.pop()


def lambda_boundary(handler: Callable[[Any, Any], Any], crasher: Crasher) -> Callable[[Any, Any], Any]:
    """What Lambda does when the sandbox dies: the invocation ends with Runtime.ExitError. Each
    invocation runs in a sandbox of its own."""

    def invoke(event: Any, context: Any) -> Any:
        crasher.revive()
        try:
            return handler(event, context)
        except SandboxCrash as exc:
            raise RuntimeError(f"Runtime.ExitError: {exc}") from None

    return invoke


def run_workflow(
    body: tuple[Spec, ...],
    crash_at: frozenset[int] = frozenset(),
    *,
    wrap: Callable[[Backend], Backend] | None = None,
) -> Outcome:
    """Run ``body`` to its end on a fresh local service, crashing at the crash points in ``crash_at``."""
    service = LocalService()
    crasher = Crasher(at=crash_at)
    env = Env(service, crasher)
    backend: Backend = CrashingBackend(service, crasher)
    if wrap is not None:
        backend = InterruptionTracker(wrap(backend), crasher)
    for name, fn in (("wf", workflow), ("double", double), ("fail", fail)):
        service.register(name, lambda_boundary(DurableHandler(fn, backend), crasher))
    with _installed(env, body):
        execution = service.start_execution("wf", {})
        service.run(execution.arn)
    error = (execution.error.error_type, execution.error.error_message) if execution.error else None
    return Outcome(
        status=str(execution.status),
        result=execution.result,
        error=error,
        completed=completed_ops(service, execution.arn),
        runs=tuple(env.runs),
        crashes=tuple(crasher.fired),
        interrupted=frozenset(crasher.interrupted),
        ticks=crasher.ticks,
        invocations=execution.invocations,
        service=service,
    )
