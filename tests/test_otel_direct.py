"""eventflow.otel.direct: hidden operation spans recorded without the SDK's span machinery export what the
SDK path exports, and the direct path is refused wherever a processor or a limit could tell them apart."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from eventflow import DurableContext, StepContext, durable_execution, retry
from eventflow.local import LocalService
from eventflow.otel import OtelPlugin
from eventflow.otel.direct import direct_spans


class _WatchingStarts(SimpleSpanProcessor):
    """A processor that wants to see starts: the direct path must not be taken under it."""

    def __init__(self, exporter: InMemorySpanExporter) -> None:
        super().__init__(exporter)
        self.started = 0

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.started += 1


def _flaky(step: StepContext) -> str:
    if step.attempt == 1:
        raise RuntimeError("first attempt fails")
    return "ok"


def _annotated(step: StepContext) -> int:
    current = trace.get_current_span()
    current.set_attribute("app.plain", "x")
    current.set_attributes({"app.list": [1, 2], "app.count": 3})  # a list goes through validation
    current.add_event("checked", {"app.n": 1})
    current.record_exception(ValueError("noted"))
    return 1


def _workflow(event: Any, ctx: DurableContext) -> Any:
    ctx.step(_annotated, name="first")
    ctx.wait(seconds=5, name="pause")
    strategy = retry.exponential(max_attempts=2, initial_delay=1, backoff_rate=1, jitter=retry.Jitter.NONE)
    ctx.step(_flaky, name="flaky", retry=strategy)
    return ctx.child_context(lambda c: c.step(lambda s: 2, name="inner"), name="kid")


def _run(processor: SpanProcessor, exporter: InMemorySpanExporter) -> tuple[str, tuple[ReadableSpan, ...]]:
    provider = TracerProvider()
    provider.add_span_processor(processor)
    service = LocalService()
    service.register("f", durable_execution(plugins=[OtelPlugin(provider)])(_workflow))
    execution = service.run(service.start_execution("f", {}).arn)
    assert execution.status == "SUCCEEDED"
    return execution.arn, exporter.get_finished_spans()


def _shape(arn: str, spans: tuple[ReadableSpan, ...]) -> list[tuple[Any, ...]]:
    """Each span with ids replaced by the names of the spans they point at and the ARN by a token."""
    names = {span.context.span_id: span.name for span in spans}

    def named(span_id: int | None) -> str | None:
        return None if span_id is None else names.get(span_id, "<outside>")

    out = []
    for span in spans:
        attributes = {k: ("<arn>" if v == arn else v) for k, v in (span.attributes or {}).items()}
        out.append((
            span.name, span.kind, span.status.status_code, span.status.description,
            tuple(sorted(attributes.items())),
            named(span.parent.span_id) if span.parent is not None else None,
            tuple(sorted(str(named(link.context.span_id)) for link in span.links)),
            span.context.trace_flags, dict(span.resource.attributes), span.instrumentation_scope,
            tuple((e.name, tuple(sorted((k, v) for k, v in (e.attributes or {}).items()
                                        if k != "exception.stacktrace"))) for e in span.events),
            span.start_time is not None and span.end_time is not None and span.start_time <= span.end_time,
        ))
    return sorted(out, key=repr)


def test_direct_spans_export_what_the_sdk_path_exports() -> None:
    direct_exporter, sdk_exporter = InMemorySpanExporter(), InMemorySpanExporter()
    watching = _WatchingStarts(sdk_exporter)
    direct_arn, direct = _run(SimpleSpanProcessor(direct_exporter), direct_exporter)
    sdk_arn, through_sdk = _run(watching, sdk_exporter)
    assert watching.started == len(through_sdk)  # the SDK path really ran: every span was started there
    assert _shape(direct_arn, direct) == _shape(sdk_arn, through_sdk)
    assert any(span.name == "flaky" for span in direct)
    (annotated,) = [span for span in direct if span.name == "first attempt 1"]
    assert [event.name for event in annotated.events] == ["checked", "exception"]
    assert (annotated.attributes or {})["app.list"] == (1, 2)


def test_the_direct_path_is_refused_where_a_processor_or_a_limit_could_tell() -> None:
    def tracer(limits: SpanLimits | None = None, processor: SpanProcessor | None = None) -> Any:
        provider = TracerProvider(span_limits=limits) if limits is not None else TracerProvider()
        provider.add_span_processor(processor or SimpleSpanProcessor(InMemorySpanExporter()))
        return provider.get_tracer("t")

    assert direct_spans(tracer()) is not None
    assert direct_spans(tracer(processor=_WatchingStarts(InMemorySpanExporter()))) is None
    assert direct_spans(tracer(SpanLimits(max_span_attribute_length=20))) is None
    assert direct_spans(tracer(SpanLimits(max_span_attributes=3))) is None
    assert direct_spans(trace.NoOpTracer()) is None


def test_user_code_still_sees_a_recording_attempt_span() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    def tagged(step: StepContext) -> int:
        current = trace.get_current_span()
        assert current.is_recording()
        current.set_attribute("app.tag", "x")
        return 1

    @durable_execution(plugins=[OtelPlugin(provider)])
    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.step(tagged, name="tagged")

    service = LocalService()
    service.register("f", handler)
    assert service.run(service.start_execution("f", {}).arn).status == "SUCCEEDED"
    (attempt,) = [s for s in exporter.get_finished_spans() if s.name == "tagged attempt 1"]
    assert (attempt.attributes or {}).get("app.tag") == "x"


@pytest.mark.parametrize("sampled", ["0", "1"])
def test_a_header_that_samples_out_exports_no_operation_span(sampled: str) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    @durable_execution(plugins=[OtelPlugin(provider)])
    def handler(event: Any, ctx: DurableContext) -> Any:
        return ctx.step(lambda s: 1, name="one")

    class _Lambda:
        aws_request_id = "r"
        x_amzn_trace_id = (
            f"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled={sampled}"
        )

    service = LocalService()
    service.register("f", lambda event, context: handler(event, _Lambda()))
    assert service.run(service.start_execution("f", {}).arn).status == "SUCCEEDED"
    names = {span.name for span in exporter.get_finished_spans()}
    assert ("one" in names) == (sampled == "1")


def test_a_sampler_of_its_own_is_asked_for_every_span() -> None:
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased

    def run(direct: bool) -> tuple[str, tuple[ReadableSpan, ...]]:
        exporter = InMemorySpanExporter()
        provider = TracerProvider(sampler=ParentBased(ALWAYS_ON, local_parent_sampled=ALWAYS_OFF))
        provider.add_span_processor(SimpleSpanProcessor(exporter) if direct else _WatchingStarts(exporter))
        service = LocalService()
        service.register("f", durable_execution(plugins=[OtelPlugin(provider)])(_workflow))
        execution = service.run(service.start_execution("f", {}).arn)
        assert execution.status == "SUCCEEDED"
        return execution.arn, exporter.get_finished_spans()

    arn, direct = run(True)
    # the local service's trace header gives the Invocation and Workflow a remote parent (sampled); the
    # operations under the Invocation have a local one, which this sampler drops
    assert {span.name for span in direct} == {"Invocation", "Workflow"}
    assert _shape(arn, direct) == _shape(*run(False))
