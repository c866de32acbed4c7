"""map and parallel: the exact checkpoints they write, completion rules, max_concurrency across
suspensions, FLAT vs NESTED, replay without user code, large results, and both front-ends alike."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from eventflow import (
    AsyncDurableContext,
    ChildContextError,
    DurableContext,
    EnvelopeSerDes,
    InvalidInputError,
    StepConfig,
    StepSemantics,
    retry,
)
from eventflow.batch import (
    BatchResult,
    CompletionConfig,
    CompletionReason,
    MapConfig,
    NestingType,
    ParallelBranch,
    ParallelConfig,
)
from eventflow.core.operations.batch import BATCH_RESULT_SERDES
from eventflow.events.enums import ExecutionStatus, OperationAction, OperationSubType, OperationType
from eventflow.events.wire import OperationUpdate
from eventflow.handler import DurableHandler
from eventflow.ids import branch_id, child_id
from eventflow.local import LocalExecution, LocalService
from eventflow.serdes import SerDesContext
from eventflow.testing import IdLabeler, RecordingBackend, render_checkpoints, render_operations


@dataclass
class Run:
    service: LocalService
    recorder: RecordingBackend
    execution: LocalExecution
    handler: DurableHandler

    @property
    def checkpoints(self) -> str:
        return render_checkpoints(self.recorder.batches, IdLabeler(), verbatim=True)

    @property
    def operations(self) -> str:
        return render_operations(self.recorder.batches, IdLabeler(), verbatim=True)

    @property
    def result(self) -> Any:
        return json.loads(self.execution.result or "null")

    def replay(self) -> tuple[dict[str, Any], RecordingBackend]:
        """Invoke once more over the whole recorded history, checkpointing into a fresh recorder."""
        recorder = RecordingBackend(self.service)
        handler = DurableHandler(self.handler.fn, recorder)
        return handler(self.service.invocation_input(self.execution), None), recorder


def run(fn: Callable[[Any, Any], Any], event: Any = None) -> Run:
    service = LocalService()
    recorder = RecordingBackend(service)
    handler = DurableHandler(fn, recorder)
    service.register("fn", handler)
    execution = service.start_execution("fn", event)
    service.run(execution.arn)
    return Run(service, recorder, execution, handler)


def projection(result: BatchResult[Any]) -> dict[str, Any]:
    return {
        "reason": result.completion_reason.value,
        "status": result.status.value,
        "statuses": [item.status.value for item in result.all],
        "results": result.get_results(),
        "errors": [e.error_type if e else None for e in result.get_errors()],
    }


def open_items_max(updates: list[OperationUpdate], sub_type: str = OperationSubType.MAP_ITERATION) -> int:
    """The most item CONTEXTs ever started and not yet finished, along the checkpoint sequence."""
    open_now, most = 0, 0
    for u in updates:
        if u.type is OperationType.CONTEXT and u.sub_type == sub_type:
            open_now += 1 if u.action is OperationAction.START else -1
            most = max(most, open_now)
    return most


# -- the exact checkpoints ---------------------------------------------------------------------------------


def test_map_nested_writes_a_context_per_item_and_the_batch_result() -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        result = ctx.map(
            ["World", "Kiro"],
            lambda c, item, i, items: c.step(lambda _: f"Hello, {item}!", name="greet"),
            name="map",
            config=MapConfig(max_concurrency=1),
        )
        return result.get_results()

    r = run(handler)
    assert r.result == ["Hello, World!", "Hello, Kiro!"]
    assert r.checkpoints == (
        '#1 START   root/1 map "map"\n'
        '#1 START   root/1[0] map_item "map-item-0"\n'
        '#1 START   root/1[0]/1 step "greet"\n'
        '#1 SUCCEED root/1[0]/1 step "greet" payload="Hello, World!"\n'
        # An item's completion is queued, not waited for: it travels with the next item's call.
        '#2 SUCCEED root/1[0] map_item "map-item-0" payload="Hello, World!"\n'
        # branch_id(X, 1) is child_id(X, 1): the labeler names item 1 as the map's first child.
        '#2 START   root/1/1 map_item "map-item-1"\n'
        '#2 START   root/1/1/1 step "greet"\n'
        '#2 SUCCEED root/1/1/1 step "greet" payload="Hello, Kiro!"\n'
        '#3 SUCCEED root/1/1 map_item "map-item-1" payload="Hello, Kiro!"\n'
        '#3 SUCCEED root/1 map "map" payload='
        '{"all":[{"index":0,"status":"SUCCEEDED","result":"Hello, World!","error":null},'
        '{"index":1,"status":"SUCCEEDED","result":"Hello, Kiro!","error":null}],'
        '"completionReason":"ALL_COMPLETED"}\n'
    )
    ids = [u.id for u in r.recorder.updates]
    map_id = child_id(None, 1)
    assert ids[1] == branch_id(map_id, 0) and ids[2] == child_id(branch_id(map_id, 0), 1)


def test_the_service_history_of_a_map_with_a_suspended_item() -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        def item(c: DurableContext, x: str, i: int, items: Any) -> str:
            if i == 1:
                c.wait(seconds=1)
            return c.step(lambda _: x, name="s")

        return ctx.map(["r0", "r1"], item, name="suspend", config=MapConfig(max_concurrency=1)).get_results()

    r = run(handler)
    assert r.result == ["r0", "r1"]
    events = [(e.event_type.value, e.sub_type) for e in r.service.history(r.execution.arn)]
    assert events == [
        ("ExecutionStarted", None),
        ("ContextStarted", "Map"),
        ("ContextStarted", "MapIteration"),
        ("StepStarted", "Step"),
        ("StepSucceeded", "Step"),
        ("ContextSucceeded", "MapIteration"),
        ("ContextStarted", "MapIteration"),
        ("WaitStarted", "Wait"),
        ("InvocationCompleted", None),
        ("WaitSucceeded", "Wait"),
        ("StepStarted", "Step"),
        ("StepSucceeded", "Step"),
        ("ContextSucceeded", "MapIteration"),
        ("ContextSucceeded", "Map"),
        ("InvocationCompleted", None),
        ("ExecutionSucceeded", None),
    ]


def test_flat_writes_no_item_contexts_and_keeps_the_nested_ids() -> None:
    def handler(nesting: NestingType) -> Callable[[Any, DurableContext], Any]:
        def h(event: Any, ctx: DurableContext) -> Any:
            return ctx.map(
                ["fa", "fb"],
                lambda c, item, i, items: c.step(lambda _: item, name="s"),
                name="flat",
                config=MapConfig(max_concurrency=1, nesting_type=nesting),
            ).get_results()

        return h

    flat, nested = run(handler(NestingType.FLAT)), run(handler(NestingType.NESTED))
    assert flat.result == nested.result == ["fa", "fb"]
    assert flat.checkpoints == (
        '#1 START   root/1 map "flat"\n'
        '#1 START   root/1[0]/1 step "s" parent=root/1\n'
        '#1 SUCCEED root/1[0]/1 step "s" parent=root/1 payload="fa"\n'
        '#2 START   root/1/1/1 step "s" parent=root/1\n'
        '#2 SUCCEED root/1/1/1 step "s" parent=root/1 payload="fb"\n'
        '#3 SUCCEED root/1 map "flat" payload='
        '{"all":[{"index":0,"status":"SUCCEEDED","result":"fa","error":null},'
        '{"index":1,"status":"SUCCEEDED","result":"fb","error":null}],"completionReason":"ALL_COMPLETED"}\n'
    )
    step_ids = lambda r: [u.id for u in r.recorder.updates if u.type is OperationType.STEP]  # noqa: E731
    assert step_ids(flat) == step_ids(nested)


def test_switching_nesting_while_items_are_in_flight_is_non_deterministic() -> None:
    nesting = {"value": NestingType.NESTED}

    def handler(event: Any, ctx: DurableContext) -> Any:
        config = MapConfig(nesting_type=nesting["value"])
        return ctx.map([1, 2], lambda c, item, i, items: c.wait(seconds=1), name="m", config=config).all

    service = LocalService()
    service.register("fn", DurableHandler(handler, service))
    execution = service.start_execution("fn")
    service.invoke(execution.arn)  # both items started as NESTED contexts; both wait
    nesting["value"] = NestingType.FLAT
    output = DurableHandler(handler, service)(service.invocation_input(execution), None)
    assert output["Status"] == "FAILED"
    assert output["Error"]["ErrorType"] == "eventflow.errors.NonDeterministicExecutionError"


def test_parallel_named_branches_mapping_and_default_names() -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        a = ctx.parallel(
            [lambda c: "zero", ParallelBranch(lambda c: "one", name="first")], name="p",
            config=ParallelConfig(max_concurrency=1),
        )
        b = ctx.parallel({"x": lambda c: 1, "y": lambda c: 2})
        return [a.get_results(), b.get_results()]

    r = run(handler)
    assert r.result == [["zero", "one"], [1, 2]]
    names = [(u.sub_type, u.name) for u in r.recorder.updates if u.action is OperationAction.START]
    assert names == [
        ("Parallel", "p"),
        ("ParallelBranch", "parallel-branch-0"),
        ("ParallelBranch", "first"),
        ("Parallel", None),
        ("ParallelBranch", "x"),
        ("ParallelBranch", "y"),
    ]


def test_item_namer_and_item_serdes() -> None:
    class Wrapped:
        def serialize(self, value: Any, context: SerDesContext) -> str:
            return f"wrapped:{value}"

        def deserialize(self, data: str, context: SerDesContext) -> Any:
            return data.removeprefix("wrapped:")

    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.map(
            ["x", "y"],
            lambda c, item, i, items: item.upper(),
            name="serdes",
            config=MapConfig(item_serdes=Wrapped(), item_namer=lambda item, i: f"item-{item}-{i}"),
        ).get_results()

    r = run(handler)
    assert r.result == ["X", "Y"]
    items = [(u.name, u.payload) for u in r.recorder.updates if u.sub_type == "MapIteration"]
    assert items == [
        ("item-x-0", None), ("item-x-0", "wrapped:X"), ("item-y-1", None), ("item-y-1", "wrapped:Y")
    ]


def test_batch_serdes_writes_the_whole_result_and_reads_it_back_on_replay() -> None:
    class OpSerDes:
        def serialize(self, value: Any, context: SerDesContext) -> str:
            if isinstance(value, BatchResult):
                return "OPSERDE:" + ",".join(value.get_results())
            return json.dumps(value)  # items: the official SDK uses ``serdes`` for them too

        def deserialize(self, data: str, context: SerDesContext) -> Any:
            if data.startswith("OPSERDE:"):
                return BATCH_RESULT_SERDES.deserialize(
                    json.dumps({
                        "all": [
                            {"index": i, "status": "SUCCEEDED", "result": v}
                            for i, v in enumerate(data.removeprefix("OPSERDE:").split(","))
                        ],
                        "completionReason": "ALL_COMPLETED",
                    }),
                    context,
                )
            return json.loads(data)

    calls: list[str] = []

    def handler(event: Any, ctx: DurableContext) -> Any:
        result = ctx.map(
            ["x", "y"], lambda c, item, i, items: calls.append(item) or item.upper(), name="op",
            config=MapConfig(serdes=OpSerDes()),
        )
        ctx.wait(seconds=1)
        return result.get_results()

    r = run(handler)
    assert r.result == ["X", "Y"]
    assert calls == ["x", "y"]  # the second invocation read the map's payload, ran no item
    assert [u.payload for u in r.recorder.updates if u.sub_type == "Map"] == [None, "OPSERDE:X,Y"]


def test_nested_parallel_inside_a_branch() -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        def outer(c: DurableContext) -> Any:
            inner = c.parallel([lambda d: d.step(lambda _: "i1"), lambda d: d.step(lambda _: "i2")])
            return inner.get_results()

        return ctx.parallel([outer], config=ParallelConfig(max_concurrency=1)).get_results()

    r = run(handler)
    assert r.result == [["i1", "i2"]]
    parents = {u.id: u.parent_id for u in r.recorder.updates}
    outer_id = child_id(None, 1)
    inner_id = child_id(branch_id(outer_id, 0), 1)
    assert parents[inner_id] == branch_id(outer_id, 0)
    assert parents[branch_id(inner_id, 1)] == inner_id


# -- empty input -------------------------------------------------------------------------------------------


def test_empty_map_and_parallel_return_at_once_in_both_front_ends() -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        m = ctx.map([], lambda c, item, i, items: item, name="empty")
        p = ctx.parallel([])
        return [m.get_results(), m.completion_reason, m.total_count, p.total_count]

    async def ahandler(event: Any, ctx: AsyncDurableContext) -> Any:
        m = await ctx.map([], lambda c, item, i, items: item, name="empty")
        p = await ctx.parallel([])
        return [m.get_results(), m.completion_reason, m.total_count, p.total_count]

    sync, aio = run(handler), run(ahandler)
    assert sync.result == aio.result == [[], "ALL_COMPLETED", 0, 0]
    assert sync.execution.invocations == 1
    assert sync.checkpoints == aio.checkpoints == (
        '#1 START   root/1 map "empty"\n'
        '#1 SUCCEED root/1 map "empty" payload={"all":[],"completionReason":"ALL_COMPLETED"}\n'
        '#2 START   root/2 parallel\n'
        '#2 SUCCEED root/2 parallel payload={"all":[],"completionReason":"ALL_COMPLETED"}\n'
    )


# -- completion rules --------------------------------------------------------------------------------------


def fails_on(bad: set[int]) -> Callable[..., Any]:
    def item(c: DurableContext, x: int, i: int, items: Any) -> int:
        if i in bad:
            raise ValueError(f"item {i} is bad")
        return x * 10

    return item


F, S = "FAILED", "SUCCEEDED"
TOLERANCE, MIN_REACHED, ALL = "FAILURE_TOLERANCE_EXCEEDED", "MIN_SUCCESSFUL_REACHED", "ALL_COMPLETED"


@pytest.mark.parametrize(
    ("count", "bad", "completion", "expected"),
    [
        # default map config: no criterion, fail fast; items after the failure never start
        (3, {1}, None, (TOLERANCE, [S, F])),
        (4, set(), CompletionConfig(min_successful=2), (MIN_REACHED, [S, S])),
        (3, {1}, CompletionConfig(tolerated_failure_count=1), (ALL, [S, F, S])),
        (3, {0, 1}, CompletionConfig(tolerated_failure_count=1), (TOLERANCE, [F, F])),
        # 1 of 4 = 25 % does not exceed 25 %; 2 of 4 does
        (4, {0}, CompletionConfig(tolerated_failure_percentage=25), (ALL, [F, S, S, S])),
        (4, {0, 1}, CompletionConfig(tolerated_failure_percentage=25), (TOLERANCE, [F, F])),
        # min_successful alone tolerates failures; never reached, every item runs
        (3, {1}, CompletionConfig(min_successful=3), (ALL, [S, F, S])),
        (4, {0, 1}, CompletionConfig(min_successful=3, tolerated_failure_count=1), (TOLERANCE, [F, F])),
        (4, {0, 1}, CompletionConfig.first_successful(), (MIN_REACHED, [F, F, S])),
        # the last item both reaches min_successful and completes the batch: ALL_COMPLETED wins, as upstream
        (3, {0, 1}, CompletionConfig.first_successful(), (ALL, [F, F, S])),
        (3, {0, 1, 2}, CompletionConfig.all_completed(), (ALL, [F, F, F])),
        (3, {1}, CompletionConfig.all_successful(), (TOLERANCE, [S, F])),
    ],
)
def test_completion_rules(
    count: int, bad: set[int], completion: CompletionConfig | None, expected: tuple[str, list[str]]
) -> None:
    config = MapConfig(max_concurrency=1) if completion is None else MapConfig(
        max_concurrency=1, completion_config=completion
    )

    def handler(event: Any, ctx: DurableContext) -> Any:
        return projection(ctx.map(list(range(count)), fails_on(bad), name="m", config=config))

    r = run(handler)
    assert (r.result["reason"], r.result["statuses"]) == expected
    assert r.result["status"] == ("FAILED" if bad & set(range(len(expected[1]))) else "SUCCEEDED")
    assert set(r.result["errors"]) <= {"ValueError"}
    started = [u.name for u in r.recorder.updates if u.sub_type == "MapIteration" and u.action == "START"]
    assert started == [f"map-item-{i}" for i in range(len(expected[1]))]  # never-started items write nothing


def test_parallel_defaults_to_all_successful_and_throw_if_error_raises_the_item_error() -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        def boom(c: DurableContext) -> Any:
            raise KeyError("nope")

        result = ctx.parallel([boom, lambda c: "never"], name="p", config=ParallelConfig(max_concurrency=1))
        assert projection(result)["statuses"] == ["FAILED"]
        assert result.completion_reason is CompletionReason.FAILURE_TOLERANCE_EXCEEDED
        result.throw_if_error()

    r = run(handler)
    assert r.execution.status is ExecutionStatus.FAILED
    assert r.execution.error is not None and r.execution.error.error_type == "KeyError"
    fail = [u for u in r.recorder.updates if u.action is OperationAction.FAIL]
    assert [(u.sub_type, u.error and u.error.error_type) for u in fail] == [("ParallelBranch", "KeyError")]
    payload = next(u.payload for u in r.recorder.updates if u.sub_type == "Parallel" and u.payload)
    with pytest.raises(ChildContextError) as info:
        BatchResult.from_dict(json.loads(payload or "")).throw_if_error()
    assert info.value.error_type == "KeyError" and info.value.message == "'nope'"


def test_a_failing_item_namer_fails_the_map_operation_on_every_replay() -> None:
    def namer(item: int, index: int) -> str:
        if index == 1:
            raise LookupError("no name for item 1")
        return f"n{index}"

    calls: list[int] = []

    def handler(event: Any, ctx: DurableContext) -> Any:
        try:
            config = MapConfig(item_namer=namer)
            ctx.map([0, 1], lambda c, x, i, items: calls.append(i), name="m", config=config)
        except ChildContextError as exc:
            return [exc.error_type, exc.message]
        return "not raised"

    r = run(handler)
    assert r.result == ["LookupError", "no name for item 1"]
    assert [(u.action.value, u.sub_type) for u in r.recorder.updates] == [
        ("START", "Map"), ("START", "MapIteration"), ("SUCCEED", "MapIteration"), ("FAIL", "Map"),
    ]
    output, recorder = r.replay()
    assert json.loads(output["Result"]) == r.result and recorder.batches == [] and calls == [0]


def test_invalid_arguments_raise_before_anything_is_written() -> None:
    with pytest.raises(InvalidInputError):
        MapConfig(max_concurrency=0)
    with pytest.raises(InvalidInputError):
        ParallelConfig(max_concurrency=0)
    with pytest.raises(InvalidInputError):
        CompletionConfig(tolerated_failure_percentage=101)

    def handler(event: Any, ctx: DurableContext) -> Any:
        config = MapConfig(completion_config=CompletionConfig(min_successful=2))
        ctx.map([1], lambda c, item, i, items: item, config=config)

    r = run(handler)
    assert r.execution.status is ExecutionStatus.FAILED
    assert r.execution.error is not None and "min_successful" in (r.execution.error.error_message or "")
    assert r.recorder.batches == []


# -- suspension and max_concurrency ------------------------------------------------------------------------


def test_max_concurrency_holds_while_items_are_suspended_across_invocations() -> None:
    waits = [5, 1, 1, 1, 1, 1]
    calls: list[int] = []

    def item(c: DurableContext, seconds: int, i: int, items: Any) -> int:
        c.wait(seconds=seconds)
        return c.step(lambda _: calls.append(i) or i, name="after")

    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.map(waits, item, name="m", config=MapConfig(max_concurrency=2)).get_results()

    r = run(handler)
    assert r.result == [0, 1, 2, 3, 4, 5]
    assert open_items_max(r.recorder.updates) == 2
    starts = [u.name for u in r.recorder.updates if u.sub_type == "MapIteration" and u.action == "START"]
    assert starts == [f"map-item-{i}" for i in range(6)]
    # item 0 waits 5 s, so items 1..5 (1 s each) pass through the second slot one per invocation
    assert calls == [1, 2, 3, 4, 0, 5]
    assert r.execution.invocations == 6
    # Every invocation but the last suspended with both slots taken by started, unfinished items.


def test_sync_does_not_hold_a_slot_per_waiting_item_beyond_the_limit() -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.map(
            list(range(7)), lambda c, x, i, items: c.wait(seconds=1) or x, config=MapConfig(max_concurrency=3)
        ).get_results()

    r = run(handler)
    assert r.result == list(range(7))
    assert open_items_max(r.recorder.updates) == 3
    assert r.execution.invocations == 4  # 3 + 3 + 1 items, one wait round each, then the finish


def test_unbounded_items_all_start_then_the_batch_suspends_once() -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        branches = [lambda c, s=s: c.wait(seconds=s) or s for s in (3, 1, 2)]
        return ctx.parallel(branches, name="p").get_results()

    r = run(handler)
    assert r.result == [3, 1, 2]
    assert open_items_max(r.recorder.updates, "ParallelBranch") == 3
    assert r.execution.invocations == 4  # one suspension per distinct wake-up time, then done


def test_min_successful_completes_while_another_item_is_still_suspended() -> None:
    def handler(event: Any, ctx: DurableContext) -> Any:
        result = ctx.parallel(
            [lambda c: c.wait(seconds=100), lambda c: "fast"],
            config=ParallelConfig(completion_config=CompletionConfig.first_successful()),
        )
        return projection(result)

    r = run(handler)
    assert r.result["reason"] == "MIN_SUCCESSFUL_REACHED"
    assert r.result["statuses"] == ["STARTED", "SUCCEEDED"]
    assert r.execution.invocations == 1


def test_items_started_earlier_are_reported_when_a_replay_decides_before_reaching_them() -> None:
    """Admission is lazy: a decision can come before a resumed invocation re-admits every item that an
    earlier one started. Those are reported as their checkpoints have them, running no code."""
    calls: list[str] = []

    def handler(event: Any, ctx: DurableContext) -> Any:
        def slow_failure(c: DurableContext) -> str:
            c.wait(seconds=5)
            raise ValueError("late failure")

        def quick(c: DurableContext) -> str:
            calls.append("quick")
            return "ok"

        def parked(c: DurableContext) -> str:
            c.wait(seconds=50)
            return "parked"

        result = ctx.parallel([slow_failure, quick, parked], name="p")  # fail fast by default
        return projection(result)

    r = run(handler)
    assert r.result["reason"] == "FAILURE_TOLERANCE_EXCEEDED"
    # quick succeeded in the first invocation; the second decided at branch 0 and read branches 1-2
    assert r.result["statuses"] == ["FAILED", "SUCCEEDED", "STARTED"]
    assert r.result["results"] == ["ok"] and calls == ["quick"]
    assert r.execution.invocations == 2


def test_replay_of_a_finished_batch_runs_no_item_code() -> None:
    calls: list[int] = []

    def handler(event: Any, ctx: DurableContext) -> Any:
        def item(c: DurableContext, x: int, i: int, items: Any) -> int:
            calls.append(i)
            return c.step(lambda _: x + 1, name="inc")

        result = ctx.map([1, 2, 3], item, name="m", config=MapConfig(max_concurrency=2))
        ctx.wait(seconds=1)
        return result.get_results()

    r = run(handler)
    assert r.result == [2, 3, 4]
    # Each item ran once (two at a time, so in either order), and the replay ran none.
    assert sorted(calls) == [0, 1, 2] and r.execution.invocations == 2
    output, recorder = r.replay()
    assert output == {"Status": "SUCCEEDED", "Result": "[2, 3, 4]"}
    assert len(calls) == 3 and recorder.batches == []


def test_replay_resumes_only_the_unfinished_items() -> None:
    runs: list[str] = []

    def handler(event: Any, ctx: DurableContext) -> Any:
        def first(c: DurableContext) -> str:
            runs.append("b0")
            return c.step(lambda _: runs.append("b0-step") or "b0", name="s")

        def second(c: DurableContext) -> str:
            runs.append("b1")
            c.wait(seconds=2)
            return "b1"

        return ctx.parallel([first, second], config=ParallelConfig(max_concurrency=1)).get_results()

    r = run(handler)
    assert r.result == ["b0", "b1"]
    # branch 0's function is not re-entered: its CONTEXT is SUCCEEDED; branch 1 re-runs over its wait
    assert runs == ["b0", "b0-step", "b1", "b1"]


# -- large results -----------------------------------------------------------------------------------------


def test_a_result_over_256_kib_is_summarised_and_rebuilt_from_the_items() -> None:
    calls: list[int] = []

    def handler(event: Any, ctx: DurableContext) -> Any:
        result = ctx.map(
            list(range(4)),
            lambda c, x, i, items: c.step(lambda _: calls.append(i) or str(i) * 70_000, name="big"),
            name="large",
            config=MapConfig(max_concurrency=1, summary_generator=lambda r: f"{r.success_count} big items"),
        )
        ctx.wait(seconds=1)
        return [result.success_count, result.total_count, [len(v) for v in result.get_results()]]

    r = run(handler)
    assert r.result == [4, 4, [70_000] * 4]
    assert calls == [0, 1, 2, 3]
    succeed = next(u for u in r.recorder.updates if u.sub_type == "Map" and u.action == "SUCCEED")
    assert succeed.context_options is not None and succeed.context_options.replay_children is True
    assert json.loads(succeed.payload or "") == {
        "type": "MapResult",
        "totalCount": 4,
        "completionReason": "ALL_COMPLETED",
        "startedIndexes": [],
        "startedCount": 0,
        "successCount": 4,
        "failureCount": 0,
        "status": "SUCCEEDED",
        "summary": "4 big items",
    }
    output, recorder = r.replay()
    assert output["Status"] == "SUCCEEDED" and json.loads(output["Result"]) == r.result
    assert calls == [0, 1, 2, 3] and recorder.batches == []


# -- histories the official SDK wrote ----------------------------------------------------------------------


def official_sdk_history(map_payload: str, replay_children: bool, item_payloads: list[str]) -> dict[str, Any]:
    """The invocation input of an execution whose map (root op 1, two items) the official SDK finished."""
    map_id = child_id(None, 1)
    ops: list[dict[str, Any]] = [
        {"Id": "exec", "Type": "EXECUTION", "Status": "STARTED", "ExecutionDetails": {"InputPayload": "{}"}},
        {
            "Id": map_id, "Type": "CONTEXT", "SubType": "Map", "Name": "m", "Status": "SUCCEEDED",
            "ContextDetails": {"Result": map_payload, "ReplayChildren": replay_children},
        },
    ]
    for i, payload in enumerate(item_payloads):
        ops.append({
            "Id": branch_id(map_id, i), "ParentId": map_id, "Type": "CONTEXT", "SubType": "MapIteration",
            "Name": f"map-item-{i}", "Status": "SUCCEEDED", "ContextDetails": {"Result": payload},
        })
    state = {"Operations": ops}
    return {"DurableExecutionArn": "arn:x", "CheckpointToken": "t", "InitialExecutionState": state}


def sdk_reader(calls: list[int]) -> Callable[[Any, DurableContext], Any]:
    def handler(event: Any, ctx: DurableContext) -> Any:
        result = ctx.map(["a", "b"], lambda c, x, i, items: calls.append(i) or x, name="m")
        return [result.get_results(), result.completion_reason.value, [it.status.value for it in result.all]]

    return handler


def test_reads_the_official_sdk_typed_envelope_of_a_batch_result() -> None:
    envelope = json.dumps({"t": "br", "v": {
        "all": {"t": "l", "v": [
            {"t": "m", "v": {
                "index": {"t": "i", "v": i},
                "status": {"t": "s", "v": "SUCCEEDED"},
                "result": {"t": "m", "v": {"k": {"t": "s", "v": x}}},
                "error": {"t": "n", "v": None},
            }}
            for i, x in enumerate("AB")
        ]},
        "completionReason": {"t": "s", "v": "ALL_COMPLETED"},
    }}, separators=(",", ":"))
    calls: list[int] = []
    output = DurableHandler(sdk_reader(calls), RecordingBackend(LocalService()))(
        official_sdk_history(envelope, False, ['"A"', '"B"']), None
    )
    assert json.loads(output["Result"]) == [[{"k": "A"}, {"k": "B"}], "ALL_COMPLETED", ["SUCCEEDED"] * 2]
    assert calls == []


def test_rebuilds_from_the_official_sdk_completion_record() -> None:
    record = json.dumps({
        "type": "MapResult", "totalCount": 2, "completionReason": "MIN_SUCCESSFUL_REACHED",
        "startedIndexes": [1], "startedCount": 1, "successCount": 1, "failureCount": 0, "status": "SUCCEEDED",
    })
    calls: list[int] = []
    output = DurableHandler(sdk_reader(calls), RecordingBackend(LocalService()))(
        official_sdk_history(record, True, ['"A"']), None
    )
    assert json.loads(output["Result"]) == [["A"], "MIN_SUCCESSFUL_REACHED", ["SUCCEEDED", "STARTED"]]
    assert calls == []


def test_a_handler_wide_envelope_serdes_writes_the_batch_as_the_official_sdk_does() -> None:
    from datetime import date

    calls: list[int] = []

    def handler(event: Any, ctx: DurableContext) -> Any:
        result = ctx.map(
            [1, 2], lambda c, x, i, items: calls.append(i) or {"day": date(2026, 1, x)}, name="m"
        )
        ctx.wait(seconds=1)
        days = [r["day"] for r in result.get_results()]
        assert all(isinstance(d, date) for d in days)  # typed values survive, fresh and replayed
        return [d.isoformat() for d in days]

    service = LocalService()
    recorder = RecordingBackend(service)
    service.register("fn", DurableHandler(handler, recorder, serdes=EnvelopeSerDes()))
    execution = service.start_execution("fn")
    service.run(execution.arn)
    assert json.loads(execution.result or "") == ["2026-01-01", "2026-01-02"]
    assert calls == [0, 1]  # the second invocation read the enveloped result
    payload = next(u.payload for u in recorder.updates if u.sub_type == "Map" and u.payload)
    assert (payload or "").startswith('{"t":"br","v":{"all":{"t":"l","v":[{"t":"m","v":{"index":')


# -- one core, two front-ends ------------------------------------------------------------------------------


ALL_COMPLETED = CompletionConfig.all_completed()
ONE_RETRY = retry.exponential(max_attempts=2, initial_delay=3, jitter=retry.Jitter.NONE)


def both(
    items: list[Any], config: MapConfig[Any], body: Callable[[Any, Any, int], Any]
) -> tuple[Callable[[Any, DurableContext], Any], Callable[[Any, AsyncDurableContext], Any]]:
    """The same map as a sync and an async handler; ``body(ctx, item, index)`` returns the step's value."""

    def sync(event: Any, ctx: DurableContext) -> Any:
        def item(c: DurableContext, x: Any, i: int, _: Any) -> Any:
            if x == "wait":
                c.wait(seconds=1 + i)
            return c.step(lambda _: body(c, x, i), name="work", retry=ONE_RETRY)

        return projection(ctx.map(items, item, name="m", config=config))

    async def aio(event: Any, ctx: AsyncDurableContext) -> Any:
        async def item(c: AsyncDurableContext, x: Any, i: int, _: Any) -> Any:
            if x == "wait":
                await c.wait(seconds=1 + i)
            return await c.step(lambda _: body(c, x, i), name="work", retry=ONE_RETRY)

        return projection(await ctx.map(items, item, name="m", config=config))

    return sync, aio


def _value(c: Any, x: Any, i: int) -> Any:
    if x == "bad":
        raise RuntimeError(f"bad {i}")
    return f"{x}-{i}"


@pytest.mark.parametrize(
    ("items", "config"),
    [
        (["a", "wait", "b", "wait", "c"], MapConfig(max_concurrency=2)),
        (["wait", "wait", "a", "b"], MapConfig()),
        (["a", "bad", "b", "bad"], MapConfig(completion_config=CompletionConfig(tolerated_failure_count=1))),
        # Three at once: which of two concurrent successes comes first is timing, so "b" never starts.
        (
            ["bad", "wait", "a", "b"],
            MapConfig(max_concurrency=3, completion_config=CompletionConfig.first_successful()),
        ),
        (["wait", "a", "wait"], MapConfig(max_concurrency=1, nesting_type=NestingType.FLAT)),
        (["a", "bad", "wait"], MapConfig(nesting_type=NestingType.FLAT, completion_config=ALL_COMPLETED)),
    ],
)
def test_sync_and_async_write_identical_operations(items: list[Any], config: MapConfig[Any]) -> None:
    """The same operations, results and per-operation update sequences; which call carried an update
    is timing once items run side by side (threads in the sync API, tasks in the async one)."""
    sync, aio = both(items, config, _value)
    s, a = run(sync), run(aio)
    assert s.execution.status is a.execution.status is ExecutionStatus.SUCCEEDED
    assert s.result == a.result
    assert s.operations == a.operations
    assert s.execution.invocations == a.execution.invocations


def test_async_branches_run_concurrently_and_early_completion_cancels_the_rest() -> None:
    cancelled: list[str] = []

    async def handler(event: Any, ctx: AsyncDurableContext) -> Any:
        gate = asyncio.Event()

        async def slow(c: AsyncDurableContext) -> str:
            try:
                await gate.wait()  # never set: only cancellation ends it
            except asyncio.CancelledError:
                cancelled.append("slow")
                raise
            return "slow"

        async def fast(c: AsyncDurableContext) -> str:
            await asyncio.sleep(0)
            return await c.step(lambda _: "fast", name="f")

        result = await ctx.parallel(
            [slow, fast], config=ParallelConfig(completion_config=CompletionConfig.first_successful())
        )
        return projection(result)

    r = run(handler)
    assert r.result["statuses"] == ["STARTED", "SUCCEEDED"] and r.result["results"] == ["fast"]
    assert cancelled == ["slow"]


class SlowAcknowledgement:
    """An async backend whose first checkpoint is taken by the service at once but answered only when
    ``gate`` is set: a task cancelled in between would lose the token that call consumed."""

    def __init__(self, inner: LocalService) -> None:
        self.inner = inner
        self.gate = asyncio.Event()
        self.calls = 0

    def checkpoint(self, arn: str, token: str, updates: Any) -> Any:
        raise AssertionError("the async driver awaits acheckpoint")

    def get_state(self, arn: str, token: str, marker: str) -> Any:
        return self.inner.get_state(arn, token, marker)

    async def acheckpoint(self, arn: str, token: str, updates: Any) -> Any:
        result = self.inner.checkpoint(arn, token, updates)
        self.calls += 1
        if self.calls == 1:
            await self.gate.wait()
            for _ in range(5):  # still answering when the driver acts on the decision
                await asyncio.sleep(0)
        return result

    async def aget_state(self, arn: str, token: str, marker: str) -> Any:
        return self.inner.get_state(arn, token, marker)


@pytest.mark.parametrize(
    ("step_config", "in_flight_step_status"),
    [
        # START and SUCCEED travel in the slow call: the step is SUCCEEDED once it is answered.
        (StepConfig(), "SUCCEEDED"),
        (StepConfig(batch_start=True), "SUCCEEDED"),
        # At most once, the slow call is the step's START alone (acknowledged before its code runs).
        (StepConfig(semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY), "STARTED"),
    ],
    ids=["default", "batch_start", "at_most_once"],
)
def test_a_decided_batch_never_cancels_an_item_in_the_middle_of_a_checkpoint_call(
    step_config: StepConfig, in_flight_step_status: str
) -> None:
    service = LocalService()
    backend = SlowAcknowledgement(service)

    async def handler(event: Any, ctx: AsyncDurableContext) -> Any:
        def fast(c: AsyncDurableContext) -> str:
            backend.gate.set()  # the slow branch's checkpoint is answered only after the batch is decided
            return "fast"

        async def slow(c: AsyncDurableContext) -> str:
            return await c.step(lambda _: "slow", name="s", config=step_config)

        config = ParallelConfig(
            completion_config=CompletionConfig.first_successful(), nesting_type=NestingType.FLAT
        )
        return projection(await ctx.parallel([slow, fast], config=config))

    service.register("fn", DurableHandler(handler, backend))
    execution = service.start_execution("fn")
    service.run(execution.arn)
    assert execution.status is ExecutionStatus.SUCCEEDED, execution.error
    assert execution.invocations == 1  # no stale token, no retried invocation
    result = json.loads(execution.result or "")
    # The slow branch finished its checkpoint call (what it carried is on record) but was stopped
    # right after it.
    assert result["statuses"] == ["STARTED", "SUCCEEDED"] and result["results"] == ["fast"]
    steps = [op.status for op in service.get(execution.arn).operations.values() if op.type == "STEP"]
    assert steps == [in_flight_step_status]


def test_async_items_are_tasks_bounded_by_max_concurrency() -> None:
    alive: list[int] = []

    async def handler(event: Any, ctx: AsyncDurableContext) -> Any:
        async def item(c: AsyncDurableContext, x: int, i: int, _: Any) -> int:
            await asyncio.sleep(0)  # a real await: items overlap
            # Item tasks only: a checkpoint the driver is sending meanwhile (its `_send_due` task) is no item.
            alive.append(sum(1 for t in asyncio.all_tasks() if t.get_coro().__name__ != "_send_due"))
            return x

        result = await ctx.map(list(range(50)), item, config=MapConfig(max_concurrency=4))
        return result.get_results()

    r = run(handler)
    assert r.result == list(range(50))
    assert max(alive) <= 1 + 4  # the handler's own task plus at most four item tasks
    assert open_items_max(r.recorder.updates) <= 4


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_non_determinism_inside_an_item_fails_the_execution_not_the_item(flavour: str) -> None:
    names = {"step": "one"}

    def sync(event: Any, ctx: DurableContext) -> Any:
        def item(c: DurableContext, x: int, i: int, _: Any) -> int:
            c.step(lambda _: x, name=names["step"])
            c.wait(seconds=1)
            return x

        return ctx.map([1, 2], item, config=MapConfig(completion_config=ALL_COMPLETED)).get_results()

    async def aio(event: Any, ctx: AsyncDurableContext) -> Any:
        async def item(c: AsyncDurableContext, x: int, i: int, _: Any) -> int:
            await c.step(lambda _: x, name=names["step"])
            await c.wait(seconds=1)
            return x

        result = await ctx.map([1, 2], item, config=MapConfig(completion_config=ALL_COMPLETED))
        return result.get_results()

    handler = sync if flavour == "sync" else aio

    service = LocalService()
    service.register("fn", DurableHandler(handler, service))
    execution = service.start_execution("fn")
    service.invoke(execution.arn)
    assert execution.status is ExecutionStatus.RUNNING
    names["step"] = "two"  # the code changed between invocations
    output = DurableHandler(handler, service)(service.invocation_input(execution), None)
    assert output["Status"] == "FAILED"
    assert output["Error"]["ErrorType"] == "eventflow.errors.NonDeterministicExecutionError"
    # Not an item failure (all_completed would tolerate those): the map fails, as do the items that
    # met it (their contexts record the error, as the official SDK's child contexts do).
    fails = {op.sub_type for op in service.get(execution.arn).operations.values() if op.status == "FAILED"}
    assert fails == {"Map", "MapIteration"}


# -- scale -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_10000_item_map_runs_end_to_end_and_replays_without_item_code(flavour: str) -> None:
    n = 10_000
    calls = [0]

    def body(c: Any, x: int, i: int, items: Any) -> int:
        calls[0] += 1
        return x * 2

    def sync(event: Any, ctx: DurableContext) -> Any:
        result = ctx.map(range(n), body, name="big")
        return [result.success_count, sum(result.get_results()), result.completion_reason]

    async def aio(event: Any, ctx: AsyncDurableContext) -> Any:
        async def item(c: AsyncDurableContext, x: int, i: int, items: Any) -> int:
            return body(c, x, i, items)

        result = await ctx.map(range(n), item, name="big")
        return [result.success_count, sum(result.get_results()), result.completion_reason]

    began = time.perf_counter()
    r = run(sync if flavour == "sync" else aio)
    elapsed = time.perf_counter() - began
    assert r.result == [n, n * (n - 1), "ALL_COMPLETED"]
    assert r.execution.invocations == 1 and calls[0] == n
    # One START + SUCCEED per item context and for the map: operations are the only per-item cost.
    assert sum(len(b) for b in r.recorder.batches) == 2 + 2 * n
    succeed = r.recorder.batches[-1][-1]
    assert succeed.sub_type == "Map" and succeed.context_options is not None  # summarised: > 256 KiB
    r.service.page_size = 3 * n  # hand the whole history over in one page
    output, recorder = r.replay()
    assert json.loads(output["Result"]) == r.result
    assert calls[0] == n and recorder.batches == []  # rebuilt from the items' checkpoints
    print(f"\n{flavour} 10,000-item map: {elapsed:.2f} s, {elapsed / n * 1e6:.0f} us/item (local service)")


def test_batch_result_started_count_is_deprecated_but_still_counts() -> None:
    from eventflow.batch import BatchItem, BatchItemStatus, BatchResult, CompletionReason

    batch: BatchResult[int] = BatchResult(
        [BatchItem(0, BatchItemStatus.STARTED), BatchItem(1, BatchItemStatus.SUCCEEDED, 1)],
        CompletionReason.MIN_SUCCESSFUL_REACHED,
    )
    with pytest.warns(DeprecationWarning, match="started_count is deprecated"):
        assert batch.started_count == 1
