"""eventflow.otel: deterministic ids, the span model on the local service, log correlation, and trace
propagation into chained executions. The suites' own judgement: tests/conformance/test_otel_conformance.py."""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from eventflow import ChildConfig, DurableContext, durable_execution
from eventflow.local import LocalService
from eventflow.otel import OtelPlugin, install_log_filter, parse_trace_header
from eventflow.otel.ids import execution_trace_id, operation_span_id, workflow_span_id

ARN = "arn:aws:lambda:us-east-1:123456789012:function:f/durable-execution/x/y"


def test_ids_are_derived_from_the_arn_the_start_and_the_operation_id() -> None:
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    trace_id = f"{execution_trace_id(ARN, start):032x}"
    assert trace_id[:8] == f"{int(start.timestamp()):08x}"
    assert trace_id[8:] == hashlib.blake2b(ARN.encode()).hexdigest()[:24]
    assert f"{operation_span_id(ARN, 'op'):016x}" == hashlib.blake2b(f"{ARN}:op".encode()).hexdigest()[:16]
    assert f"{workflow_span_id(ARN):016x}" == hashlib.blake2b(f"workflow:{ARN}".encode()).hexdigest()[:16]


def test_a_trace_header_is_parsed_and_bad_parts_are_dropped() -> None:
    header = parse_trace_header("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
    assert header is not None
    assert f"{header.trace_id:032x}" == "5759e988bd862e3fe1be46a994272793"
    assert header.parent_span_id == 0x53995C3F42CD8AD8 and header.sampled is True
    assert header.format() == "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    bad = parse_trace_header("Root=nonsense;Parent=xyz")
    assert bad is None
    assert parse_trace_header("") is None


def _tracing() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def _by_name(spans: Any) -> dict[str, list[ReadableSpan]]:
    out: dict[str, list[ReadableSpan]] = {}
    for span in spans:
        out.setdefault(span.name, []).append(span)
    return out


def test_an_execution_is_one_trace_of_invocations_operations_and_attempts() -> None:
    provider, exporter = _tracing()

    @durable_execution(plugins=[OtelPlugin(provider)])
    def handler(event: Any, ctx: DurableContext) -> Any:
        ctx.step(lambda s: 1, name="first")
        ctx.wait(seconds=5, name="pause")
        return ctx.child_context(lambda c: c.step(lambda s: 2, name="inner"), name="kid")

    service = LocalService()
    service.register("f", handler)
    execution = service.run(service.start_execution("f", {}).arn)
    assert execution.status == "SUCCEEDED"
    spans = exporter.get_finished_spans()
    named = _by_name(spans)
    assert len({span.context.trace_id for span in spans}) == 1
    statuses = [s.attributes["durable.invocation.status"] for s in named["Invocation"]]
    assert statuses == ["PENDING", "SUCCEEDED"]
    (workflow,) = named["Workflow"]
    assert workflow.context.span_id == workflow_span_id(execution.arn)
    (first,) = named["first"]
    first_id = str(first.attributes["durable.operation.id"])
    assert first.context.span_id == operation_span_id(execution.arn, first_id)
    (attempt,) = named["first attempt 1"]
    assert attempt.parent is not None and attempt.parent.span_id == first.context.span_id
    # the wait: started in the first invocation, ended in the second under a fresh span linked to the first
    started, ended = named["pause"]
    wait_id = str(started.attributes["durable.operation.id"])
    assert started.context.span_id == operation_span_id(execution.arn, wait_id)
    assert ended.context.span_id != started.context.span_id
    assert started.context.span_id in {link.context.span_id for link in ended.links}
    (inner,) = named["inner"]
    (kid,) = named["kid"]
    assert inner.parent is not None and inner.parent.span_id == kid.context.span_id
    for span in spans:
        assert all(key.startswith("durable.") for key in span.attributes or {})


def test_a_virtual_context_writes_no_checkpoint_but_has_a_span() -> None:
    provider, exporter = _tracing()

    @durable_execution(plugins=[OtelPlugin(provider)])
    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.child_context(lambda c: c.step(lambda s: "v", name="in"), name="virt",
                                 config=ChildConfig(is_virtual=True))

    service = LocalService()
    service.register("f", handler)
    execution = service.run(service.start_execution("f", {}).arn)
    assert execution.status == "SUCCEEDED"
    types = [op.type for op in execution.operations.values()]
    assert "CONTEXT" not in types and types.count("STEP") == 1
    (step,) = [op for op in execution.operations.values() if op.type == "STEP"]
    assert step.parent_id is None  # a virtual context is not a parent
    (virt,) = _by_name(exporter.get_finished_spans())["virt"]
    assert virt.status.status_code.name == "OK"


def test_a_chained_invoke_carries_the_trace_into_the_child_execution() -> None:
    provider, exporter = _tracing()

    @durable_execution(plugins=[OtelPlugin(provider)])
    def target(event: Any, ctx: DurableContext) -> Any:
        return ctx.step(lambda s: "child", name="child-step")

    @durable_execution(plugins=[OtelPlugin(provider)])
    def parent(event: Any, ctx: DurableContext) -> Any:
        return ctx.invoke("target", {}, name="call")

    service = LocalService()
    service.register("target", target)
    service.register("parent", parent)
    execution = service.run(service.start_execution("parent", {}).arn)
    assert execution.status == "SUCCEEDED"
    (call,) = [op for op in execution.operations.values() if op.type == "CHAINED_INVOKE"]
    named = _by_name(exporter.get_finished_spans())
    (child_step,) = named["child-step"]
    parent_invocation = named["Invocation"][0]
    assert child_step.context.trace_id == parent_invocation.context.trace_id
    # the child's Invocation hangs under the parent's invoke operation span
    child_invocations = [
        s for s in named["Invocation"] if s.attributes["durable.execution.arn"] != execution.arn
    ]
    assert child_invocations and child_invocations[0].parent is not None
    assert child_invocations[0].parent.span_id == operation_span_id(execution.arn, call.id)


def test_log_records_carry_the_span_of_the_step_that_logs_them(caplog: pytest.LogCaptureFixture) -> None:
    provider, exporter = _tracing()
    install_log_filter("eventflow.user")

    @durable_execution(plugins=[OtelPlugin(provider)])
    def handler(event: Any, ctx: DurableContext) -> Any:
        def work(step: Any) -> int:
            step.logger.info("inside")
            return 1

        return ctx.step(work, name="logged")

    service = LocalService()
    service.register("f", handler)
    with caplog.at_level(logging.INFO, logger="eventflow.user"):
        service.run(service.start_execution("f", {}).arn)
    (record,) = [r for r in caplog.records if r.getMessage() == "inside"]
    (attempt,) = _by_name(exporter.get_finished_spans())["logged attempt 1"]
    assert record.spanId == f"{attempt.context.span_id:016x}"  # type: ignore[attr-defined]
    assert record.traceId == f"{attempt.context.trace_id:032x}"  # type: ignore[attr-defined]


def test_import_eventflow_imports_no_opentelemetry() -> None:
    probe = "import eventflow, sys; print(any(m.startswith('opentelemetry') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
