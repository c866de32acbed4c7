"""Human views of an execution: its history as a table, its operations as a tree, a timeline, or Mermaid.

Ids are shown as readable labels (`eventflow.testing.labels`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from eventflow.events.enums import TERMINAL_STATUSES, OperationStatus, OperationType
from eventflow.events.history import Event
from eventflow.events.wire import ErrorObject, Operation
from eventflow.testing.heap import with_frozen_heap
from eventflow.testing.labels import IdLabeler


def _summary(event: Event) -> str:
    details = event.details
    if details is None:
        return ""
    parts = []
    for key, given in details.to_boto_params().items():  # Python values: timestamps stay datetimes
        raw = given
        if isinstance(raw, dict) and "Truncated" in raw and "Payload" not in raw:
            raw = {"Payload": "null"}  # a null input or result: shown as the JSON it stands for
        value = raw["Payload"] if isinstance(raw, dict) and "Payload" in raw else raw
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items() if v is not None)
        if key == "RequestId" or (key.endswith("Timestamp") and key != "ScheduledEndTimestamp"):
            continue  # the event's own time and id say nothing a reader of the table needs
        text = value.strftime("%H:%M:%S") if isinstance(value, datetime) else str(value)
        parts.append(f"{key}={text if len(text) <= 60 else text[:57] + '...'}")
    return " ".join(parts)


HISTORY_HEADER = f"{'#':>3}  {'at':>7}  {'event':<22} {'op':<8} {'name':<18} details"


def history_line(event: Event, labeler: IdLabeler, start: datetime | None) -> str:
    """One event as a `history_table` row; ``start`` is when the execution started (for the time column)."""
    at = ""
    if event.event_timestamp and start:  # at most milliseconds, so real-clock offsets stay in the column
        seconds = f"{(event.event_timestamp - start).total_seconds():.3f}".rstrip("0").rstrip(".")
        at = f"+{seconds}s"
    is_operation = event.id and event.event_type and not str(event.event_type).startswith("Execution")
    op = labeler.label(event.id, event.parent_id) if is_operation else ""
    head = f"{event.event_id or '':>3}  {at:>7}  {event.event_type or '':<22} {op:<8}"
    return f"{head} {event.name or '':<18} {_summary(event)}".rstrip()


@with_frozen_heap
def history_table(events: Iterable[Event], labeler: IdLabeler | None = None) -> str:
    """One line per event: EventId, time since the execution started, type, operation label and name, and
    a short details summary."""
    labeler = labeler or IdLabeler()
    lines = [HISTORY_HEADER]
    start: datetime | None = None
    for event in events:
        start = start or event.event_timestamp
        lines.append(history_line(event, labeler, start))
    return "\n".join(lines)


# -- execution tree, timeline and Mermaid exports ---------------------------------------------------------
#
# Why: a history is a flat list, but an execution is a tree (child contexts, callbacks inside
# wait_for_callback, ...) that runs over time. These views show the operations nested by ParentId with
# status, attempts, durations and payload previews, as text for a terminal or as Mermaid for docs and
# reviews. They take operations, or history events (rebuilt into operations through the machines).

OperationsOrEvents = Sequence[Operation] | Sequence[Event]


@dataclass
class OperationNode:
    """One operation and the operations whose ParentId is its id."""

    operation: Operation
    label: str
    children: list[OperationNode] = field(default_factory=list)


def _operations(source: OperationsOrEvents) -> list[Operation]:
    items = list(source)
    if items and all(isinstance(item, Event) for item in items):
        from eventflow.testing.reconstruct import operations_from_events

        return operations_from_events(items)  # type: ignore[arg-type]
    return items  # type: ignore[return-value]


def build_tree(source: OperationsOrEvents, labeler: IdLabeler | None = None) -> list[OperationNode]:
    """The operations as a forest: the EXECUTION at the top with the root context's operations under it (and
    any operation whose parent is unknown at the top too)."""
    from eventflow.testing.lines import op_label

    labeler = labeler or IdLabeler()
    nodes: dict[str, OperationNode] = {}
    roots: list[OperationNode] = []
    operations = _operations(source)
    for op in operations:
        label = "execution" if op.type == OperationType.EXECUTION else op_label(labeler, op.id, op.parent_id)
        nodes[op.id] = OperationNode(op, label)
    execution = next((nodes[op.id] for op in operations if op.type == OperationType.EXECUTION), None)
    for op in operations:
        if op.type == OperationType.EXECUTION:
            roots.append(nodes[op.id])
            continue
        parent = nodes.get(op.parent_id) if op.parent_id else execution
        (parent.children if parent else roots).append(nodes[op.id])
    return roots


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def _duration(op: Operation) -> str:
    seconds = _seconds(op.start_timestamp, op.end_timestamp)
    if seconds is None:
        return "running" if op.status not in TERMINAL_STATUSES else "-"
    return f"{seconds:.3f}".rstrip("0").rstrip(".") + "s"


def _attempts(op: Operation) -> int | None:
    details = op.step_details
    return details.attempt if details is not None and details.attempt else None


def _outcome(op: Operation) -> tuple[str | None, ErrorObject | None]:
    for details in (op.step_details, op.context_details, op.callback_details, op.chained_invoke_details):
        if details is not None:
            return details.result, details.error
    return None, None


def _preview(op: Operation, width: int) -> str:
    from eventflow.testing.normalize import Normalizer

    result, error = _outcome(op)
    if error is not None:
        text = f"{error.error_type}: {error.error_message}"
        return "! " + (text if len(text) <= width else text[: width - 3] + "...")
    if result is not None:
        return "-> " + Normalizer(timestamps=False).payload(result, limit=width)
    return ""


def _head(node: OperationNode) -> str:
    """``root/2 step``: the label and construct (just ``execution`` for the EXECUTION)."""
    from eventflow.testing.lines import kind_of

    op = node.operation
    if op.type == OperationType.EXECUTION:
        return node.label
    return f"{node.label} {kind_of(op.type, op.sub_type)}"


def _node_line(node: OperationNode, width: int) -> str:
    op = node.operation
    parts = [_head(node) + (f' "{op.name}"' if op.name is not None else ""), op.status.value, _duration(op)]
    attempts = _attempts(op)
    if attempts is not None and op.type == OperationType.STEP:
        parts.append(f"attempts={attempts}")
    preview = _preview(op, width)
    if preview:
        parts.append(preview)
    return "  ".join(parts)


@dataclass(frozen=True)
class Pause:
    """One stretch of time an execution was paused (PauseDurableExecution to ResumeDurableExecution)."""

    start: datetime | None
    end: datetime | None  # None: still paused, or ended while paused
    reason: str | None


def pauses(source: OperationsOrEvents) -> list[Pause]:
    """The pauses a history records (none for operations, which do not record them)."""
    found: list[Pause] = []
    start: Event | None = None
    for item in source:
        if not isinstance(item, Event):
            return []
        if item.execution_paused_details is not None:
            start = item
        elif item.execution_resumed_details is not None and start is not None:
            found.append(_pause(start, item.event_timestamp))
            start = None
    if start is not None:
        found.append(_pause(start, None))
    return found


def _pause(start: Event, end: datetime | None) -> Pause:
    details = start.execution_paused_details
    reason = details.reason.payload if details is not None and details.reason is not None else None
    return Pause(start.event_timestamp, end, reason)


def _pause_summary(stretches: Sequence[Pause]) -> str:
    """``paused 2x`` (and ``now paused: why`` while the last pause lasts), for the execution's line."""
    text = f"paused {len(stretches)}x"
    last = stretches[-1]
    if last.end is None:
        text += " (now paused" + (f": {last.reason})" if last.reason else ")")
    return text


@with_frozen_heap
def execution_tree(source: OperationsOrEvents, *, width: int = 40, labeler: IdLabeler | None = None) -> str:
    """The execution as an indented tree: label, construct, name, status, duration, attempts, payload; from
    a history, the execution's line also says how often it was paused."""
    lines: list[str] = []
    stretches = pauses(source)

    def walk(node: OperationNode, prefix: str, last: bool, top: bool) -> None:
        branch = "" if top else ("└─ " if last else "├─ ")
        line = _node_line(node, width)
        if stretches and node.operation.type == OperationType.EXECUTION:
            line += "  " + _pause_summary(stretches)
        lines.append(prefix + branch + line)
        child_prefix = prefix if top else prefix + ("   " if last else "│  ")
        for i, child in enumerate(node.children):
            walk(child, child_prefix, i == len(node.children) - 1, False)

    for root in build_tree(source, labeler):
        walk(root, "", True, True)
    return "\n".join(lines) + "\n"


def _flatten(nodes: Iterable[OperationNode], depth: int = 0) -> Iterator[tuple[int, OperationNode]]:
    for node in nodes:
        yield depth, node
        yield from _flatten(node.children, depth + 1)


@with_frozen_heap
def execution_timeline(
    source: OperationsOrEvents, *, width: int = 50, labeler: IdLabeler | None = None
) -> str:
    """One bar per operation on a shared time axis (offsets from the execution's start)."""
    rows = list(_flatten(build_tree(source, labeler)))
    starts = [n.operation.start_timestamp for _, n in rows if n.operation.start_timestamp]
    if not starts:
        return "(no timestamps)\n"
    origin = min(starts)
    ends = [n.operation.end_timestamp or n.operation.start_timestamp for _, n in rows]
    horizon = max((_seconds(origin, e) or 0.0) for e in ends if e) or 1.0
    names = [
        "  " * depth + _head(n) + (f' "{n.operation.name}"' if n.operation.name is not None else "")
        for depth, n in rows
    ]
    pad = max(len(name) for name in names)
    lines = []
    for name, (_, node) in zip(names, rows, strict=True):
        op = node.operation
        begin = _seconds(origin, op.start_timestamp) or 0.0
        end = _seconds(origin, op.end_timestamp) if op.end_timestamp else horizon
        first = min(width - 1, int(begin / horizon * width))
        last = max(first + 1, min(width, round((end or begin) / horizon * width)))
        bar = " " * first + ("█" if op.end_timestamp else "▒") * (last - first)
        lines.append(f"{name:<{pad}} |{bar:<{width}}| +{begin:g}s {_duration(op)} {op.status.value}")
    for stretch in pauses(source):  # one row per pause, on the same axis
        begin = _seconds(origin, stretch.start) or 0.0
        end = _seconds(origin, stretch.end) if stretch.end else horizon
        first = min(width - 1, int(begin / horizon * width))
        last = max(first + 1, min(width, round((end or begin) / horizon * width)))
        bar = " " * first + "░" * (last - first)
        until = f"{(end or begin) - begin:g}s" if stretch.end else "still paused"
        row = f"{'paused':<{pad}} |{bar:<{width}}| +{begin:g}s {until} {stretch.reason or ''}"
        lines.append(row.rstrip())
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "'").replace("#", "").replace(":", " ").replace(";", ",")


@with_frozen_heap
def mermaid_tree(source: OperationsOrEvents, *, width: int = 30, labeler: IdLabeler | None = None) -> str:
    """A Mermaid ``flowchart TD`` of the execution tree, nodes coloured by status."""
    lines = ["flowchart TD"]
    ids: dict[int, str] = {}
    flat = list(_flatten(build_tree(source, labeler)))
    for number, (_, node) in enumerate(flat):
        ids[id(node)] = f"op{number}"
    for _, node in flat:
        text = _mermaid_text(_node_line(node, width))
        lines.append(f'    {ids[id(node)]}["{text}"]:::{node.operation.status.value.lower()}')
        lines.extend(f"    {ids[id(node)]} --> {ids[id(child)]}" for child in node.children)
    lines += [
        "    classDef succeeded fill:#d4edda,stroke:#28a745",
        "    classDef failed fill:#f8d7da,stroke:#dc3545",
        "    classDef timed_out fill:#f8d7da,stroke:#dc3545",
        "    classDef started fill:#fff3cd,stroke:#ffc107",
        "    classDef pending fill:#fff3cd,stroke:#ffc107",
    ]
    return "\n".join(lines) + "\n"


@with_frozen_heap
def mermaid_gantt(
    source: OperationsOrEvents, *, title: str = "execution", labeler: IdLabeler | None = None
) -> str:
    """A Mermaid ``gantt`` timeline: one task per operation, in one section per top-level operation."""
    from eventflow.events._base import timestamp_to_epoch_ms

    lines = ["gantt", f"    title {_mermaid_text(title)}", "    dateFormat x", "    axisFormat %H:%M:%S"]
    for number, (depth, node) in enumerate(_flatten(build_tree(source, labeler))):
        op = node.operation
        if depth <= 1:  # the execution, then one section per operation of the root context
            title_text = node.label + (f" {op.name}" if op.name is not None else "")
            lines.append(f"    section {_mermaid_text(title_text)}")
        if op.start_timestamp is None:
            continue
        start = timestamp_to_epoch_ms(op.start_timestamp)
        end = timestamp_to_epoch_ms(op.end_timestamp) if op.end_timestamp else start + 1
        if op.status in (OperationStatus.FAILED, OperationStatus.TIMED_OUT):
            status = "crit, "
        elif op.status not in TERMINAL_STATUSES:
            status = "active, "
        else:
            status = "done, "
        name = _head(node) + (f" {op.name}" if op.name is not None else "")
        lines.append(f"    {_mermaid_text(name)} :{status}t{number}, {start}, {max(end, start + 1)}")
    return "\n".join(lines) + "\n"


def machine_diagrams() -> dict[str, str]:
    """Each operation type's state machine as Mermaid, drawn from its transitions definition."""
    from eventflow.machine.diagrams import to_mermaid

    return {op_type.value: to_mermaid(op_type) for op_type in OperationType}
