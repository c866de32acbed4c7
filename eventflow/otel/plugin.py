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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.trace import Link, NonRecordingSpan, Span, SpanContext, SpanKind, StatusCode, TraceFlags

from eventflow.events.enums import OperationType
from eventflow.events.wire import ErrorObject
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

    @contextmanager
    def using(self, span_id: int | None, trace_id: int | None = None) -> Iterator[None]:
        span_token, trace_token = self.span_id.set(span_id), self.trace_id.set(trace_id)
        try:
            yield
        finally:
            self.span_id.reset(span_token)
            self.trace_id.reset(trace_token)


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
    out: dict[str, Any] = {"durable.execution.arn": arn}
    get = info.__getattribute__
    if hasattr(info, "is_first_invocation"):
        out["durable.invocation.first"] = get("is_first_invocation")
    op_type = getattr(info, "operation_type", None)
    if getattr(info, "operation_id", None) is not None:
        out["durable.operation.id"] = get("operation_id")
    if op_type is not None:
        out["durable.operation.type"] = str(op_type)
    if getattr(info, "sub_type", None) is not None:
        out["durable.operation.subtype"] = str(get("sub_type"))
    attempt_span = isinstance(info, UserFunctionInfo) and op_type == OperationType.STEP
    if isinstance(info, OperationInfo):
        out["durable.operation.status"] = str(info.status)
    if getattr(info, "name", None) is not None:
        out["durable.operation.name"] = get("name")
    if op_type != OperationType.CONTEXT:
        if getattr(info, "attempt", None) is not None:
            out["durable.attempt.number"] = get("attempt")
        if attempt_span and getattr(info, "outcome", None) is not None:
            outcome = get("outcome")
            if outcome != UserFunctionOutcome.INCOMPLETE:
                out["durable.attempt.outcome"] = str(outcome)
    return out


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


class InvocationTracer(BasePlugin):
    """The spans of one invocation (built by `OtelPlugin`)."""

    def __init__(
        self,
        tracer: trace.Tracer,
        ids: _DeterministicIds,
        info: InvocationStartInfo,
        header: TraceHeader | None,
        provider: Any,
    ) -> None:
        self._tracer = tracer
        self._ids = ids
        self._provider = provider
        self._arn = info.execution_arn
        self._start = info.execution_start_time
        self._lock = threading.Lock()
        self._spans: dict[str, Span] = {}
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
        self._workflow = SpanContext(self._trace_id, workflow_span_id(self._arn), False, trace_flags=flags)
        self._invocation: Span | None = None
        self._recorded = frozenset(info.operations)  # what earlier invocations started

    # -- helpers ---------------------------------------------------------------------------------------

    def _parent(self, span_context: SpanContext) -> otel_context.Context:
        return trace.set_span_in_context(NonRecordingSpan(span_context), otel_context.Context())

    def _start_span(
        self,
        name: str,
        attrs: Mapping[str, Any],
        parent: Span | SpanContext,
        *,
        span_id: int | None,
        links: list[Link],
        start: datetime | None = None,
    ) -> Span:
        context = (
            self._parent(parent)
            if isinstance(parent, SpanContext)
            else trace.set_span_in_context(parent, otel_context.Context())
        )
        with self._ids.using(span_id, self._trace_id):
            return self._tracer.start_span(
                name, context=context, kind=SpanKind.INTERNAL, attributes=attrs, links=links,
                start_time=_nanos(start),
            )

    def _parent_span(self, parent_id: str | None) -> Span | SpanContext:
        with self._lock:
            span = self._spans.get(parent_id) if parent_id is not None else None
        if span is not None:
            return span
        if parent_id is not None:
            # A parent met only on replay (finished earlier): its deterministic span stands in.
            return SpanContext(self._trace_id, operation_span_id(self._arn, parent_id), False, self._flags)
        return self._invocation or self._ancestor

    def _operation_links(self, operation_id: str, continued: bool) -> list[Link]:
        links = []
        if continued:
            links.append(Link(SpanContext(self._trace_id, operation_span_id(self._arn, operation_id), False,
                                          trace_flags=self._flags)))
        links.append(Link(self._workflow))
        return links

    def _open_operation(self, info: OperationInfo | UserFunctionInfo, *, continued: bool, key: str) -> Span:
        span = self._start_span(
            info.name or info.operation_id,
            attributes(self._arn, info),
            self._parent_span(info.parent_id),
            span_id=None if continued else operation_span_id(self._arn, info.operation_id),
            links=self._operation_links(info.operation_id, continued),
        )
        with self._lock:
            self._spans[key] = span
        return span

    def _attach(self, key: str, span: Span) -> None:
        token = otel_context.attach(trace.set_span_in_context(span))
        with self._lock:
            self._tokens[key] = token

    def _detach(self, key: str) -> None:
        with self._lock:
            token = self._tokens.pop(key, None)
        if token is not None:
            # A token from another context (a task that ended elsewhere): nothing to restore here.
            with contextlib.suppress(Exception):
                otel_context.detach(token)  # type: ignore[arg-type]

    # -- invocation -----------------------------------------------------------------------------------

    def on_invocation_start(self, info: InvocationStartInfo) -> None:
        if not self._remote_parent and self._flags.sampled:
            with self._ids.using(self._ancestor.span_id, self._trace_id):
                span = self._tracer.start_span(
                    "DurableExecutionRoot",
                    context=otel_context.Context(),
                    kind=SpanKind.INTERNAL,
                    attributes={"durable.execution.arn": self._arn, "durable.execution.synthetic_root": True},
                    start_time=_nanos(self._start),
                )
            span.end(end_time=_nanos(self._start))
        self._invocation = self._start_span(
            "Invocation", attributes(self._arn, info), self._ancestor, span_id=None, links=[]
        )
        self._attach("", self._invocation)

    def on_invocation_end(self, info: InvocationEndInfo) -> None:
        with self._lock:
            left = list(self._spans.items())
            self._spans.clear()
        for _key, span in reversed(left):
            span.end()  # suspended here: the operation goes on in a later invocation
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
            with self._ids.using(self._workflow.span_id, self._trace_id):
                workflow = self._tracer.start_span(
                    "Workflow",
                    context=self._parent(self._ancestor),
                    kind=SpanKind.INTERNAL,
                    attributes={
                        "durable.execution.arn": self._arn, "durable.execution.status": str(info.status)
                    },
                    start_time=_nanos(self._start),
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
        if info.operation_type == OperationType.CONTEXT:
            return  # a context's span covers its function (on_user_function_start)
        self._open_operation(info, continued=info.is_replayed, key=info.operation_id)

    def on_operation_end(self, info: OperationInfo) -> None:
        with self._lock:
            span = self._spans.pop(info.operation_id, None)
        if span is None:
            span = self._open_operation(info, continued=True, key=info.operation_id)
            with self._lock:
                self._spans.pop(info.operation_id, None)
        else:
            span.set_attributes(attributes(self._arn, info))
        if info.error is not None:
            span.set_status(StatusCode.ERROR, _message(info.error))
        elif str(info.status) == "SUCCEEDED":
            span.set_status(StatusCode.OK)
        span.end()

    # -- user code ------------------------------------------------------------------------------------

    def on_user_function_start(self, info: UserFunctionInfo) -> None:
        if info.operation_type == OperationType.STEP:
            key = f"{info.operation_id}#attempt{info.attempt}"
            span = self._start_span(
                f"{info.name or info.operation_id} attempt {info.attempt or 1}",
                attributes(self._arn, info),
                self._parent_span(info.operation_id),
                span_id=None,
                links=[Link(self._workflow)],
                start=info.start_time,
            )
            with self._lock:
                self._spans[key] = span
        else:
            key = info.operation_id
            continued = info.is_replay_children
            if not info.is_virtual:
                # A context recorded before this invocation continues here under a fresh span id.
                continued = continued or self._recorded_before(info.operation_id)
            span = self._open_operation(info, continued=continued, key=key)
        self._attach(key, span)

    def on_user_function_end(self, info: UserFunctionInfo) -> None:
        if info.operation_type == OperationType.STEP:
            key = f"{info.operation_id}#attempt{info.attempt}"
            self._detach(key)
            with self._lock:
                span = self._spans.pop(key, None)
            if span is None:
                return
            if info.outcome == UserFunctionOutcome.INCOMPLETE:
                span.end()
                return
            span.set_attributes(attributes(self._arn, info))
            if info.outcome == UserFunctionOutcome.FAILED:
                span.set_status(StatusCode.ERROR, _message(info.error))
            else:
                span.set_status(StatusCode.OK)
            span.end(end_time=_nanos(info.end_time))
            return
        self._detach(info.operation_id)
        if info.is_virtual:  # no operation end will come: the function's end is the context's
            with self._lock:
                span = self._spans.pop(info.operation_id, None)
            if span is not None:
                if info.outcome == UserFunctionOutcome.FAILED:
                    span.set_status(StatusCode.ERROR, _message(info.error))
                elif info.outcome == UserFunctionOutcome.SUCCEEDED:
                    span.set_status(StatusCode.OK)
                span.end()

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
