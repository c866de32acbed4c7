"""Human views of an execution: its history as a table, with ids shown as readable labels."""

from __future__ import annotations

from collections.abc import Iterable

from eventflow.events.history import Event
from eventflow.testing.labels import IdLabeler


def _summary(event: Event) -> str:
    details = event.details
    if details is None:
        return ""
    data = details.to_wire()
    parts = []
    for key, value in data.items():
        if isinstance(value, dict) and "Payload" in value:
            value = value["Payload"]
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items() if v is not None)
        text = str(value)
        parts.append(f"{key}={text if len(text) <= 60 else text[:57] + '...'}")
    return " ".join(parts)


def history_table(events: Iterable[Event], labeler: IdLabeler | None = None) -> str:
    """One line per event: EventId, type, operation label and name, and a short details summary."""
    labeler = labeler or IdLabeler()
    lines = [f"{'#':>3}  {'event':<22} {'op':<8} {'name':<18} details"]
    for event in events:
        op = labeler.label(event.id, event.parent_id) if event.id and event.event_type and not str(
            event.event_type).startswith("Execution") else ""
        lines.append(
            f"{event.event_id or '':>3}  {event.event_type or '':<22} {op:<8} {event.name or '':<18} "
            f"{_summary(event)}".rstrip()
        )
    return "\n".join(lines)
