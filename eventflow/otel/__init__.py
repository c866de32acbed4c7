"""OpenTelemetry tracing for durable executions (the ``otel`` extra: opentelemetry-api and -sdk).

``durable_execution(plugins=[OtelPlugin()])`` traces every invocation in the official SDK's span model
(`eventflow.otel.plugin`); `install_log_filter` stamps log records with the current span's ``traceId``
and ``spanId`` (`eventflow.otel.logs`). Nothing in ``import eventflow`` imports this package.
"""

from __future__ import annotations

try:
    import opentelemetry.sdk.trace  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised without the extra only
    raise ImportError(
        "eventflow.otel needs OpenTelemetry: pip install 'eventflow[otel]' (opentelemetry-api and -sdk)"
    ) from exc

from eventflow.otel.ids import TraceHeader, parse_trace_header
from eventflow.otel.logs import TraceContextFilter, install_log_filter
from eventflow.otel.plugin import InvocationTracer, OtelPlugin

__all__ = [
    "InvocationTracer",
    "OtelPlugin",
    "TraceContextFilter",
    "TraceHeader",
    "install_log_filter",
    "parse_trace_header",
]
