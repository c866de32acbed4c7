"""Reading executions from outside: GetDurableExecution, GetDurableExecutionHistory and
ListDurableExecutionsByFunction. Nothing here changes state.

History events are kept as compact records (see `history.py`) and built into wire `Event` models only
here, a page at a time. Page markers are positions in the list being read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from eventflow.events.history import Event
from eventflow.events.wire import DurableConfig, GetDurableExecutionResponse, PauseDetails
from eventflow.local import history
from eventflow.local.execution_start import execution_deadline
from eventflow.local.model import ExecutionSummary
from eventflow.local.state import ServiceState, page_start

DEFAULT_PAGE_ITEMS = 1000
"""Events or executions per page when the caller does not say."""

T = TypeVar("T")


@dataclass(frozen=True)
class ExecutionFilter:
    """Which executions ListDurableExecutionsByFunction lists (None or empty: no condition)."""

    name: str | None = None
    statuses: Sequence[str] | None = None
    started_after: datetime | None = None
    started_before: datetime | None = None
    version: str | None = None  # the Qualifier: only executions of this function version

    def admits(self, row: ExecutionSummary) -> bool:
        return (
            (self.name is None or row.name == self.name)
            and (self.version is None or row.version == self.version)
            and (not self.statuses or row.status in self.statuses)
            and (self.started_after is None or row.started_at >= self.started_after)
            and (self.started_before is None or row.started_at <= self.started_before)
        )


class Queries:
    """Answers the read-only API calls."""

    def __init__(self, state: ServiceState) -> None:
        self._state = state

    def history(self, arn: str) -> list[Event]:
        """The execution's whole history."""
        with self._state.lock:
            return [history.to_event(item) for item in self._state.get(arn).events]

    def history_page(
        self, arn: str, marker: str | None, count: int, reverse: bool, include_data: bool
    ) -> tuple[list[Event], str | None]:
        """GetDurableExecutionHistory: ``count`` events from ``marker`` (see `LocalService.get_history`)."""
        with self._state.lock:
            page, next_marker = page_of(self._state.get(arn).events, marker, count, reverse)
            built = [history.to_event(item) for item in page]
            if not include_data:
                built = [_without_data(event) for event in built]
            return built, next_marker

    def describe(self, arn: str, *, include_data: bool = True) -> GetDurableExecutionResponse:
        """GetDurableExecution."""
        with self._state.lock:
            e = self._state.get(arn)
            return GetDurableExecutionResponse(
                durable_execution_arn=e.arn,
                durable_execution_name=e.name,
                function_arn=e.function_arn,
                input_payload=e.input_payload if include_data else None,
                result=e.result if include_data else None,
                error=e.error,
                start_timestamp=e.started_at,
                status=e.status,
                end_timestamp=e.ended_at,
                version=e.version,
                execution_data_included=include_data,
                durable_config=DurableConfig(
                    retention_period_in_days=e.retention_days, execution_timeout=e.timeout_seconds
                ),
                pause_details=(
                    None
                    if e.pause is None
                    else PauseDetails(
                        pause_request_timestamp=e.pause.requested_at,
                        reason=e.pause.reason,
                        execution_timeout_paused=e.pause.timeout_paused,
                    )
                ),
                expected_execution_timeout_timestamp=execution_deadline(e),
            )

    def list_executions(
        self,
        function_name: str | None,
        where: ExecutionFilter,
        *,
        reverse: bool = False,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> tuple[list[ExecutionSummary], str | None]:
        """ListDurableExecutionsByFunction (see `LocalService.list_executions`)."""
        with self._state.lock:
            rows = [row for row in self._state.store.list_executions(function_name) if where.admits(row)]
        return page_of(rows, marker, max_items or DEFAULT_PAGE_ITEMS, reverse)


def page_of(items: Sequence[T], marker: str | None, count: int, reverse: bool) -> tuple[list[T], str | None]:
    """One page of ``items`` read oldest first (newest first if ``reverse``): ``count`` of them from the
    position ``marker`` stands for, and the marker of the next page (None after the last one). A marker at or
    past the end gives an empty last page, whichever the direction."""
    start = page_start(marker)
    total = len(items)
    end = min(start + count, total)
    if start >= end:
        page: list[T] = []
    elif reverse:  # position p, newest first, is index total - 1 - p
        page = list(items[total - end : total - start])[::-1]
    else:
        page = list(items[start:end])
    return page, (str(end) if end < total else None)


def _without_data(event: Event) -> Event:
    """The event with input/result payloads and error payloads left out, marked truncated."""
    details = event.details
    if details is None:
        return event
    changes: dict[str, Any] = {}
    for name in ("input", "result", "error"):
        value = getattr(details, name, None)
        if value is not None and getattr(value, "payload", None) is not None:
            changes[name] = value.model_copy(update={"payload": None, "truncated": True})
    if not changes:
        return event
    field = next(f for f in type(event).model_fields if getattr(event, f) is details)
    return event.model_copy(update={field: details.model_copy(update=changes)})
