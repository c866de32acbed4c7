"""Log correlation: a stdlib `logging.Filter` that adds the current span's ids to every record.

Why a filter: it works with any handler and formatter (`eventflow.log.JsonFormatter` writes the fields at
the top level, where CloudWatch and X-Ray's log correlation look for them), and `OtelPlugin` makes the
span of the running operation (a step attempt, a child context, else the Invocation) current on the
thread or task that runs its code, so records logged there land on that span.
"""

from __future__ import annotations

import logging

from opentelemetry import trace


class TraceContextFilter(logging.Filter):
    """Sets ``record.traceId`` (32 hex digits) and ``record.spanId`` (16) while a valid span is current."""

    def filter(self, record: logging.LogRecord) -> bool:
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            record.traceId = format(span_context.trace_id, "032x")
            record.spanId = format(span_context.span_id, "016x")
        return True


def install_log_filter(logger: logging.Logger | str | None = "eventflow.user") -> TraceContextFilter:
    """Add a `TraceContextFilter` to ``logger`` (and to each of its handlers, so records propagated from
    child loggers are stamped too); returns it. Adding twice is harmless: one filter per logger stays."""
    target = logger if isinstance(logger, logging.Logger) else logging.getLogger(logger)
    for existing in target.filters:
        if isinstance(existing, TraceContextFilter):
            return existing
    installed = TraceContextFilter()
    target.addFilter(installed)
    for handler in target.handlers:
        handler.addFilter(installed)
    return installed
