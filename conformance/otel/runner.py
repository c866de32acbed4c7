"""Run one OpenTelemetry requirement: the core suite's validator on its history, then the OpenTelemetry
suite's own `validators.validate_trace` on the spans eventflow exported.

Per requirement: a fresh in-memory span exporter and `TracerProvider` (``service.name`` the suite's
default), the scenario's handler wrapped with `OtelPlugin` on it, deployed in a fresh `World` (virtual
time, as for the core suite); ``validate_description`` checks history and result; then the requirement's
``TelemetryAssertions``, with the placeholders the history matcher bound (``EXECUTION_ARN`` and
``SERVICE_NAME`` added, as the suite's extension does), judge the exported spans, converted to the
suite's canonical `model.Trace`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from conformance import suite as core
from conformance.aws import Function
from conformance.otel.expectations import NOT_IMPLEMENTED
from conformance.otel.handlers import SCENARIOS
from conformance.otel.suites import otel_module, requirement_files
from conformance.runner import Outcome, validate_in_world
from eventflow import durable_execution

SERVICE_NAME = "durable-execution-conformance"


def _scenario(data: Mapping[str, Any]) -> str | None:
    raw = data.get("Input")
    return str(raw.get("scenario")) if isinstance(raw, Mapping) and raw.get("scenario") else None


def _trace(spans: Any, model: Any, arn: str) -> Any:
    converted = []
    for span in spans:
        parent = span.parent
        converted.append(
            model.Span(
                trace_id=f"{span.context.trace_id:032x}",
                span_id=f"{span.context.span_id:016x}",
                name=span.name,
                start_time=datetime.fromtimestamp(span.start_time / 1e9, UTC),
                end_time=datetime.fromtimestamp(span.end_time / 1e9, UTC),
                kind=span.kind.name,
                parent_span_id=f"{parent.span_id:016x}" if parent is not None else None,
                status=span.status.status_code.name,
                attributes=dict(span.attributes or {}),
                links=tuple(
                    model.SpanLink(f"{link.context.trace_id:032x}", f"{link.context.span_id:016x}")
                    for link in span.links
                ),
                service_name=span.resource.attributes.get("service.name"),
            )
        )
    primary = next(
        (s.trace_id for s in converted if s.attributes.get("durable.execution.arn") == arn),
        converted[0].trace_id if converted else "0" * 32,
    )
    return model.Trace(trace_id=primary, spans=tuple(converted))


def run_requirement(requirement_id: str, *, output_dir: Path | None = None) -> Outcome:
    """Run and judge one requirement of either suite. Never raises."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from eventflow.otel import OtelPlugin

    started = time.monotonic()
    suite = core.load()
    path = requirement_files()[requirement_id]
    data = suite.history.load_yaml_file(str(path))
    scenario = _scenario(data)
    handler = SCENARIOS.get(scenario) if scenario is not None else None
    outcome = Outcome(
        requirement_id, path.parent.name, data.get("description"), scenario, passed=False,
        covered=handler is not None,
    )
    outcome.reason_table = NOT_IMPLEMENTED
    if handler is None:
        outcome.errors.append(f"no handler for scenario {scenario!r}")
        return outcome
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    wrapped = durable_execution(plugins=[OtelPlugin(provider)])(handler)
    function = Function(f"otel-{scenario}", handler=wrapped)
    result, errors = validate_in_world(suite, function, requirement_id, path, output_dir)
    outcome.errors.extend(errors)
    if result is None or not result.passed:
        outcome.duration_seconds = time.monotonic() - started
        return outcome
    model, validators = otel_module("model"), otel_module("validators")
    placeholders = suite_placeholders(result)
    assertions = placeholders.substitute(data.get("TelemetryAssertions", {}))
    query = model.TelemetryQuery(
        execution_arn=result.execution_arn,
        service_name=SERVICE_NAME,
        started_at=_moment(result.invocation_started_at_ms) - timedelta(seconds=30),
        ended_at=_moment(result.invocation_finished_at_ms) + timedelta(seconds=30),
        execution_arns=(result.execution_arn,),
    )
    trace = _trace(exporter.get_finished_spans(), model, result.execution_arn)
    trace_errors = validators.validate_trace(trace, assertions, query)
    outcome.errors.extend(f"OpenTelemetry: {error}" for error in trace_errors)
    outcome.passed = not trace_errors
    outcome.duration_seconds = time.monotonic() - started
    return outcome


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def suite_placeholders(result: Any) -> Any:
    variables = __import__(f"{core.PACKAGE}.variables", fromlist=["PlaceholderContext"])
    context = variables.PlaceholderContext()
    for name, value in {**result.placeholders, "EXECUTION_ARN": result.execution_arn}.items():
        context.bind(name, value)
    context.bind("SERVICE_NAME", SERVICE_NAME)
    return context
