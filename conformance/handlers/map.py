"""Map requirements (9-x)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conformance.registry import covers
from eventflow import DurableContext, JsonSerDes, SerDesContext, durable_execution
from eventflow.batch import (
    BatchItem,
    BatchItemStatus,
    BatchResult,
    CompletionConfig,
    CompletionReason,
    MapConfig,
    NestingType,
)


def _sequential(completion: CompletionConfig | None = None, **options: Any) -> MapConfig[Any]:
    if completion is None:
        return MapConfig(max_concurrency=1, **options)
    return MapConfig(max_concurrency=1, completion_config=completion, **options)


def _projection(batch: BatchResult[Any], *, status: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"completionReason": batch.completion_reason.value}
    if status:
        out["status"] = batch.status.value
    out.update(
        successCount=batch.success_count, failureCount=batch.failure_count, totalCount=batch.total_count
    )
    return out


def _ok_or_fail(ctx: DurableContext, item: Any, index: int, items: Sequence[Any]) -> Any:
    """Items named "fail" raise; the others succeed with their own value."""
    if item == "fail":
        raise RuntimeError(f"item {index} failed")
    return item


@covers("9-1")
@durable_execution
def map_basic(event: Any, ctx: DurableContext) -> Any:
    def greet(item_ctx: DurableContext, item: str, index: int, items: Sequence[str]) -> str:
        return item_ctx.step(lambda _: f"Hello, {item}!", name="greet")

    return ctx.map(event, greet, "map", config=_sequential()).get_results()


@covers("9-2")
@durable_execution
def map_unnamed(event: Any, ctx: DurableContext) -> Any:
    return ctx.map(event, lambda _ctx, item, _i, _items: item * 2, config=_sequential()).get_results()


@covers("9-3")
@durable_execution
def map_item_and_index(event: Any, ctx: DurableContext) -> Any:
    return ctx.map(
        event, lambda _ctx, item, i, _items: item + i, "indexed", config=_sequential()
    ).get_results()


@covers("9-4")
@durable_execution
def map_empty(event: Any, ctx: DurableContext) -> Any:
    return ctx.map(event, lambda _ctx, item, _i, _items: item, "empty").get_results()


@covers("9-5")
@durable_execution
def map_fail_fast(event: Any, ctx: DurableContext) -> Any:
    config = _sequential(CompletionConfig(tolerated_failure_count=0))
    return _projection(ctx.map(["ok", "fail", "never"], _ok_or_fail, "failfast", config=config))


@covers("9-6")
@durable_execution
def map_throw_if_error(event: Any, ctx: DurableContext) -> Any:
    config = _sequential(CompletionConfig(tolerated_failure_count=0))
    batch = ctx.map(["fail", "never"], _ok_or_fail, "throwing", config=config)
    batch.throw_if_error()
    return batch.get_results()


@covers("9-7")
@durable_execution
def map_min_successful(event: Any, ctx: DurableContext) -> Any:
    config = _sequential(CompletionConfig(min_successful=2))
    batch = ctx.map(["a", "b", "c", "d"], _ok_or_fail, "min-successful", config=config)
    return {
        "completionReason": batch.completion_reason.value,
        "successCount": batch.success_count,
        "totalCount": batch.total_count,
    }


@covers("9-8")
@durable_execution
def map_tolerated_count(event: Any, ctx: DurableContext) -> Any:
    config = _sequential(CompletionConfig(tolerated_failure_count=1))
    return _projection(ctx.map(["a", "fail", "c"], _ok_or_fail, "tolerated", config=config))


@covers("9-9")
@durable_execution
def map_tolerated_count_exceeded(event: Any, ctx: DurableContext) -> Any:
    config = _sequential(CompletionConfig(tolerated_failure_count=1))
    batch = ctx.map(["fail", "fail", "c"], _ok_or_fail, "tolerated-exceeded", config=config)
    return _projection(batch, status=False)


@covers("9-10")
@durable_execution
def map_tolerated_percentage(event: Any, ctx: DurableContext) -> Any:
    config = _sequential(CompletionConfig(tolerated_failure_percentage=25))
    batch = ctx.map(["fail", "fail", "c", "d"], _ok_or_fail, "tolerated-pct", config=config)
    return _projection(batch, status=False)


@covers("9-11")
@durable_execution
def map_concurrent(event: Any, ctx: DurableContext) -> Any:
    items = ["r0", "r1", "r2"]
    return ctx.map(items, _ok_or_fail, "concurrent", config=MapConfig(max_concurrency=2)).get_results()


@covers("9-12")
@durable_execution
def map_flat(event: Any, ctx: DurableContext) -> Any:
    def echo(item_ctx: DurableContext, item: str, index: int, items: Sequence[str]) -> str:
        return item_ctx.step(lambda _: item, name="echo")

    config = _sequential(nesting_type=NestingType.FLAT)
    return ctx.map(["fa", "fb"], echo, "flat", config=config).get_results()


@covers("9-13")
@durable_execution
def map_item_namer(event: Any, ctx: DurableContext) -> Any:
    config = _sequential(item_namer=lambda item, index: f"item-{item}")
    return ctx.map(
        event, lambda _ctx, item, _i, _items: item * 10, "named-items", config=config
    ).get_results()


class _WrappedText:
    """Writes each item result as ``wrapped:<value>`` and reads it back."""

    def serialize(self, value: Any, context: SerDesContext) -> str:
        return f"wrapped:{value}"

    def deserialize(self, data: str, context: SerDesContext) -> Any:
        return data.removeprefix("wrapped:")


@covers("9-14")
@durable_execution
def map_item_serdes(event: Any, ctx: DurableContext) -> Any:
    config = _sequential(item_serdes=_WrappedText())
    return ctx.map(["x", "y"], lambda _c, item, _i, _s: item.upper(), "serdes", config=config).get_results()


@covers("9-15")
@durable_execution
def map_suspends_in_item(event: Any, ctx: DurableContext) -> Any:
    def run(item_ctx: DurableContext, item: str, index: int, items: Sequence[str]) -> str:
        if index == 1:
            item_ctx.wait(seconds=1)
        return item_ctx.step(lambda _: item, name="produce")

    return ctx.map(["r0", "r1"], run, "suspend", config=_sequential()).get_results()


@covers("9-16")
@durable_execution
def map_large_result(event: Any, ctx: DurableContext) -> Any:
    def produce(item_ctx: DurableContext, item: int, index: int, items: Sequence[int]) -> str:
        return str(item) * (70 * 1024)

    batch = ctx.map([0, 1, 2, 3], produce, "large", config=_sequential())
    return {"successCount": batch.success_count, "totalCount": batch.total_count}


@covers("9-17")
@durable_execution
def map_then_wait(event: Any, ctx: DurableContext) -> Any:
    results = ctx.map(["a", "b"], lambda _c, item, _i, _s: item.upper(), "then-wait", config=_sequential())
    ctx.wait(seconds=1)
    return results.get_results()


@covers("9-18")
@durable_execution
def map_failure_then_wait(event: Any, ctx: DurableContext) -> Any:
    config = _sequential(CompletionConfig(tolerated_failure_count=1))
    batch = ctx.map(["ok", "fail"], _ok_or_fail, "fail-then-wait", config=config)
    ctx.wait(seconds=1)
    return _projection(batch)


class _OperationSerDes:
    """Writes the whole map result as ``OPSERDE:<r0>,<r1>,...`` and rebuilds it from that."""

    def serialize(self, value: BatchResult[Any], context: SerDesContext) -> str:
        return "OPSERDE:" + ",".join(str(result) for result in value.get_results())

    def deserialize(self, data: str, context: SerDesContext) -> BatchResult[Any]:
        results = data.removeprefix("OPSERDE:").split(",") if data != "OPSERDE:" else []
        items = [BatchItem(i, BatchItemStatus.SUCCEEDED, result) for i, result in enumerate(results)]
        return BatchResult(items, CompletionReason.ALL_COMPLETED)


def _upper_map(ctx: DurableContext, name: str) -> BatchResult[Any]:
    config = _sequential(serdes=_OperationSerDes(), item_serdes=JsonSerDes())
    return ctx.map(["x", "y"], lambda _c, item, _i, _s: item.upper(), name, config=config)


@covers("9-19")
@durable_execution
def map_operation_serdes(event: Any, ctx: DurableContext) -> Any:
    return _upper_map(ctx, "op-serde").get_results()


@covers("9-20")
@durable_execution
def map_operation_serdes_replay(event: Any, ctx: DurableContext) -> Any:
    results = _upper_map(ctx, "op-serde-replay")
    ctx.wait(seconds=1)
    return results.get_results()
