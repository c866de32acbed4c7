"""Tamper-evident audit logs of durable executions: hash-chained records, an optional HMAC-signed head.

- `write_audit_log` / `audit_lines` / `AuditWriter`: seal a history (or operation log) into JSONL.
- `verify_audit` / `verify_audit_file`: name every edited, dropped, inserted or reordered record.
- `eventflow.audit.schema`: the versioned record schema and its upcasters.
"""

from eventflow.audit.schema import CURRENT_VERSION, upcast
from eventflow.audit.verify import AuditProblem, AuditReport, verify_audit, verify_audit_file
from eventflow.audit.writer import AuditWriter, audit_lines, write_audit_log

__all__ = [
    "CURRENT_VERSION",
    "AuditProblem",
    "AuditReport",
    "AuditWriter",
    "audit_lines",
    "upcast",
    "verify_audit",
    "verify_audit_file",
    "write_audit_log",
]
