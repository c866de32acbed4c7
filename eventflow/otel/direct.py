"""Spans recorded without the SDK's general span machinery, exported as the SDK would export them.

Why: the SDK's ``Tracer.start_span`` validates every attribute into a bounded, locked mapping, copies
and validates links, keeps a lock and self-metrics per span: most of a traced step's cost
(benchmarks/tracing.py), for attributes eventflow builds itself and knows to be valid. `DirectSpans`
asks the tracer's own sampler and id generator, records a `DirectSpan` (the whole span API, so user code
that finds it current can add to it), and hands the finished span, a plain `ReadableSpan`, to the
tracer's span processors: what a processor or exporter receives from the SDK path too.

Taken only where that is the same thing (`direct_spans`): an SDK tracer that is enabled, whose
processors are the SDK's synchronous multi-processor over processors that do nothing when a span starts
or is ending (the SDK's simple and batch processors, or the base class), and whose span limits cannot
truncate or drop what eventflow sets. Anything else gets the SDK path.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping, Sequence
from time import time_ns
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import (
    Event,
    ReadableSpan,
    SpanLimits,
    SpanProcessor,
    SynchronousMultiSpanProcessor,
    Tracer,
)
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Decision, ParentBased
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)

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
_PLAIN = {str, bool, int, float}


class DirectSpan(Span):
    """A recording span that `DirectSpans` exports as a `ReadableSpan` when it ends.

    The whole `opentelemetry.trace.Span` API, so user code that finds it current (an attempt, a child
    context) can add attributes, events and a status as to an SDK span; values other than plain strings,
    numbers and booleans, or more attributes than eventflow itself sets, go through the SDK's own
    validating `BoundedAttributes` under the tracer's limits. Changes after the end are ignored."""

    __slots__ = (
        "_attributes", "_context", "_events", "_links", "_name", "_owner", "_parent", "_start", "_status",
    )

    def __init__(
        self,
        owner: DirectSpans | None,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        attributes: dict[str, Any],
        links: Sequence[Link],
        start: int,
    ) -> None:
        self._owner = owner  # None: ended, or not sampled (nothing is exported)
        self._name = name
        self._context = context
        self._parent = parent
        self._attributes: dict[str, Any] | BoundedAttributes = attributes
        self._links = links
        self._start = start
        self._status = _UNSET
        self._events: list[Event] = []

    def get_span_context(self) -> SpanContext:
        return self._context

    def is_recording(self) -> bool:
        return self._owner is not None

    def set_attribute(self, key: str, value: Any) -> None:
        self.set_attributes({key: value})

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        owner = self._owner
        if owner is None:
            return
        current = self._attributes
        if (
            type(current) is dict
            and len(current) + len(attributes) <= _FEWEST_ATTRIBUTES
            and all(type(value) in _PLAIN for value in attributes.values())
        ):
            current.update(attributes)  # valid as they are: nothing to clean or drop
            return
        if type(current) is dict:
            limits = owner.limits
            current = BoundedAttributes(
                limits.max_span_attributes, current, immutable=False,
                max_value_len=limits.max_span_attribute_length,
            )
            self._attributes = current
        for key, value in attributes.items():
            current[key] = value

    def add_event(self, name: str, attributes: Any = None, timestamp: int | None = None) -> None:
        owner = self._owner
        if owner is None:
            return
        limits = owner.limits
        if limits.max_events is not None and len(self._events) >= limits.max_events:
            return
        bounded = BoundedAttributes(
            limits.max_event_attributes, attributes, immutable=True, max_value_len=limits.max_attribute_length
        )
        self._events.append(Event(name, bounded, timestamp if timestamp is not None else time_ns()))

    def record_exception(
        self, exception: BaseException, attributes: Any = None, timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        module = type(exception).__module__
        qualname = type(exception).__qualname__
        recorded: dict[str, Any] = {
            "exception.type": f"{module}.{qualname}" if module and module != "builtins" else qualname,
            "exception.message": str(exception),
            "exception.stacktrace": "".join(traceback.format_exception(exception)),
            "exception.escaped": str(escaped),
        }
        if attributes:
            recorded.update(attributes)
        self.add_event("exception", recorded, timestamp)

    def update_name(self, name: str) -> None:
        if self._owner is not None:
            self._name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        if self._owner is None or self._status.status_code is StatusCode.OK:
            return  # OK is final, as on an SDK span
        if isinstance(status, Status):
            self._status = status
        elif status == StatusCode.OK:
            self._status = _OK
        elif status == StatusCode.ERROR:
            self._status = Status(status, description)

    def end(self, end_time: int | None = None) -> None:
        owner = self._owner
        if owner is None:
            return
        self._owner = None  # a second end exports nothing, as the SDK's does not
        owner.export(self, end_time if end_time is not None else time_ns())

    def exported(self, owner: DirectSpans, end: int) -> ReadableSpan:
        return ReadableSpan(
            name=self._name,
            context=self._context,
            parent=self._parent,
            resource=owner.resource,
            attributes=self._attributes,
            events=tuple(self._events),
            links=tuple(self._links),
            kind=SpanKind.INTERNAL,
            instrumentation_info=owner.info,
            status=self._status,
            start_time=self._start,
            end_time=end,
            instrumentation_scope=owner.scope,
        )


class DirectSpans:
    """The sampler, resource, scope and processors of one SDK tracer, for `DirectSpan`."""

    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer
        self._sampler = tracer.sampler
        self._processor = tracer.span_processor
        self.resource = tracer.resource
        self.info = tracer.instrumentation_info
        self.scope = getattr(tracer, "_instrumentation_scope", None)
        self.limits: SpanLimits = tracer._span_limits
        # The SDK's default sampler samples every child of a sampled parent, keeping its trace state:
        # answered here without building a sampling result per span.
        sampler = tracer.sampler
        self._samples_sampled_children = type(sampler) is ParentBased and all(
            getattr(sampler, name, None) is ALWAYS_ON
            for name in ("_remote_parent_sampled", "_local_parent_sampled")
        )

    def start(
        self,
        name: str,
        parent: SpanContext,
        attributes: Mapping[str, Any],
        links: Sequence[Link],
        span_id: int | None,
        start: int | None,
        parent_context: otel_context.Context | None = None,
    ) -> DirectSpan:
        """A span under ``parent`` (a valid span context: eventflow's spans always have one)."""
        if span_id is None:
            span_id = self._tracer.id_generator.generate_span_id()
        if self._samples_sampled_children and parent.trace_flags.sampled:
            context = SpanContext(
                parent.trace_id, span_id, is_remote=False, trace_flags=_SAMPLED,
                trace_state=parent.trace_state,
            )
            return DirectSpan(self, name, context, parent, dict(attributes), links,
                              start if start is not None else time_ns())
        if parent_context is None:
            parent_context = trace.set_span_in_context(NonRecordingSpan(parent), otel_context.Context())
        sampling = self._sampler.should_sample(
            parent_context, parent.trace_id, name, SpanKind.INTERNAL, attributes, links
        )
        decision = sampling.decision
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
        self._processor.on_end(span.exported(self, end))


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
