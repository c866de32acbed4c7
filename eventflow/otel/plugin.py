"""`OtelPlugin`: an eventflow plugin that writes a durable execution's spans in the official SDK's model.

Why this model: teams look at traces of the official SDK's functions and of eventflow's side by side (in
X-Ray or any OTLP backend) and AWS judges such traces with its own conformance suite. So the span names,
kinds, attributes, parents, links and ids follow what the official plugin emits (the invocation view):

- ``DurableExecutionRoot``: a zero-length span at the execution's start, exported by every invocation
  whose ``_X_AMZN_TRACE_ID`` carries no valid parent; it anchors the trace at a deterministic id.
- ``Invocation``: one per invocation, under that root (or the header's parent); ``durable.invocation.first``
  and ``.status``. Status OK for SUCCEEDED and PENDING, ERROR for FAILED.
- ``Workflow``: exported once, by the invocation that ends the execution, at its deterministic id, from the
  execution's start; ``durable.execution.status``.
- a span per operation, named after it (its id when unnamed), under its parent operation's span or the
  Invocation, linked to the Workflow; an operation that started in an earlier invocation gets a fresh
  span linked to its deterministic one as well. A child context's span covers its function.
- ``"<name> attempt N"`` under a step's span for each run of its function.

Every attribute is under ``durable.`` (`attributes`). A plugin instance serves one invocation; hooks come
from the threads that run the code (sync map/parallel items run on a pool), so the span table is locked.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.trace import Link, NonRecordingSpan, Span, SpanContext, SpanKind, StatusCode, TraceFlags

from eventflow.events.enums import TERMINAL_STATUSES, OperationSubType, OperationType
from eventflow.events.wire import ErrorObject
from eventflow.otel.direct import direct_spans
from eventflow.otel.ids import (
    TraceHeader,
    execution_root_span_id,
    execution_trace_id,
    operation_span_id,
    parse_trace_header,
    workflow_span_id,
)
from eventflow.plugins import (
    BasePlugin,
    InvocationEndInfo,
    InvocationOutcome,
    InvocationStartInfo,
    OperationInfo,
    PropagationInfo,
    PropagationMetadata,
    UserFunctionInfo,
    UserFunctionOutcome,
)

INSTRUMENTATION_NAME = "eventflow.otel"
TRACE_HEADER_ENV = "_X_AMZN_TRACE_ID"
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
# Contexts with no function of their own (their items have one): their span opens with the operation.
_BATCHES = frozenset({OperationSubType.MAP, OperationSubType.PARALLEL})


class _DeterministicIds(IdGenerator):
    """Hands out the id set for the span being started on this thread or task, else the fallback's."""

    def __init__(self, fallback: IdGenerator) -> None:
        self.fallback = fallback
        self.span_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("span_id", default=None)
        self.trace_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("trace_id", default=None)

    def generate_span_id(self) -> int:
        value = self.span_id.get()
        return value if value is not None else self.fallback.generate_span_id()

    def generate_trace_id(self) -> int:
        value = self.trace_id.get()
        return value if value is not None else self.fallback.generate_trace_id()

    def set(self, span_id: int | None, trace_id: int | None) -> tuple[Any, Any]:
        """Use these ids for the next span started on this thread or task; `reset` with the tokens."""
        return self.span_id.set(span_id), self.trace_id.set(trace_id)

    def reset(self, tokens: tuple[Any, Any]) -> None:
        self.span_id.reset(tokens[0])
        self.trace_id.reset(tokens[1])


_install_lock = threading.Lock()


def _ids_of(tracer: Any) -> _DeterministicIds | None:
    """The deterministic generator on an SDK tracer (installed once); ``None`` for a non-SDK tracer."""
    current = getattr(tracer, "id_generator", None)
    if current is None:
        return None
    with _install_lock:
        current = tracer.id_generator
        if isinstance(current, _DeterministicIds):
            return current
        generator = _DeterministicIds(current or RandomIdGenerator())
        tracer.id_generator = generator
        return generator


def _nanos(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1_000_000_000)


def _message(error: ErrorObject | None) -> str:
    return (error.error_message or error.error_type or "") if error is not None else ""


def attributes(arn: str, info: object) -> dict[str, Any]:
    """The ``durable.*`` attributes of a span about ``info`` (an invocation, operation or user function)."""
    if isinstance(info, OperationInfo | UserFunctionInfo):
        return _operation_attributes(arn, info)
    out: dict[str, Any] = {"durable.execution.arn": arn}
    first = getattr(info, "is_first_invocation", None)
    if first is not None:
        out["durable.invocation.first"] = first
    return out


def _operation_attributes(arn: str, info: OperationInfo | UserFunctionInfo) -> dict[str, Any]:
    op_type = info.operation_type
    out: dict[str, Any] = {
        "durable.execution.arn": arn,
        "durable.operation.id": info.operation_id,
        "durable.operation.type": str(op_type),
    }
    if info.sub_type is not None:
        out["durable.operation.subtype"] = str(info.sub_type)
    if isinstance(info, OperationInfo):
        out["durable.operation.status"] = str(info.status)
    elif op_type == OperationType.CONTEXT and not info.is_virtual:
        # A context's span opens with its function; its operation is STARTED until its end says more.
        out["durable.operation.status"] = "STARTED"
    if info.name is not None:
        out["durable.operation.name"] = info.name
    # An operation's span tells the attempt that finished it; one still going (a step waiting for its
    # retry) has no attempt of its own yet: its attempts have spans.
    if (
        op_type != OperationType.CONTEXT
        and info.attempt is not None
        and (not isinstance(info, OperationInfo) or info.status in TERMINAL_STATUSES)
    ):
        out["durable.attempt.number"] = info.attempt
    if (
        isinstance(info, UserFunctionInfo)
        and op_type == OperationType.STEP
        and info.outcome is not None
        and info.outcome != UserFunctionOutcome.INCOMPLETE
    ):
        out["durable.attempt.outcome"] = str(info.outcome)
    return out


def _changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes of ``new`` a span that started with ``old`` does not have yet: set only those (the
    SDK validates every value it is given)."""
    return {key: value for key, value in new.items() if old.get(key, _MISSING) != value}


_MISSING = object()


class OtelPlugin:
    """Register with ``durable_execution(plugins=[OtelPlugin()])``: a factory building one tracer per
    invocation. ``tracer_provider`` defaults to the global one (an SDK `TracerProvider`, whose tracer's id
    generator is wrapped so that the deterministic ids can be set); ``trace_header`` reads the invocation's
    X-Ray header (default: the ``_X_AMZN_TRACE_ID`` variable Lambda sets per invocation, or the one the
    invocation start info carries)."""

    def __init__(self, tracer_provider: TracerProvider | None = None) -> None:
        self._provider = tracer_provider

    def create_plugin(self, info: InvocationStartInfo) -> InvocationTracer | None:
        provider = self._provider or trace.get_tracer_provider()
        tracer = provider.get_tracer(INSTRUMENTATION_NAME)
        ids = _ids_of(tracer)
        if ids is None or info.execution_start_time is None:
            return None  # not an SDK tracer, or no start time to derive the trace id from: nothing traced
        header = info.trace_header or os.environ.get(TRACE_HEADER_ENV)
        return InvocationTracer(tracer, ids, info, parse_trace_header(header), provider)


class _Open:
    """A span this invocation has open: the span, the context its children start in, the attributes it
    started with (an end sets only what changed)."""

    __slots__ = ("attrs", "context", "span")

    def __init__(self, span: Span, attrs: Mapping[str, Any]) -> None:
        self.span = span
        self.context = trace.set_span_in_context(span, otel_context.Context())
        self.attrs = attrs


class InvocationTracer(BasePlugin):
    """The spans of one invocation (built by `OtelPlugin`).

    Why it is shaped so: a traced step must stay cheap next to an untraced one (benchmarks/tracing.py),
    so what every span of the invocation shares (the parent contexts, the Workflow link) is built once,
    the id generator is told a span id by one context variable set (none for random ids), and an end
    sets only the attributes that changed since the start. The span table is a dict whose single
    operations are atomic; hooks run on the threads of map/parallel items at once, each on its own keys.
    """

    def __init__(
        self,
        tracer: trace.Tracer,
        ids: _DeterministicIds,
        info: InvocationStartInfo,
        header: TraceHeader | None,
        provider: Any,
    ) -> None:
        self._tracer = tracer
        self._direct = direct_spans(tracer)
        self._ids = ids
        self._provider = provider
        self._arn = info.execution_arn
        self._start = info.execution_start_time
        self._lock = threading.Lock()
        self._spans: dict[str, _Open] = {}
        self._tokens: dict[str, object] = {}
        trace_id = header.trace_id if header is not None and header.trace_id else None
        started = info.execution_start_time or datetime.now(UTC)
        self._trace_id = trace_id or execution_trace_id(self._arn, started)
        sampled = header.sampled if header is not None and header.sampled is not None else True
        flags = _SAMPLED if sampled else TraceFlags(TraceFlags.DEFAULT)
        self._flags = flags
        parent = header.parent_span_id if header is not None and trace_id else None
        self._remote_parent = parent is not None
        ancestor_id = parent if parent is not None else execution_root_span_id(self._arn)
        self._ancestor = SpanContext(
            self._trace_id, ancestor_id, is_remote=parent is not None, trace_flags=flags
        )
        self._ancestor_context = self._parent(self._ancestor)
        self._workflow = SpanContext(self._trace_id, workflow_span_id(self._arn), False, trace_flags=flags)
        self._workflow_links = (Link(self._workflow),)
        self._invocation: Span | None = None
        self._invocation_context = self._ancestor_context
        self._recorded = frozenset(info.operations)  # what earlier invocations started

    # -- helpers ---------------------------------------------------------------------------------------

    def _parent(self, span_context: SpanContext) -> otel_context.Context:
        return trace.set_span_in_context(NonRecordingSpan(span_context), otel_context.Context())

    def _deterministic(self, operation_id: str) -> SpanContext:
        return SpanContext(self._trace_id, operation_span_id(self._arn, operation_id), False, self._flags)

    def _start_span(
        self,
        name: str,
        attrs: Mapping[str, Any],
        context: otel_context.Context,
        *,
        span_id: int | None,
        links: Sequence[Link],
        start: datetime | None = None,
    ) -> Span:
        start_time = _nanos(start)
        if self._direct is not None:
            parent = trace.get_current_span(context).get_span_context()
            return self._direct.start(name, parent, attrs, links, span_id, start_time, context)
        if span_id is None:  # a random id: the SDK's own generator answers
            return self._tracer.start_span(
                name, context=context, kind=SpanKind.INTERNAL, attributes=attrs, links=links,
                start_time=start_time,
            )
        tokens = self._ids.set(span_id, self._trace_id)
        try:
            return self._tracer.start_span(
                name, context=context, kind=SpanKind.INTERNAL, attributes=attrs, links=links,
                start_time=start_time,
            )
        finally:
            self._ids.reset(tokens)

    def _parent_context(self, parent_id: str | None) -> otel_context.Context:
        if parent_id is None:
            return self._invocation_context
        entry = self._spans.get(parent_id)
        if entry is not None:
            return entry.context
        # A parent met only on replay (finished earlier): its deterministic span stands in.
        return self._parent(self._deterministic(parent_id))

    def _operation_links(self, operation_id: str, continued: bool) -> Sequence[Link]:
        if continued:
            return (Link(self._deterministic(operation_id)), *self._workflow_links)
        return self._workflow_links

    def _open_operation(self, info: OperationInfo | UserFunctionInfo, *, continued: bool, key: str) -> _Open:
        attrs = _operation_attributes(self._arn, info)
        span_id = None if continued else operation_span_id(self._arn, info.operation_id)
        links = self._operation_links(info.operation_id, continued)
        span = self._start_span(
            info.name or info.operation_id, attrs, self._parent_context(info.parent_id),
            span_id=span_id, links=links,
        )
        entry = _Open(span, attrs)
        self._spans[key] = entry
        return entry

    def _attach(self, key: str, span: Span) -> None:
        self._tokens[key] = otel_context.attach(trace.set_span_in_context(span))

    def _detach(self, key: str) -> None:
        token = self._tokens.pop(key, None)
        if token is not None:
            # A token from another context (a task that ended elsewhere): nothing to restore here.
            with contextlib.suppress(Exception):
                otel_context.detach(token)  # type: ignore[arg-type]

    # -- invocation -----------------------------------------------------------------------------------

    def on_invocation_start(self, info: InvocationStartInfo) -> None:
        if not self._remote_parent and self._flags.sampled:
            tokens = self._ids.set(self._ancestor.span_id, self._trace_id)
            try:
                span = self._tracer.start_span(
                    "DurableExecutionRoot",
                    context=otel_context.Context(),
                    kind=SpanKind.INTERNAL,
                    attributes={"durable.execution.arn": self._arn, "durable.execution.synthetic_root": True},
                    start_time=_nanos(self._start),
                )
            finally:
                self._ids.reset(tokens)
            span.end(end_time=_nanos(self._start))
        self._invocation = self._start_span(
            "Invocation", attributes(self._arn, info), self._ancestor_context, span_id=None, links=()
        )
        self._invocation_context = trace.set_span_in_context(self._invocation, otel_context.Context())
        self._attach("", self._invocation)

    def on_invocation_end(self, info: InvocationEndInfo) -> None:
        with self._lock:
            left = list(self._spans.values())
            self._spans.clear()
        for entry in reversed(left):
            entry.span.end()  # suspended here: the operation goes on in a later invocation
        invocation = self._invocation
        if invocation is not None:
            invocation.set_attribute("durable.invocation.status", str(info.status))
            if info.status in (InvocationOutcome.SUCCEEDED, InvocationOutcome.PENDING):
                invocation.set_status(StatusCode.OK)
            elif info.status == InvocationOutcome.FAILED:
                invocation.set_status(StatusCode.ERROR, _message(info.error))
            self._detach("")
            invocation.end()
        if info.status in (InvocationOutcome.SUCCEEDED, InvocationOutcome.FAILED):
            workflow = self._start_span(
                "Workflow",
                {"durable.execution.arn": self._arn, "durable.execution.status": str(info.status)},
                self._ancestor_context,
                span_id=self._workflow.span_id,
                links=(),
                start=self._start,
            )
            if info.status == InvocationOutcome.SUCCEEDED:
                workflow.set_status(StatusCode.OK)
            else:
                workflow.set_status(StatusCode.ERROR, _message(info.error))
            workflow.end()
        flush = getattr(self._provider, "force_flush", None)
        if callable(flush):
            flush()

    # -- operations -----------------------------------------------------------------------------------

    def on_operation_start(self, info: OperationInfo) -> None:
        if info.operation_type == OperationType.CONTEXT and info.sub_type not in _BATCHES:
            return  # a context's span covers its function (on_user_function_start)
        self._open_operation(info, continued=info.is_replayed, key=info.operation_id)

    def on_operation_end(self, info: OperationInfo) -> None:
        entry = self._spans.pop(info.operation_id, None)
        if entry is None:
            entry = self._open_operation(info, continued=True, key=info.operation_id)
            self._spans.pop(info.operation_id, None)
        else:
            changed = _changed(entry.attrs, _operation_attributes(self._arn, info))
            if changed:
                entry.span.set_attributes(changed)
        span = entry.span
        if info.error is not None:
            span.set_status(StatusCode.ERROR, _message(info.error))
        elif info.status == "SUCCEEDED":
            span.set_status(StatusCode.OK)
        span.end()

    # -- user code ------------------------------------------------------------------------------------

    def on_user_function_start(self, info: UserFunctionInfo) -> None:
        if info.operation_type == OperationType.STEP:
            key = f"{info.operation_id}#attempt{info.attempt}"
            attrs = _operation_attributes(self._arn, info)
            span = self._start_span(
                f"{info.name or info.operation_id} attempt {info.attempt or 1}",
                attrs,
                self._parent_context(info.operation_id),
                span_id=None,
                links=self._workflow_links,
                start=info.start_time,
            )
            self._spans[key] = _Open(span, attrs)
        else:
            key = info.operation_id
            continued = info.is_replay_children
            if not info.is_virtual:
                # A context recorded before this invocation continues here under a fresh span id.
                continued = continued or self._recorded_before(info.operation_id)
            span = self._open_operation(info, continued=continued, key=key).span
        self._attach(key, span)

    def on_user_function_end(self, info: UserFunctionInfo) -> None:
        if info.operation_type == OperationType.STEP:
            key = f"{info.operation_id}#attempt{info.attempt}"
            self._detach(key)
            entry = self._spans.pop(key, None)
            if entry is None:
                return
            span = entry.span
            if info.outcome == UserFunctionOutcome.INCOMPLETE:
                span.end()
                return
            changed = _changed(entry.attrs, _operation_attributes(self._arn, info))
            if changed:
                span.set_attributes(changed)
            if info.outcome == UserFunctionOutcome.FAILED:
                span.set_status(StatusCode.ERROR, _message(info.error))
            else:
                span.set_status(StatusCode.OK)
            span.end(end_time=_nanos(info.end_time))
            return
        self._detach(info.operation_id)
        if info.is_virtual:  # no operation end will come: the function's end is the context's
            entry = self._spans.pop(info.operation_id, None)
            if entry is not None:
                if info.outcome == UserFunctionOutcome.FAILED:
                    entry.span.set_status(StatusCode.ERROR, _message(info.error))
                elif info.outcome == UserFunctionOutcome.SUCCEEDED:
                    entry.span.set_status(StatusCode.OK)
                entry.span.end()

    def _recorded_before(self, operation_id: str) -> bool:
        return operation_id in self._recorded

    # -- propagation ----------------------------------------------------------------------------------

    def provide_propagation_metadata(self, info: PropagationInfo) -> PropagationMetadata | None:
        if info.execution_arn != self._arn:
            return None
        span_id = operation_span_id(self._arn, info.operation_id)
        header = TraceHeader(self._trace_id, span_id, bool(self._flags.sampled))
        return PropagationMetadata(header.format())


__all__ = ["INSTRUMENTATION_NAME", "InvocationTracer", "OtelPlugin", "attributes"]
