"""The official Python SDK's handlers run unchanged on ``eventflow serve``, started and answered through
boto3 as a user would: every construct (steps with retries, waits, child contexts, callbacks,
wait_for_callback, invoke, map, parallel, wait_for_condition).

The handlers run in serve's worker processes (one through ``awslambdaric``, the official runtime
interface client, registered as ``cmd:``) and checkpoint back over HTTP with the SDK's own boto3 client.
Callback ids leave the handler through a FIFO the test reads (a blocking read, not a poll).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from .serve_process import run, serving

HANDLERS = '''
import os

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, JitterStrategy, StepConfig
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy
from aws_durable_execution_sdk_python.waits import WaitForConditionConfig, WaitForConditionDecision


def _attempt(marker):
    """How often this step has run (a file: each retry may run in another worker process)."""
    with open(marker, "a") as file:
        file.write("x")
    with open(marker) as file:
        return len(file.read())


@durable_execution
def steps_with_retries(event, context: DurableContext):
    retry = create_retry_strategy(
        RetryStrategyConfig(max_attempts=3, initial_delay=Duration.from_seconds(2),
                            jitter_strategy=JitterStrategy.NONE)
    )

    def flaky(_):
        attempt = _attempt(event["marker"])
        if attempt < 2:
            raise RuntimeError(f"attempt {attempt} fails")
        return {"attempt": attempt, "input": event["n"]}

    return context.step(flaky, name="flaky", config=StepConfig(retry_strategy=retry))


@durable_execution
def waits(event, context: DurableContext):
    context.wait(Duration.from_seconds(30), name="pause")
    return context.step(lambda _: event["n"] * 2, name="after")


@durable_execution
def child_contexts(event, context: DurableContext):
    def inner(child: DurableContext):
        first = child.step(lambda _: event["n"] + 1, name="first")
        return child.step(lambda _: first * 10, name="second")

    return context.run_in_child_context(inner, name="inner")


def _tell(fifo, text):
    with open(fifo, "w") as file:  # blocks until the test reads: then the test knows the id
        file.write(text)


@durable_execution
def callbacks(event, context: DurableContext):
    callback = context.create_callback(name="approval")
    context.step(lambda _: _tell(event["fifo"], callback.callback_id), name="announce")
    return {"approved": callback.result()}


@durable_execution
def waits_for_callback(event, context: DurableContext):
    answer = context.wait_for_callback(lambda callback_id, _: _tell(event["fifo"], callback_id),
                                       name="review")
    return {"review": answer}


@durable_execution
def target(event, context: DurableContext):
    return context.step(lambda _: {"doubled": event["n"] * 2}, name="double")


@durable_execution
def invokes(event, context: DurableContext):
    return context.invoke("target", {"n": event["n"]}, name="call-target")


@durable_execution
def maps(event, context: DurableContext):
    def item(ctx: DurableContext, value, index, items):
        return ctx.step(lambda _: value * value, name=f"square-{index}")

    return context.map(event["items"], item, name="squares").get_results()


@durable_execution
def parallels(event, context: DurableContext):
    branches = [
        lambda ctx: ctx.step(lambda _: "a", name="a"),
        lambda ctx: ctx.step(lambda _: "b", name="b"),
        lambda ctx: ctx.step(lambda _: "c", name="c"),
    ]
    return context.parallel(branches, name="abc").get_results()


@durable_execution
def waits_for_condition(event, context: DurableContext):
    def strategy(state, attempts):
        if state >= event["until"]:
            return WaitForConditionDecision.stop_polling()
        return WaitForConditionDecision.continue_waiting(Duration.from_seconds(5))

    config = WaitForConditionConfig(wait_strategy=strategy, initial_state=0)
    return context.wait_for_condition(lambda state, _: state + 1, config=config, name="count-up")


@durable_execution
def echoes(event, context: DurableContext):
    return {"event": event, "pid": os.getpid()}
'''

CONFIG = f'''
[functions]
steps_with_retries = "handlers:steps_with_retries"
waits = "handlers:waits"
child_contexts = "handlers:child_contexts"
callbacks = "handlers:callbacks"
waits_for_callback = "handlers:waits_for_callback"
target = "handlers:target"
invokes = "handlers:invokes"
maps = "handlers:maps"
parallels = "handlers:parallels"
waits_for_condition = "handlers:waits_for_condition"
echoes = "cmd:{sys.executable} -m awslambdaric handlers.echoes"
'''


@pytest.fixture(scope="module")
def lam(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``eventflow serve`` (virtual clock: waits and retry delays are skipped) and a boto3 client."""
    root = tmp_path_factory.mktemp("official")
    (root / "handlers.py").write_text(HANDLERS)
    (root / "eventflow.toml").write_text(CONFIG)
    with serving(root) as client:
        yield client




def event_types(lam: Any, arn: str) -> list[str]:
    return [e["EventType"] for e in lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]]


def test_the_handler_receives_its_input(lam: Any) -> None:
    body, _ = run(lam, "echoes", {"hello": "world"})
    assert body["event"] == {"hello": "world"}  # the EXECUTION op id is the ARN's last segment
    assert body["pid"] != os.getpid()


def test_steps_with_retries(lam: Any) -> None:
    body, arn = run(lam, "steps_with_retries", {"n": 7, "marker": str(lam.root / "retries")})
    assert body == {"attempt": 2, "input": 7}
    types = event_types(lam, arn)
    assert types.count("StepStarted") == 2 and "StepFailed" in types and types[-1] == "ExecutionSucceeded"


def test_waits(lam: Any) -> None:
    body, arn = run(lam, "waits", {"n": 21})
    assert body == 42
    assert {"WaitStarted", "WaitSucceeded"} <= set(event_types(lam, arn))


def test_child_contexts(lam: Any) -> None:
    body, arn = run(lam, "child_contexts", {"n": 1})
    assert body == 20
    assert {"ContextStarted", "ContextSucceeded"} <= set(event_types(lam, arn))


def answer_callback_through(lam: Any, name: str, label: str, result: Any) -> tuple[Any, str]:
    fifo = lam.root / f"{label}.fifo"
    os.mkfifo(fifo)
    payload = {"fifo": str(fifo)}
    lam.invoke(FunctionName=name, InvocationType="Event", DurableExecutionName=label,
               Payload=json.dumps(payload))
    with open(fifo) as file:  # blocks until the handler writes the callback id
        callback_id = file.read()
    lam.send_durable_execution_callback_success(CallbackId=callback_id, Result=json.dumps(result))
    return run(lam, name, payload, execution_name=label)  # the same name and input: wait for its end


def test_callbacks(lam: Any) -> None:
    body, arn = answer_callback_through(lam, "callbacks", "approval-1", {"ok": True})
    assert body == {"approved": '{"ok": true}'}  # the raw string the sender sent (PROTOCOL.md §5)
    assert {"CallbackStarted", "CallbackSucceeded"} <= set(event_types(lam, arn))


def test_wait_for_callback(lam: Any) -> None:
    body, _ = answer_callback_through(lam, "waits_for_callback", "review-1", "looks good")
    assert body == {"review": '"looks good"'}  # the raw string the sender sent


def test_invoke(lam: Any) -> None:
    body, arn = run(lam, "invokes", {"n": 4})
    assert body == {"doubled": 8}
    assert {"ChainedInvokeStarted", "ChainedInvokeSucceeded"} <= set(event_types(lam, arn))


def test_map(lam: Any) -> None:
    body, _ = run(lam, "maps", {"items": [1, 2, 3, 4]})
    assert body == [1, 4, 9, 16]


def test_parallel(lam: Any) -> None:
    body, _ = run(lam, "parallels", {})
    assert body == ["a", "b", "c"]


def test_wait_for_condition(lam: Any) -> None:
    body, arn = run(lam, "waits_for_condition", {"until": 3})
    assert body == 3
    assert event_types(lam, arn).count("InvocationCompleted") >= 3  # each "not yet" waits on the service
