"""The X-Ray trace header the local service gives each execution and invocation, as Lambda does.

Why: tracing plugins (`eventflow.otel`, the official SDK's) read the invocation's ``_X_AMZN_TRACE_ID`` to
put every invocation of an execution, and the executions it chains, in one trace. An execution gets a
header when it starts: the one its chained invoke's START carried (``ChainedInvokeOptions.XAmznTraceId``),
else a new root (``Root=1-<start, hex epoch seconds>-<24 random hex>;Sampled=1``). Each invocation then
sees that header, with a fresh ``Parent`` (the invocation's own segment) unless the header names one.
"""

from __future__ import annotations

import secrets
from datetime import datetime


def new_trace_header(start: datetime) -> str:
    return f"Root=1-{int(start.timestamp()) & 0xFFFFFFFF:08x}-{secrets.token_hex(12)};Sampled=1"


def invocation_trace_header(execution_header: str | None, start: datetime) -> str:
    """The header one invocation of an execution with ``execution_header`` sees."""
    header = execution_header or new_trace_header(start)
    if "Parent=" in header:
        return header
    return f"{header};Parent={secrets.token_hex(8)}"
