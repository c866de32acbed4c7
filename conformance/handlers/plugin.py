"""Plugin requirements (10-x): instrumentation plugins that print JSON records to stdout.

Each record carries the ``durableExecutionArn`` the plugin saw at invocation start, so CloudWatch's
execution-scoped filter finds it (as the requirements ask).
"""

from __future__ import annotations

import json
from typing import Any

from conformance.registry import covers
from eventflow import DurableContext, StepContext, durable_execution, retry
from eventflow.events.enums import OperationType
from eventflow.plugins import AttemptInfo, BasePlugin, InvocationEndInfo, InvocationStartInfo, OperationInfo


class ConformancePlugin(BasePlugin):
    """Prints one JSON line per hook, stamped with the execution ARN."""

    def __init__(self, label: str = "CONFPLUGIN", *, invocation: bool = True, steps: bool = False) -> None:
        self.label = label
        self.invocation = invocation
        self.steps = steps
        self.arn: str | None = None

    def emit(self, hook: str, **fields: Any) -> None:
        print(
            json.dumps({"plugin": self.label, "hook": hook, **fields, "durableExecutionArn": self.arn}),
            flush=True,
        )

    def on_invocation_start(self, info: InvocationStartInfo) -> None:
        self.arn = info.execution_arn
        if self.invocation:
            self.emit("invocation-start", first=info.is_first_invocation)

    def on_invocation_end(self, info: InvocationEndInfo) -> None:
        if self.invocation:
            self.emit("invocation-end", status=info.status.value)

    def on_operation_start(self, info: OperationInfo) -> None:
        if self.steps and info.operation_type == OperationType.STEP:
            self.emit("operation-start", op=info.operation_id)

    def on_operation_end(self, info: OperationInfo) -> None:
        if self.steps and info.operation_type == OperationType.STEP:
            self.emit("operation-end", op=info.operation_id, status=info.status.value)

    def on_attempt_start(self, info: AttemptInfo) -> None:
        if self.steps and info.operation_type == OperationType.STEP:
            self.emit("attempt-start", n=info.attempt, op=info.operation_id)

    def on_attempt_end(self, info: AttemptInfo) -> None:
        if self.steps and info.operation_type == OperationType.STEP:
            outcome = info.outcome.value if info.outcome is not None else None
            self.emit("attempt-end", n=info.attempt, outcome=outcome, op=info.operation_id)


class Factory:
    """Builds a fresh plugin for every invocation (per-invocation state lives in its attributes)."""

    def __init__(self, label: str = "CONFPLUGIN", **options: Any) -> None:
        self.label = label
        self.options = options

    def create_plugin(self, info: InvocationStartInfo) -> ConformancePlugin:
        return ConformancePlugin(self.label, **self.options)


class FaultyPlugin(BasePlugin):
    """Every hook logs its line, then raises: the SDK must swallow all of it."""

    def __init__(self) -> None:
        self.arn: str | None = None

    def _boom(self, hook: str) -> None:
        print(
            json.dumps({"plugin": "CONFPLUGIN-FAULTY", "hook": hook, "durableExecutionArn": self.arn}),
            flush=True,
        )
        raise RuntimeError(f"plugin hook {hook} failed")

    def on_invocation_start(self, info: InvocationStartInfo) -> None:
        self.arn = info.execution_arn
        self._boom("invocation-start")

    def on_invocation_end(self, info: InvocationEndInfo) -> None:
        self._boom("invocation-end")

    def on_operation_start(self, info: OperationInfo) -> None:
        if info.operation_type == OperationType.STEP:
            self._boom("operation-start")

    def on_operation_end(self, info: OperationInfo) -> None:
        if info.operation_type == OperationType.STEP:
            self._boom("operation-end")

    def on_attempt_start(self, info: AttemptInfo) -> None:
        if info.operation_type == OperationType.STEP:
            self._boom("attempt-start")

    def on_attempt_end(self, info: AttemptInfo) -> None:
        if info.operation_type == OperationType.STEP:
            self._boom("attempt-end")


class FaultyFactory:
    def create_plugin(self, info: InvocationStartInfo) -> FaultyPlugin:
        return FaultyPlugin()


def _greet(event: Any, ctx: DurableContext) -> Any:
    def greet(step: StepContext) -> str:
        step.logger.info(f"Greeting step running for: {event}")
        return f"Hello, {event}!"

    return ctx.step(greet)


@covers("10-1")
@durable_execution(plugins=[Factory()])
def plugin_invocation_hooks(event: Any, ctx: DurableContext) -> Any:
    return _greet(event, ctx)


@covers("10-2")
@durable_execution(plugins=[Factory(invocation=False, steps=True)])
def plugin_operation_hooks(event: Any, ctx: DurableContext) -> Any:
    return _greet(event, ctx)


@covers("10-3")
@durable_execution(plugins=[Factory(invocation=False, steps=True)])
def plugin_attempt_hooks(event: Any, ctx: DurableContext) -> Any:
    def unreliable(step: StepContext) -> str:
        if step.attempt == 1:
            raise RuntimeError("first attempt fails")
        return "Operation succeeded"

    strategy = retry.exponential(max_attempts=3, initial_delay=1, backoff_rate=1, jitter=retry.Jitter.NONE)
    return ctx.step(unreliable, retry=strategy)


@covers("10-4")
@durable_execution(plugins=[FaultyFactory()])
def plugin_errors_isolated(event: Any, ctx: DurableContext) -> Any:
    return _greet(event, ctx)


@covers("10-5")
@durable_execution(plugins=[Factory("CONFPLUGIN-A"), Factory("CONFPLUGIN-B")])
def plugin_multiple(event: Any, ctx: DurableContext) -> Any:
    return _greet(event, ctx)


@covers("10-6")
@durable_execution(plugins=[Factory()])
def plugin_first_invocation_flag(event: Any, ctx: DurableContext) -> Any:
    ctx.wait(seconds=2)


@covers("10-7")
@durable_execution(plugins=[Factory()])
def plugin_terminal_failure(event: Any, ctx: DurableContext) -> Any:
    def failing(_: StepContext) -> None:
        raise RuntimeError("step failed")

    return ctx.step(failing, retry=retry.no_retry)
