"""Spans no user code ever sees, recorded without the SDK's general span machinery.

Why: a step's operation span (as a wait's, a callback's, an invoke's) is never the current span while
user code runs; only its attempt spans are, and they stay ordinary SDK spans (user code may add to them).
The SDK's ``Tracer.start_span`` validates every attribute into a bounded, locked mapping, copies and
validates links, and keeps a lock per span: about half of a traced step's cost (benchmarks/tracing.py).
For those hidden spans, `DirectSpans` asks the tracer's own sampler, then hands the finished span, a
plain `ReadableSpan`, to the tracer's span processors, which is what a processor or exporter receives
from the SDK path too.

Taken only where that is the same thing (`direct_spans`): an SDK tracer that is enabled, whose
processors are the SDK's synchronous multi-processor over processors that do nothing when a span starts
or is ending (the SDK's simple and batch processors, or the base class), and whose span limits cannot
truncate or drop what eventflow sets. Anything else gets the SDK path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from time import time_ns
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, SynchronousMultiSpanProcessor, Tracer
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags

_QUIET_STARTS = {SpanProcessor.on_start, SimpleSpanProcessor.on_start, BatchSpanProcessor.on_start}
_QUIET_ENDINGS = {
    getattr(cls, "_on_ending", None) for cls in (SpanProcessor, SimpleSpanProcessor, BatchSpanProcessor)
}
_UNSET = Status(StatusCode.UNSET)
_OK = Status(StatusCode.OK)
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_NOT_SAMPLED = TraceFlags(TraceFlags.DEFAULT)
_FEWEST_ATTRIBUTES = 16  # eventflow sets at most 9 on a span
_FEWEST_LINKS = 2


class DirectSpan:
    """A span being recorded: the parts of the SDK span API the tracer calls on hidden spans."""

    __slots__ = ("_attributes", "_context", "_links", "_name", "_owner", "_parent", "_start", "_status")

    def __init__(
        self,
        owner: DirectSpans | None,
        name: str,
        context: SpanContext,
        parent: SpanContext,
        attributes: dict[str, Any],
        links: Sequence[Link],
        start: int,
    ) -> None:
        self._owner = owner  # None: not sampled, nothing is exported
        self._name = name
        self._context = context
        self._parent = parent
        self._attributes = attributes
        self._links = links
        self._start = start
        self._status = _UNSET

    def get_span_context(self) -> SpanContext:
        return self._context

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        self._attributes.update(attributes)

    def set_status(self, code: StatusCode, description: str | None = None) -> None:
        if self._status is _OK:
            return  # final, as on an SDK span
        if code == StatusCode.OK:
            self._status = _OK
        elif code == StatusCode.ERROR:
            self._status = Status(code, description)

    def end(self, end_time: int | None = None) -> None:
        owner = self._owner
        if owner is None:
            return
        self._owner = None  # a second end exports nothing, as the SDK's does not
        owner.export(self, end_time if end_time is not None else time_ns())


class DirectSpans:
    """The sampler, resource, scope and processors of one SDK tracer, for `DirectSpan`."""

    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer
        self._sampler = tracer.sampler
        self._processor = tracer.span_processor
        self._resource = tracer.resource
        self._info = tracer.instrumentation_info
        self._scope = getattr(tracer, "_instrumentation_scope", None)

    def start(
        self,
        name: str,
        parent: SpanContext,
        attributes: dict[str, Any],
        links: Sequence[Link],
        span_id: int | None,
        start: int | None,
    ) -> DirectSpan:
        parent_context = trace.set_span_in_context(NonRecordingSpan(parent), otel_context.Context())
        sampling = self._sampler.should_sample(
            parent_context, parent.trace_id, name, SpanKind.INTERNAL, attributes, links
        )
        decision = sampling.decision
        if span_id is None:
            span_id = self._tracer.id_generator.generate_span_id()
        flags = _SAMPLED if decision == Decision.RECORD_AND_SAMPLE else _NOT_SAMPLED
        context = SpanContext(
            parent.trace_id, span_id, is_remote=False, trace_flags=flags, trace_state=sampling.trace_state
        )
        recorded = dict(sampling.attributes or {})
        return DirectSpan(
            self if decision != Decision.DROP else None, name, context, parent, recorded, links,
            start if start is not None else time_ns(),
        )

    def export(self, span: DirectSpan, end: int) -> None:
        readable = ReadableSpan(
            name=span._name,
            context=span._context,
            parent=span._parent,
            resource=self._resource,
            attributes=span._attributes,
            links=tuple(span._links),
            kind=SpanKind.INTERNAL,
            instrumentation_info=self._info,
            status=span._status,
            start_time=span._start,
            end_time=end,
            instrumentation_scope=self._scope,
        )
        self._processor.on_end(readable)


def direct_spans(tracer: Any) -> DirectSpans | None:
    """`DirectSpans` for ``tracer`` where recording directly exports what the SDK path would; else None."""
    if not isinstance(tracer, Tracer):
        return None
    enabled = getattr(tracer, "_is_enabled", None)
    if not callable(enabled) or not enabled():
        return None
    processor = tracer.span_processor
    if type(processor) is not SynchronousMultiSpanProcessor:
        return None
    for each in getattr(processor, "_span_processors", (None,)):
        if each is None or type(each).on_start not in _QUIET_STARTS:
            return None
        if getattr(type(each), "_on_ending", None) not in _QUIET_ENDINGS:
            return None
    limits = getattr(tracer, "_span_limits", None)
    if limits is None or limits.max_span_attribute_length is not None:
        return None
    fewest_of = ((limits.max_span_attributes, _FEWEST_ATTRIBUTES), (limits.max_links, _FEWEST_LINKS))
    for limit, fewest in fewest_of:
        if limit is not None and limit < fewest:
            return None
    return DirectSpans(tracer)


__all__ = ["DirectSpan", "DirectSpans", "direct_spans"]
