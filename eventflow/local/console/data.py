"""The JSON the console's pages read: the executions list, one execution, one operation's events.

Everything is read through `LocalService`'s public reading calls (`list_executions`, `describe`, `get`,
`history`), so the console shows what the API would return. Timestamps are epoch milliseconds; payloads are
sent as the raw strings the service holds (the page pretty-prints and truncates them, always as text).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from eventflow.events.enums import TERMINAL_STATUSES, EventType, ExecutionStatus, OperationType
from eventflow.events.history import Event
from eventflow.events.wire import ErrorObject, Operation
from eventflow.local import history
from eventflow.local.console import actions
from eventflow.local.console.labels import operation_labels
from eventflow.local.engine import LocalService
from eventflow.local.errors import InvalidParameterValueError
from eventflow.machine.diagrams import to_mermaid
from eventflow.testing.lines import kind_of

PAGE_SIZE = 25
MAX_PAGE_SIZE = 200


def ms(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp() * 1000.0


def _error(error: ErrorObject | None) -> dict[str, Any] | None:
    return None if error is None else error.to_wire()


def execution_list(
    service: LocalService,
    *,
    statuses: Sequence[str] = (),
    function: str | None = None,
    marker: str | None = None,
    limit: int = PAGE_SIZE,
) -> dict[str, Any]:
    """A page of executions, newest first, and what the filters can choose from."""
    for status in statuses:
        if status not in ExecutionStatus.__members__:
            raise InvalidParameterValueError(f"unknown status {status!r}")
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidParameterValueError(f"limit must be from 1 to {MAX_PAGE_SIZE}")
    if marker is not None and not marker.isdigit():
        raise InvalidParameterValueError("marker must be one the console gave")
    rows, next_marker = service.list_executions(
        function or None, statuses=list(statuses) or None, reverse=True, marker=marker, max_items=limit
    )
    return {
        "executions": [
            {
                "arn": row.arn,
                "name": row.name,
                "function": row.function_name,
                "status": row.status.value,
                "start": ms(row.started_at),
                "end": ms(row.ended_at),
            }
            for row in rows
        ],
        "next": next_marker,
        "functions": sorted(service.registry),
        "statuses": list(ExecutionStatus.__members__),
        "now": ms(service.clock.now()),
    }


def _snapshot(service: LocalService, arn: str) -> list[Operation]:
    """The execution's operations in creation order. An execution still running is read while the worker
    may add to it: the order list is copied first, and an id not yet in the dict is left for the next read."""
    execution = service.get(arn)
    order = list(execution.op_order)
    found = (execution.operations.get(op_id) for op_id in order)
    return [op for op in found if op is not None]


def fingerprint(service: LocalService, arn: str) -> str:
    """What changes whenever the execution page would: its status and how many events it has."""
    execution = service.get(arn)
    return f"{execution.status.value}-{len(execution.events)}"


def _events(service: LocalService, arn: str, keep: Callable[[str, str | None], bool]) -> list[Event]:
    """The history events whose (type, operation id) ``keep`` accepts. Only those are built into `Event`
    models: the history of a 2,000-item map holds 8,000 events, and the page wants a handful."""
    items = list(service.get(arn).events)  # appended to, never changed: a copy is a consistent prefix
    chosen = []
    for item in items:
        if isinstance(item, Event):
            kind, op_id = str(item.event_type or ""), item.id
        else:
            kind, op_id = item.event_type, item.op_id
        if keep(kind, op_id):
            chosen.append(history.to_event(item))
    return chosen


def _outcome(op: Operation) -> tuple[str | None, ErrorObject | None]:
    for details in (op.step_details, op.context_details, op.callback_details, op.chained_invoke_details):
        if details is not None:
            return details.result, details.error
    return None, None


def _tree_order(operations: Sequence[Operation]) -> Iterator[tuple[int, Operation]]:
    """Depth-first, children in creation order: the EXECUTION, then the root context's operations (and an
    operation whose parent is not in the execution at the top level, as `views.build_tree` puts it)."""
    known = {op.id for op in operations}
    children: dict[str | None, list[Operation]] = {}
    top: list[Operation] = []
    for op in operations:
        if op.type == OperationType.EXECUTION:
            top.insert(0, op)
        elif op.parent_id is None or op.parent_id not in known:
            children.setdefault(None, []).append(op)
        else:
            children.setdefault(op.parent_id, []).append(op)
    execution = top[0] if top else None
    if execution is not None:
        children[execution.id] = children.pop(None, []) + children.get(execution.id, [])
    stack = [(0, op) for op in reversed(top or children.pop(None, []))]
    while stack:
        depth, op = stack.pop()
        yield depth, op
        stack.extend((depth + 1, child) for child in reversed(children.get(op.id, ())))


def execution_detail(service: LocalService, arn: str, routes: Any) -> dict[str, Any]:
    """One execution: its summary, operations in tree order with labels, invocations, offered actions."""
    described = service.describe(arn)
    operations = _snapshot(service, arn)
    labels = operation_labels(operations)
    rows: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    parents: list[int] = []
    callback_actions = [a.to_json() for a in actions.offered("callback", "STARTED", routes)]
    for depth, op in _tree_order(operations):
        while len(parents) > depth:
            parents.pop()
        result, error = _outcome(op)
        row: dict[str, Any] = {
            "id": op.id,
            "parent": parents[-1] if parents else -1,
            "depth": depth,
            "label": labels.get(op.id, op.id[:12]),
            "type": op.type.value,
            "kind": "execution" if op.type == OperationType.EXECUTION else kind_of(op.type, op.sub_type),
            "name": op.name,
            "status": op.status.value,
            "start": ms(op.start_timestamp),
            "end": ms(op.end_timestamp),
            "done": op.status in TERMINAL_STATUSES,
        }
        if op.step_details is not None and op.step_details.attempt:
            row["attempt"] = op.step_details.attempt
        if error is not None:
            row["error"] = f"{error.error_type or 'Error'}: {error.error_message or ''}"
        elif result is not None:
            row["result"] = result[:200]
        if op.callback_details is not None and op.callback_details.callback_id:
            row["callback"] = op.callback_details.callback_id
        index[op.id] = len(rows)
        parents.append(len(rows))
        rows.append(row)
    invocations = []
    for event in _events(service, arn, lambda kind, _: kind == EventType.INVOCATION_COMPLETED.value):
        details = event.invocation_completed_details
        if details is not None:
            invocations.append(
                {
                    "start": ms(details.start_timestamp),
                    "end": ms(details.end_timestamp),
                    "request": details.request_id,
                    "error": details.error.payload.to_wire()
                    if details.error and details.error.payload
                    else None,
                }
            )
    status = described.status.value
    types = sorted({op.type for op in operations}, key=lambda t: list(OperationType).index(t))
    return {
        "arn": arn,
        "name": described.durable_execution_name,
        "function": described.function_arn,
        "status": status,
        "running": described.status is ExecutionStatus.RUNNING,
        "start": ms(described.start_timestamp),
        "end": ms(described.end_timestamp),
        "now": ms(service.clock.now()),
        "input": described.input_payload,
        "result": described.result,
        "error": _error(described.error),
        "operations": rows,
        "invocations": invocations,
        "actions": [a.to_json() for a in actions.offered("execution", status, routes)],
        "callbackActions": callback_actions,
        "machines": {t.value: to_mermaid(t) for t in types},
    }


def operation_events(service: LocalService, arn: str, op_id: str) -> dict[str, Any]:
    """The history events of one operation (for the EXECUTION: the execution's and invocations' events)."""
    operation = service.get(arn).operations.get(op_id)
    if operation is None:
        raise InvalidParameterValueError(f"the execution has no operation {op_id!r}")
    if operation.type == OperationType.EXECUTION:

        def keep(kind: str, event_op: str | None) -> bool:
            return event_op == op_id or kind.startswith(("Execution", "Invocation"))
    else:

        def keep(kind: str, event_op: str | None) -> bool:
            return event_op == op_id

    events = []
    for event in _events(service, arn, keep):
        details = event.details
        events.append(
            {
                "id": event.event_id,
                "type": str(event.event_type or ""),
                "at": ms(event.event_timestamp),
                "details": details.to_wire() if details is not None else {},
            }
        )
    return {"id": op_id, "type": operation.type.value, "events": events}
