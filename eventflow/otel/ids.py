"""Deterministic trace and span ids, and the X-Ray trace header, as the official SDK's plugin derives them.

Why deterministic: one durable execution runs as many Lambda invocations, each a fresh process or a warm
one, with nothing shared but the checkpoints. Deriving ids from what every invocation knows (the
execution ARN, its start time, the operation ids) puts every invocation's spans in one trace and lets a
later invocation link to, or export, a span an earlier one started. Pure functions, no OpenTelemetry.

- trace id: the execution start in epoch seconds (8 hex digits, the X-Ray format's time part), then the
  first 24 hex digits of blake2b(ARN);
- an operation's span id: the first 16 hex digits of blake2b(f"{arn}:{operation_id}");
- the Workflow span: blake2b(f"workflow:{arn}"); the synthetic DurableExecutionRoot:
  blake2b(f"execution-root:{arn}") (an all-zero id becomes 1).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime


def _hex(text: str, digits: int) -> str:
    return hashlib.blake2b(text.encode()).hexdigest()[:digits]


def execution_trace_id(arn: str, start: datetime) -> int:
    """The trace id of an execution whose invocation brings no trace of its own."""
    return int(f"{int(start.timestamp()) & 0xFFFFFFFF:08x}{_hex(arn, 24)}", 16)


def operation_span_id(arn: str, operation_id: str) -> int:
    return int(_hex(f"{arn}:{operation_id}", 16), 16) or 1


def workflow_span_id(arn: str) -> int:
    return int(_hex(f"workflow:{arn}", 16), 16) or 1


def execution_root_span_id(arn: str) -> int:
    return int(_hex(f"execution-root:{arn}", 16), 16) or 1


@dataclass(frozen=True, slots=True)
class TraceHeader:
    """The parts of an ``X-Amzn-Trace-Id`` header that matter here; ``None`` where absent or invalid."""

    trace_id: int | None
    parent_span_id: int | None
    sampled: bool | None

    def format(self) -> str:
        parts = []
        if self.trace_id is not None:
            text = f"{self.trace_id:032x}"
            parts.append(f"Root=1-{text[:8]}-{text[8:]}")
        if self.parent_span_id is not None:
            parts.append(f"Parent={self.parent_span_id:016x}")
        if self.sampled is not None:
            parts.append(f"Sampled={int(self.sampled)}")
        return ";".join(parts)


_ROOT = re.compile(r"^1-([0-9a-fA-F]{8})-([0-9a-fA-F]{24})$")
_SPAN = re.compile(r"^[0-9a-fA-F]{16}$")


def parse_trace_header(header: str | None) -> TraceHeader | None:
    """Parse ``Root=1-<8 hex>-<24 hex>;Parent=<16 hex>;Sampled=0|1``; ``None`` when nothing is usable."""
    if not header:
        return None
    parts: dict[str, str] = {}
    for segment in header.split(";"):
        key, sep, value = segment.partition("=")
        if sep:
            parts[key.strip()] = value.strip()
    trace_id: int | None = None
    root = _ROOT.match(parts.get("Root", ""))
    if root is not None:
        trace_id = int(root.group(1) + root.group(2), 16) or None
    parent: int | None = None
    if _SPAN.match(parts.get("Parent", "")):
        parent = int(parts["Parent"], 16) or None
    sampled = {"1": True, "0": False}.get(parts.get("Sampled", ""))
    if trace_id is None and parent is None and sampled is None:
        return None
    return TraceHeader(trace_id, parent, sampled)


__all__ = [
    "TraceHeader",
    "execution_root_span_id",
    "execution_trace_id",
    "operation_span_id",
    "parse_trace_header",
    "workflow_span_id",
]
