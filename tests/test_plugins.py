"""Plugin hooks: what fires when (the conformance suite's plugin requirements 10.1-10.7), that a failing
plugin never changes the execution, and that an execution without plugins builds nothing for them."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from eventflow import AsyncDurableContext, DurableContext, retry
from eventflow.handler import DurableHandler
from eventflow.local import LocalService
from eventflow.plugins import (
    AttemptInfo,
    BasePlugin,
    InvocationEndInfo,
    InvocationStartInfo,
    OperationInfo,
    PluginHost,
)
from eventflow.testing import RecordingBackend, render_checkpoints

RETRY = retry.exponential(max_attempts=2, initial_delay=1, jitter=retry.Jitter.NONE)


class Recorder(BasePlugin):
    """Writes each hook as a short line, like the conformance handlers' CONFPLUGIN records."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.arn: str | None = None

    def on_invocation_start(self, info: InvocationStartInfo) -> None:
        self.arn = info.execution_arn
        self.lines.append(f"invocation-start first={info.is_first_invocation}")

    def on_invocation_end(self, info: InvocationEndInfo) -> None:
        error = f" error={info.error.error_type}" if info.error else ""
        self.lines.append(f"invocation-end status={info.status.value}{error}")

    def on_operation_start(self, info: OperationInfo) -> None:
        replay = " replayed" if info.is_replayed else ""
        what = f"{info.operation_type.value} {info.name} {info.status.value}"
        self.lines.append(f"operation-start {what}{replay}")

    def on_operation_end(self, info: OperationInfo) -> None:
        replay = " replayed" if info.is_replayed else ""
        what = f"{info.operation_type.value} {info.name} {info.status.value}"
        self.lines.append(f"operation-end {what}{replay}")

    def on_attempt_start(self, info: AttemptInfo) -> None:
        self.lines.append(f"attempt-start n={info.attempt} {info.name}")

    def on_attempt_end(self, info: AttemptInfo) -> None:
        assert info.outcome is not None
        error = f" error={info.error.error_type}" if info.error else ""
        self.lines.append(f"attempt-end n={info.attempt} {info.name} outcome={info.outcome.value}{error}")


def sync_handler(event: Any, ctx: DurableContext) -> Any:
    def unreliable(step: Any) -> str:
        if step.attempt == 1:
            raise RuntimeError("flaky")
        return "Operation succeeded"

    return ctx.step(unreliable, name="unreliable", retry=RETRY)


async def async_handler(event: Any, ctx: AsyncDurableContext) -> Any:
    async def unreliable(step: Any) -> str:
        if step.attempt == 1:
            raise RuntimeError("flaky")
        return "Operation succeeded"

    return await ctx.step(unreliable, name="unreliable", retry=RETRY)


def _run(fn: Any, event: Any = None, **options: Any) -> tuple[LocalService, RecordingBackend, Any]:
    service = LocalService()
    recorder = RecordingBackend(service)
    service.register("fn", DurableHandler(fn, recorder, **options))
    execution = service.start_execution("fn", event if event is not None else {})
    service.run(execution.arn)
    return service, recorder, execution


@pytest.mark.parametrize("fn", [sync_handler, async_handler])
def test_hooks_of_a_step_retried_across_two_invocations(fn: Any) -> None:
    lines: list[str] = []
    plugin = Recorder(lines)
    _, _, execution = _run(fn, plugins=[plugin])
    assert execution.result == '"Operation succeeded"'
    assert plugin.arn == execution.arn
    assert lines == [
        "invocation-start first=True",
        "operation-start STEP unreliable STARTED",
        "attempt-start n=1 unreliable",
        "attempt-end n=1 unreliable outcome=FAILED error=RuntimeError",
        "invocation-end status=PENDING",
        "invocation-start first=False",
        "operation-start STEP unreliable READY replayed",
        "attempt-start n=2 unreliable",
        "attempt-end n=2 unreliable outcome=SUCCEEDED",
        "operation-end STEP unreliable SUCCEEDED",
        "invocation-end status=SUCCEEDED",
    ]


def test_a_terminal_failure_reaches_the_invocation_end_hook() -> None:
    lines: list[str] = []

    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.step(lambda _: 1 / 0, name="failing", retry=retry.exponential(max_attempts=1))

    _run(handler, plugins=[Recorder(lines)])
    assert lines == [
        "invocation-start first=True",
        "operation-start STEP failing STARTED",
        "attempt-start n=1 failing",
        "attempt-end n=1 failing outcome=FAILED error=ZeroDivisionError",
        "operation-end STEP failing FAILED",
        # the step's recorded error is the execution's error (its original type is kept)
        "invocation-end status=FAILED error=ZeroDivisionError",
    ]


class Faulty:
    """Every hook raises (10.4); nothing about the execution may change."""

    def __init__(self) -> None:
        self.called: list[str] = []

    def __getattr__(self, hook: str) -> Any:
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def fail(info: Any) -> None:
            self.called.append(hook)
            raise RuntimeError(f"{hook} is broken")

        return fail


def test_a_failing_plugin_is_logged_and_never_changes_the_execution(caplog: pytest.LogCaptureFixture) -> None:
    _, plain, plain_ex = _run(sync_handler)
    faulty = Faulty()
    with caplog.at_level(logging.ERROR, logger="eventflow.plugins"):
        _, observed, observed_ex = _run(sync_handler, plugins=[faulty, Recorder(lines := [])])
    assert observed_ex.result == plain_ex.result and observed_ex.status == plain_ex.status
    assert render_checkpoints(observed.batches, verbatim=True) == render_checkpoints(
        plain.batches, verbatim=True
    )
    assert len(lines) == 11  # the plugin after the faulty one still saw every hook
    assert set(faulty.called) == {
        "on_invocation_start", "on_invocation_end", "on_operation_start", "on_operation_end",
        "on_attempt_start", "on_attempt_end", "on_user_function_start", "on_user_function_end",
    }
    assert len(caplog.records) == len(faulty.called)
    assert "Faulty failed in on_invocation_start" in caplog.records[0].getMessage()


def test_a_factory_builds_a_fresh_plugin_per_invocation() -> None:
    lines: list[str] = []
    built: list[InvocationStartInfo] = []

    class Factory:
        def create_plugin(self, info: InvocationStartInfo) -> Recorder:
            built.append(info)
            return Recorder(lines)

    _run(sync_handler, plugins=[Factory()])
    assert [info.is_first_invocation for info in built] == [True, False]
    assert lines[0] == "invocation-start first=True" and lines[5] == "invocation-start first=False"


def test_an_operation_finished_by_the_service_ends_once_in_the_next_invocation() -> None:
    """A wait completes while the execution is suspended; the invocation that sees it in
    UpdatedOperationIds reports its end, later replays do not (10.6's shape, plus the end hook)."""

    def handler(event: Any, ctx: DurableContext) -> Any:
        ctx.wait(seconds=2, name="pause")
        return "done"

    service, _, execution = _run(handler)
    event = service.invocation_input(execution)
    wait_id = next(op["Id"] for op in event["InitialExecutionState"]["Operations"] if op["Type"] == "WAIT")
    for updated, expected in (([wait_id], ["operation-end WAIT pause SUCCEEDED replayed"]), ([], [])):
        lines: list[str] = []
        DurableHandler(handler, RecordingBackend(service), plugins=[Recorder(lines)])(
            {**event, "UpdatedOperationIds": updated}, None
        )
        assert lines == ["invocation-start first=False", *expected, "invocation-end status=SUCCEEDED"]


def test_without_plugins_no_host_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a PluginHost was built without plugins")

    monkeypatch.setattr(PluginHost, "__init__", forbidden)
    _, _, execution = _run(sync_handler)
    assert execution.result == '"Operation succeeded"'


def test_a_handler_that_raises_reports_retry_and_the_rejected_input_reports_nothing() -> None:
    lines: list[str] = []
    handler = DurableHandler(sync_handler, RecordingBackend(LocalService()), plugins=[Recorder(lines)])
    with pytest.raises(Exception, match="invocation input"):
        handler("not an invocation input", None)
    assert lines == []
