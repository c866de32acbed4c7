"""The read-only calls: GetDurableExecutionHistory paging (both directions, any marker) and
ListDurableExecutionsByFunction's filters, on the in-memory and the SQLite store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eventflow.local import LocalService, MemoryStore, Store, VirtualClock
from eventflow.local.errors import InvalidParameterValueError
from eventflow.local.sqlite_store import SqliteStore

from .helpers import RawHandler, succeeded


def three_events(service: LocalService) -> str:
    """An execution whose history is ExecutionStarted, InvocationCompleted, ExecutionSucceeded."""
    service.register("fn", RawHandler(service, succeeded('"done"')))
    arn = service.start_execution("fn").arn
    service.run(arn)
    assert [e.event_id for e in service.history(arn)] == [1, 2, 3]
    return arn


def event_ids(service: LocalService, arn: str, **paging: Any) -> tuple[list[int], str | None]:
    events, marker = service.get_history(arn, **paging)
    return [e.event_id for e in events], marker


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("marker", ["3", "4", "5", "1000"])
def test_a_history_marker_at_or_past_the_end_gives_an_empty_last_page(reverse: bool, marker: str) -> None:
    service = LocalService()
    arn = three_events(service)
    assert event_ids(service, arn, marker=marker, reverse=reverse) == ([], None)
    assert event_ids(service, arn, marker=marker, reverse=reverse, max_items=1) == ([], None)


def test_history_pages_cover_every_event_once_in_both_directions() -> None:
    service = LocalService()
    arn = three_events(service)
    for reverse, expected in ((False, [1, 2, 3]), (True, [3, 2, 1])):
        seen: list[int] = []
        marker: str | None = None
        while True:
            ids, marker = event_ids(service, arn, max_items=2, marker=marker, reverse=reverse)
            seen += ids
            if marker is None:
                break
        assert seen == expected
    assert event_ids(service, arn, marker="2", reverse=True) == ([1], None)
    assert event_ids(service, arn, marker="2") == ([3], None)


@pytest.mark.parametrize("marker", ["-1", "-5", "x"])
def test_a_history_marker_the_service_never_hands_out_is_refused(marker: str) -> None:
    service = LocalService()
    arn = three_events(service)
    for reverse in (False, True):
        with pytest.raises(InvalidParameterValueError):
            service.get_history(arn, marker=marker, reverse=reverse)
    with pytest.raises(InvalidParameterValueError):
        service.list_executions("fn", marker=marker)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    store: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "flows.db")
    yield store
    store.close()


def test_list_executions_filters_by_qualifier(store: Store) -> None:
    service = LocalService(VirtualClock(), store=store)
    service.register("fn", RawHandler(service, succeeded("1"), succeeded("2")))
    arns = [service.start_execution("fn").arn for _ in range(2)]
    service.run_all()

    def listed(**filters: Any) -> list[str]:
        return [row.arn for row in service.list_executions("fn", **filters)[0]]

    assert listed() == arns
    assert listed(qualifier="$LATEST") == arns  # every local execution runs $LATEST
    assert listed(qualifier="7") == []
    assert listed(qualifier="prod", reverse=True) == []
    assert [row.version for row in service.list_executions("fn")[0]] == ["$LATEST", "$LATEST"]
