"""Parallel requirements (8-x)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from conformance.registry import covers
from eventflow import DurableContext, SerDesContext, durable_execution
from eventflow.batch import BatchResult, CompletionConfig, NestingType, ParallelBranch, ParallelConfig

Branch = Callable[[DurableContext], Any]


def _returns(value: Any) -> Branch:
    def branch(_: DurableContext) -> Any:
        return value

    return branch


def _fails(message: str) -> Branch:
    def branch(_: DurableContext) -> Any:
        raise RuntimeError(message)

    return branch


def _step_returning(value: str) -> Branch:
    def branch(ctx: DurableContext) -> Any:
        return ctx.step(lambda _: value, name=f"task-{value}")

    return branch


def _projection(batch: BatchResult[Any]) -> dict[str, Any]:
    return {
        "completionReason": batch.completion_reason.value,
        "status": batch.status.value,
        "successCount": batch.success_count,
        "failureCount": batch.failure_count,
        "totalCount": batch.total_count,
    }


def _sequential(completion: CompletionConfig | None = None, **options: Any) -> ParallelConfig:
    if completion is None:
        return ParallelConfig(max_concurrency=1, **options)
    return ParallelConfig(max_concurrency=1, completion_config=completion, **options)


@covers("8-1")
@durable_execution
def parallel_basic(event: Any, ctx: DurableContext) -> Any:
    batch = ctx.parallel(
        [_step_returning("task-1"), _step_returning("task-2")], "parallel", config=_sequential()
    )
    return batch.get_results()


@covers("8-2")
@durable_execution
def parallel_unnamed(event: Any, ctx: DurableContext) -> Any:
    return ctx.parallel([_returns("alpha"), _returns("beta")], config=_sequential()).get_results()


@covers("8-3")
@durable_execution
def parallel_named_branches(event: Any, ctx: DurableContext) -> Any:
    branches = [ParallelBranch(_returns("one"), name="first"), ParallelBranch(_returns("two"), name="second")]
    return ctx.parallel(branches, "named", config=_sequential()).get_results()


@covers("8-4")
@durable_execution
def parallel_mixed_types(event: Any, ctx: DurableContext) -> Any:
    branches = [_returns("hello"), _returns(42), _returns({"k": "v"})]
    return ctx.parallel(branches, "hetero", config=_sequential()).get_results()


@covers("8-5")
@durable_execution
def parallel_empty(event: Any, ctx: DurableContext) -> Any:
    return ctx.parallel([], "empty").get_results()


@covers("8-6")
@durable_execution
def parallel_fail_fast(event: Any, ctx: DurableContext) -> Any:
    branches = [_returns("ok"), _fails("branch 1 failed"), _returns("never")]
    config = _sequential(CompletionConfig(tolerated_failure_count=0))
    return _projection(ctx.parallel(branches, "failfast", config=config))


@covers("8-7")
@durable_execution
def parallel_throw_if_error(event: Any, ctx: DurableContext) -> Any:
    branches = [_fails("branch 0 failed"), _returns("never")]
    batch = ctx.parallel(
        branches, "throwing", config=_sequential(CompletionConfig(tolerated_failure_count=0))
    )
    batch.throw_if_error()
    return batch.get_results()


@covers("8-8")
@durable_execution
def parallel_min_successful(event: Any, ctx: DurableContext) -> Any:
    branches = [_returns(f"b{i}") for i in range(4)]
    batch = ctx.parallel(branches, "min-successful", config=_sequential(CompletionConfig(min_successful=2)))
    return {
        "completionReason": batch.completion_reason.value,
        "successCount": batch.success_count,
        "totalCount": batch.total_count,
    }


@covers("8-9")
@durable_execution
def parallel_tolerated_count(event: Any, ctx: DurableContext) -> Any:
    branches = [_returns("b0"), _fails("branch 1 failed"), _returns("b2")]
    config = _sequential(CompletionConfig(tolerated_failure_count=1))
    return _projection(ctx.parallel(branches, "tolerated", config=config))


def _without_status(projection: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in projection.items() if k != "status"}


@covers("8-10")
@durable_execution
def parallel_tolerated_count_exceeded(event: Any, ctx: DurableContext) -> Any:
    branches = [_fails("b0"), _fails("b1"), _returns("b2")]
    config = _sequential(CompletionConfig(tolerated_failure_count=1))
    return _without_status(_projection(ctx.parallel(branches, "tolerated-exceeded", config=config)))


@covers("8-11")
@durable_execution
def parallel_concurrent(event: Any, ctx: DurableContext) -> Any:
    branches = [_returns("r0"), _returns("r1"), _returns("r2")]
    return ctx.parallel(branches, "concurrent", config=ParallelConfig(max_concurrency=2)).get_results()


@covers("8-12")
@durable_execution
def parallel_flat(event: Any, ctx: DurableContext) -> Any:
    branches = [_step_returning("fa"), _step_returning("fb")]
    return ctx.parallel(branches, "flat", config=_sequential(nesting_type=NestingType.FLAT)).get_results()


@covers("8-13")
@durable_execution
def parallel_tolerated_percentage(event: Any, ctx: DurableContext) -> Any:
    branches = [_fails("b0"), _fails("b1"), _returns("b2"), _returns("b3")]
    config = _sequential(CompletionConfig(tolerated_failure_percentage=25))
    return _without_status(_projection(ctx.parallel(branches, "tolerated-pct", config=config)))


@covers("8-14")
@durable_execution
def parallel_replay(event: Any, ctx: DurableContext) -> Any:
    def waits_then_returns(branch: DurableContext) -> str:
        branch.wait(seconds=2)
        return "b1"

    branches = [_step_returning("b0"), waits_then_returns]
    return ctx.parallel(branches, "replay", config=_sequential()).get_results()


class _Wrapped:
    """Writes each branch result as ``{"wrapped": value}`` and unwraps it again."""

    def serialize(self, value: Any, context: SerDesContext) -> str:
        return json.dumps({"wrapped": value})

    def deserialize(self, data: str, context: SerDesContext) -> Any:
        return json.loads(data)["wrapped"]


@covers("8-15")
@durable_execution
def parallel_item_serdes(event: Any, ctx: DurableContext) -> Any:
    config = _sequential(item_serdes=_Wrapped())
    return ctx.parallel([_returns("x"), _returns("y")], "serde", config=config).get_results()


@covers("8-16")
@durable_execution
def parallel_all_fail(event: Any, ctx: DurableContext) -> Any:
    branches = [_fails("b0"), _fails("b1"), _fails("b2")]
    config = _sequential(CompletionConfig(tolerated_failure_count=3))
    return _projection(ctx.parallel(branches, "all-fail", config=config))


@covers("8-17")
@durable_execution
def parallel_min_not_reached(event: Any, ctx: DurableContext) -> Any:
    branches = [_returns("b0"), _fails("b1"), _returns("b2")]
    config = _sequential(CompletionConfig(min_successful=3))
    return _projection(ctx.parallel(branches, "min-not-reached", config=config))


@covers("8-18")
@durable_execution
def parallel_combined_completion(event: Any, ctx: DurableContext) -> Any:
    branches = [_fails("b0"), _fails("b1"), _returns("b2"), _returns("b3")]
    config = _sequential(CompletionConfig(min_successful=3, tolerated_failure_count=1))
    return _without_status(_projection(ctx.parallel(branches, "combined", config=config)))


@covers("8-19")
@durable_execution
def parallel_invalid_concurrency(event: Any, ctx: DurableContext) -> Any:
    config = ParallelConfig(max_concurrency=0)  # rejected: max-concurrency must be positive
    return ctx.parallel([_returns("a"), _returns("b")], "bad-concurrency", config=config).get_results()


@covers("8-20")
@durable_execution
def parallel_accessors(event: Any, ctx: DurableContext) -> Any:
    branches = [_returns("b0"), _fails("b1"), _returns("b2")]
    batch = ctx.parallel(
        branches, "accessors", config=_sequential(CompletionConfig(tolerated_failure_count=1))
    )
    return {
        "hasFailure": batch.has_failure,
        "successCount": len(batch.succeeded()),
        "failureCount": len(batch.failed()),
        "errorCount": len(batch.get_errors()),
    }


@covers("8-21")
@durable_execution
def parallel_nested(event: Any, ctx: DurableContext) -> Any:
    def branch_a(branch: DurableContext) -> Any:
        inner = branch.parallel([_step_returning("i1"), _step_returning("i2")], "inner", config=_sequential())
        return inner.get_results()

    return ctx.parallel([branch_a], "outer", config=_sequential()).get_results()


@covers("8-22")
@durable_execution
def parallel_percentage_boundary(event: Any, ctx: DurableContext) -> Any:
    branches = [_fails("b0"), _returns("b1"), _returns("b2"), _returns("b3")]
    config = _sequential(CompletionConfig(tolerated_failure_percentage=25))
    return _projection(ctx.parallel(branches, "pct-boundary", config=config))
