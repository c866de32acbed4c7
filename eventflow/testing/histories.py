"""Export and import histories and operation logs: JSONL, and JSON in the AWS API's shapes.

Why: a history must travel from where it was recorded (AWS, the local service) to where it is replayed or
audited (a developer's machine, CI). Two formats:

- JSON in the API's own shapes: GetDurableExecutionHistory output (``{"Events": [...]}``) for histories,
  GetDurableExecutionState output (``{"Operations": [...]}``) for operation logs. Whatever AWS or the AWS CLI
  returns loads as is; a durable handler's invocation input (``InitialExecutionState``) loads too.
- JSONL, one event or operation per line, for logs that grow by appending and diff line by line.

Timestamps are written as ISO-8601 strings, as the AWS CLI prints them (and read in every form
`eventflow.events._base.parse_timestamp` accepts).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from eventflow.errors import InvalidInputError
from eventflow.events._base import WireModel
from eventflow.events.history import Event
from eventflow.events.wire import Operation

__all__ = [
    "ExecutionRecord",
    "dumps_json",
    "dumps_jsonl",
    "fetch_aws_history",
    "load_record",
    "loads_record",
    "wire_dict",
]


@dataclass
class ExecutionRecord:
    """What was loaded: history events and/or operations, and the execution's ARN when known."""

    events: list[Event] = field(default_factory=list)
    operations: list[Operation] = field(default_factory=list)
    arn: str | None = None


def wire_dict(model: WireModel) -> dict[str, Any]:
    """A model as API JSON: wire names, unset members left out, timestamps as ISO-8601 strings."""
    data: dict[str, Any] = _iso(model.to_boto_params())
    return data


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    if isinstance(value, bytes):
        return value.decode()
    return value


def dumps_json(events: Sequence[Event] = (), operations: Sequence[Operation] = ()) -> str:
    """GetDurableExecutionHistory output (``Events``) and/or GetDurableExecutionState output
    (``Operations``) as indented JSON."""
    data: dict[str, Any] = {}
    if events:
        data["Events"] = [wire_dict(e) for e in events]
    if operations:
        data["Operations"] = [wire_dict(op) for op in operations]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def dumps_jsonl(items: Iterable[Event | Operation]) -> str:
    """One event or operation per line, keys sorted so equal records are equal lines."""
    return "".join(json.dumps(wire_dict(item), sort_keys=True, ensure_ascii=False) + "\n" for item in items)


def _classify(item: Any, record: ExecutionRecord, where: str) -> None:
    if not isinstance(item, dict):
        raise InvalidInputError(f"{where}: expected a JSON object, got {type(item).__name__}")
    if "EventType" in item:
        record.events.append(Event.from_wire(item))
    elif "Type" in item and "Status" in item:
        record.operations.append(Operation.from_wire(item))
    else:
        _read_document(item, record, where)


def _read_document(data: dict[str, Any], record: ExecutionRecord, where: str) -> None:
    known = False
    if isinstance(data.get("Events"), list):
        known = True
        for i, item in enumerate(data["Events"]):
            _classify(item, record, f"{where}: Events[{i}]")
    state = data.get("InitialExecutionState") or data.get("NewExecutionState") or data
    if isinstance(state, dict) and isinstance(state.get("Operations"), list):
        known = True
        for i, item in enumerate(state["Operations"]):
            record.operations.append(_operation(item, f"{where}: Operations[{i}]"))
    if isinstance(data.get("DurableExecutionArn"), str):
        record.arn = record.arn or data["DurableExecutionArn"]
    if not known:
        raise InvalidInputError(
            f"{where}: neither a history (Events), an operation log (Operations) nor an event or operation"
        )


def _operation(item: Any, where: str) -> Operation:
    if not isinstance(item, dict):
        raise InvalidInputError(f"{where}: expected a JSON object")
    return Operation.from_wire(item)


def loads_record(text: str, *, source: str = "<text>") -> ExecutionRecord:
    """Parse JSON (an API response, a list of pages or of events) or JSONL into an `ExecutionRecord`."""
    record = ExecutionRecord()
    stripped = text.strip()
    if not stripped:
        raise InvalidInputError(f"{source}: empty")
    try:
        data = json.loads(stripped)
    except ValueError:
        data = None
        for number, line in enumerate(_lines(stripped), 1):
            try:
                item = json.loads(line)
            except ValueError as exc:
                raise InvalidInputError(f"{source}:{number}: not JSON: {exc}") from None
            _classify(item, record, f"{source}:{number}")
    if isinstance(data, list):
        for i, item in enumerate(data):
            _classify(item, record, f"{source}[{i}]")
    elif isinstance(data, dict):
        _classify(data, record, source)
    elif data is not None:
        raise InvalidInputError(f"{source}: expected a JSON object or array")
    return record


def _lines(text: str) -> Iterator[str]:
    return (line for line in text.splitlines() if line.strip())


def load_record(path: str | Path) -> ExecutionRecord:
    """`loads_record` of a file."""
    path = Path(path)
    return loads_record(path.read_text(encoding="utf-8"), source=str(path))


def fetch_aws_history(arn: str, client: Any = None, *, page_size: int = 1000) -> ExecutionRecord:
    """Every event of ``arn`` from AWS (GetDurableExecutionHistory, paged, with execution data).

    ``client`` is a boto3 ``lambda`` client; one is created from the usual configuration when omitted.
    """
    if client is None:
        import boto3

        client = boto3.client("lambda")
    record = ExecutionRecord(arn=arn)
    marker: str | None = None
    while True:
        params: dict[str, Any] = {
            "DurableExecutionArn": arn,
            "IncludeExecutionData": True,
            "MaxItems": page_size,
        }
        if marker:
            params["Marker"] = marker
        page = client.get_durable_execution_history(**params)
        record.events.extend(Event.from_wire(e) for e in page.get("Events", ()))
        marker = page.get("NextMarker")
        if not marker:
            return record
