"""Checkpoint sequences and histories as stable text: one update or event per line.

Why: a reviewer reads ``SUCCEED root/2 step "charge" result={"ok":true}`` at a glance, and a line-level
diff of two such texts points at the one operation that changed. Operation ids become labels from
`IdLabeler` (``root/3/1`` is the first operation inside the root's third), volatile values go through a
`Normalizer`, payloads are decoded -- or, for tests of the wire bytes themselves, shown exactly as written
(``verbatim``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from eventflow.events.emitted import AnyUpdate
from eventflow.events.enums import EventType, OperationType
from eventflow.events.history import Event, EventError, EventInput, EventResult, RetryDetails
from eventflow.events.wire import ErrorObject
from eventflow.machine.fold import EVENT_TRIGGERS
from eventflow.testing.heap import with_frozen_heap
from eventflow.testing.labels import IdLabeler
from eventflow.testing.normalize import Normalizer

__all__ = [
    "checkpoint_lines",
    "describe",
    "history_lines",
    "kind_of",
    "op_label",
    "render_checkpoints",
    "render_history",
]

_KINDS: dict[str | None, str] = {
    "Step": "step",
    "Wait": "wait",
    "RunInChildContext": "child",
    "Callback": "callback",
    "WaitForCallback": "wait_for_callback",
    "ChainedInvoke": "invoke",
    "Map": "map",
    "MapIteration": "map_item",
    "Parallel": "parallel",
    "ParallelBranch": "branch",
    "WaitForCondition": "wait_for_condition",
    "Compensation": "compensation",
}


# The type each sub-type is written with; a kind names both only when the pair is one of these.
_TYPES: dict[str, OperationType] = {
    "Step": OperationType.STEP,
    "Wait": OperationType.WAIT,
    "RunInChildContext": OperationType.CONTEXT,
    "Callback": OperationType.CALLBACK,
    "WaitForCallback": OperationType.CONTEXT,
    "ChainedInvoke": OperationType.CHAINED_INVOKE,
    "Map": OperationType.CONTEXT,
    "MapIteration": OperationType.CONTEXT,
    "Parallel": OperationType.CONTEXT,
    "ParallelBranch": OperationType.CONTEXT,
    "WaitForCondition": OperationType.STEP,
    "Compensation": OperationType.CONTEXT,
}
_PARENT_LABEL = re.compile(r"(.+)(?:/\d+|\[\d+\])")  # "2/1" lies under "2", "1[0]" under "1", "3" under none


def kind_of(op_type: str | None, sub_type: str | None) -> str:
    """A short construct name: the sub-type's (``wait_for_callback``) or else the type's (``step``)."""
    if sub_type in _KINDS:
        return _KINDS[sub_type]
    return str(op_type).lower() if op_type is not None else "-"


def op_label(labeler: IdLabeler, op_id: str | None, parent_id: str | None) -> str:
    """``root/2`` for the root's second operation; an id no position explains is shown shortened."""
    if op_id is None:
        return "-"
    label = labeler.label(op_id, parent_id)
    if label == op_id:
        return op_id[:12] if len(op_id) > 12 else op_id
    return f"root/{label}"


def describe(
    labeler: IdLabeler,
    op_id: str | None,
    parent_id: str | None,
    op_type: str | None,
    sub_type: str | None,
    *,
    name: str | None,
) -> str:
    """``root/2 step "charge"``: the operation's label, construct and name."""
    text = f"{op_label(labeler, op_id, parent_id)} {kind_of(op_type, sub_type)}"
    return f'{text} "{name}"' if name is not None else text


def _error(error: ErrorObject | None, normalizer: Normalizer | None) -> str:
    """``error=Type: message``, through ``normalizer`` unless it is None (shown as written)."""
    if error is None:
        return "error=-"
    text = f"{error.error_type or '-'}: {error.error_message or ''}".rstrip()
    return "error=" + (normalizer.text(text) if normalizer is not None else text)


def _options(update: AnyUpdate) -> list[str]:
    parts: list[str] = []
    for options in (
        update.step_options,
        update.wait_options,
        update.callback_options,
        update.context_options,
        update.chained_invoke_options,
    ):
        if options is not None:
            parts.extend(f"{k}={v}" for k, v in options.to_wire().items())
    return parts


def _unimplied(update: AnyUpdate, labeler: IdLabeler) -> list[str]:
    """What an update's label and kind leave out: ``parent=`` and ``type=``, each only when it is unusual.

    A label implies the parent (``root/2/1`` lies under ``root/2``, ``root/1[0]`` under ``root/1``), so
    ``parent=root/1`` (``parent=-`` for none) is shown only when the update names another one -- a flat map's
    operations keep their nested ids but name the map as their parent. A kind implies the type and sub-type
    (``step`` is STEP/Step, ``wait_for_condition`` STEP/WaitForCondition), so ``type=TYPE/SubType`` is shown
    only when the update has no sub-type, an unknown one, or one written with another type.
    """
    parts: list[str] = []
    label = labeler.label(update.id, update.parent_id)
    if label == update.id:  # not found by position: nothing is implied, any parent is shown
        unusual_parent = update.parent_id is not None
    else:
        position = _PARENT_LABEL.fullmatch(label)
        implied = position.group(1) if position else None
        unusual_parent = (None if update.parent_id is None else labeler.label(update.parent_id)) != implied
    if unusual_parent:
        parts.append(f"parent={op_label(labeler, update.parent_id, None)}")
    if update.sub_type is None or _TYPES.get(update.sub_type) != update.type:
        parts.append(f"type={update.type.value}/{update.sub_type or '-'}")
    return parts


@with_frozen_heap
def checkpoint_lines(
    batches: Iterable[Sequence[AnyUpdate]],
    labeler: IdLabeler | None = None,
    normalizer: Normalizer | None = None,
    *,
    verbatim: bool = False,
) -> list[str]:
    """One line per update: ``#batch ACTION label kind "name" [parent=..] [type=..] [payload=..] [error=..]
    [options]``, ``parent=`` and ``type=`` only where the label and kind do not imply them (`_unimplied`).

    Payloads are decoded and shown as compact JSON, and volatile values in payloads, errors and options become
    the ``normalizer``'s placeholders. With ``verbatim`` they are shown exactly as written instead (the
    ``normalizer`` is not used): for tests that assert the bytes themselves -- key order, whitespace, the
    typed envelope, a value that would otherwise read as a placeholder.
    """
    labeler = labeler or IdLabeler()
    normalizer = normalizer or Normalizer()
    lines: list[str] = []
    for number, batch in enumerate(batches, 1):
        for update in batch:
            if update.type == OperationType.EXECUTION:
                what = "execution"
            else:
                what = describe(
                    labeler, update.id, update.parent_id, update.type, update.sub_type, name=update.name
                )
            parts = [f"#{number}", f"{update.action.value:<7}", what]
            if update.type != OperationType.EXECUTION:
                parts.extend(_unimplied(update, labeler))
            if update.payload is not None:
                payload = update.payload if verbatim else normalizer.payload(update.payload)
                parts.append("payload=" + payload)
            if update.error is not None:
                parts.append(_error(update.error, None if verbatim else normalizer))
            options = _options(update)
            parts.extend(options if verbatim else [normalizer.text(p) for p in options])
            lines.append(" ".join(parts))
    return lines


@with_frozen_heap
def render_operations(
    batches: Iterable[Sequence[AnyUpdate]],
    labeler: IdLabeler | None = None,
    normalizer: Normalizer | None = None,
    *,
    verbatim: bool = False,
) -> str:
    """The checkpoints per operation: each operation's updates in the order they were sent, without the
    call numbers, operations in the order of their labels (``root/2`` before ``root/10``).

    What stays the same when operations that run side by side (map and parallel items on threads, steps
    under ``asyncio.gather``) share checkpoint calls by timing: each operation's own sequence does not
    depend on which call carried it. `render_checkpoints` shows the calls.
    """
    labeler = labeler or IdLabeler()
    batches = [list(batch) for batch in batches]
    updates = [update for batch in batches for update in batch]
    lines = checkpoint_lines(batches, labeler, normalizer, verbatim=verbatim)
    grouped: dict[str, list[str]] = {}
    for update, line in zip(updates, lines, strict=True):
        grouped.setdefault(update.id, []).append(line.split(" ", 1)[1])
    by_label = {op_id: op_label(labeler, op_id, None) for op_id in grouped}
    order = sorted(grouped, key=lambda op_id: _natural(by_label[op_id]))
    return "".join(line + "\n" for op_id in order for line in grouped[op_id])


def _natural(label: str) -> list[tuple[int, int | str]]:
    """A sort key reading the numbers in a label as numbers."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", label) if part]


@with_frozen_heap
def render_checkpoints(
    batches: Iterable[Sequence[AnyUpdate]],
    labeler: IdLabeler | None = None,
    normalizer: Normalizer | None = None,
    *,
    verbatim: bool = False,
) -> str:
    """`checkpoint_lines` joined, ending with a newline."""
    return "".join(
        line + "\n" for line in checkpoint_lines(batches, labeler, normalizer, verbatim=verbatim)
    )


def _details(event: Event, normalizer: Normalizer) -> list[str]:
    details = event.details
    if details is None:
        return []
    parts: list[str] = []
    for key, value in details:  # pydantic models iterate as (field name, value)
        if value is None:
            continue
        parts.append(_detail(key, value, normalizer))
    return parts


def _detail(key: str, value: Any, normalizer: Normalizer) -> str:
    if isinstance(value, EventInput | EventResult):
        if value.truncated and value.payload is None:
            return f"{key}=<truncated>"
        return f"{key}={normalizer.payload(value.payload)}"
    if isinstance(value, EventError):
        return _error(value.payload, normalizer) if not value.truncated else "error=<truncated>"
    if isinstance(value, RetryDetails):
        parts = [f"attempt={value.current_attempt}"] if value.current_attempt is not None else []
        if value.next_attempt_delay_seconds is not None:
            parts.append(f"retry_in={value.next_attempt_delay_seconds}s")
        return " ".join(parts)
    if isinstance(value, datetime):
        return f"{key}={normalizer.time(value)}"
    if key == "callback_id":
        return f"{key}={normalizer.placeholder('callback', str(value))}"
    if key == "request_id":
        return f"{key}={normalizer.placeholder('request', str(value))}"
    return f"{key}={normalizer.text(str(value))}"


@with_frozen_heap
def history_lines(
    events: Iterable[Event], labeler: IdLabeler | None = None, normalizer: Normalizer | None = None
) -> list[str]:
    """One line per event: ``EventId +offset EventType label kind "name" details``."""
    labeler = labeler or IdLabeler()
    normalizer = normalizer or Normalizer()
    events = list(events)
    for event in events:  # callback ids first, so a payload that carries one reads as its placeholder
        details = event.callback_started_details
        if details is not None:
            normalizer.register("callback", details.callback_id)
    lines: list[str] = []
    for event in events:
        kind = event.event_type
        if kind is None:
            what = "-"
        elif kind.value.startswith("Execution") or kind is EventType.INVOCATION_COMPLETED:
            what = ""
        else:
            op_type = _event_op_type(kind)
            what = describe(labeler, event.id, event.parent_id, op_type, event.sub_type, name=event.name)
        parts = [
            f"{event.event_id if event.event_id is not None else '-':>3}",
            f"{normalizer.time(event.event_timestamp):<8}",
            f"{kind.value if kind else '-':<22}",
        ]
        if what:
            parts.append(what)
        parts.extend(p for p in _details(event, normalizer) if p)
        lines.append(" ".join(parts).rstrip())
    return lines


@with_frozen_heap
def render_history(
    events: Iterable[Event], labeler: IdLabeler | None = None, normalizer: Normalizer | None = None
) -> str:
    """`history_lines` joined, ending with a newline."""
    return "".join(line + "\n" for line in history_lines(events, labeler, normalizer))


def _event_op_type(kind: EventType) -> OperationType | None:
    feed = EVENT_TRIGGERS.get(kind)
    return feed[0] if feed else None
