"""Shared settings of the reliability suite.

``EVENTFLOW_RELIABILITY_EXAMPLES`` scales every property test: unset, CI runs a size that fits in about a
minute for the whole suite; set it (e.g. to 2000) to run that many examples per property.

Every test here is marked ``slow`` (``pytest -m slow`` runs just this suite, ``pytest -m "not slow"`` the
rest; plain ``pytest`` runs both), so CI can run it as a step of its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from eventflow.local import engine

_HERE = os.path.dirname(__file__)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this directory ``slow`` (the hook sees the whole session's items)."""
    for item in items:
        if str(item.path).startswith(_HERE + os.sep):
            item.add_marker(pytest.mark.slow)


def examples(ci_default: int) -> int:
    """How many hypothesis examples a property runs: ``ci_default``, or the env var's value."""
    value = os.environ.get("EVENTFLOW_RELIABILITY_EXAMPLES")
    return int(value) if value else ci_default


@pytest.fixture
def patient_lambda(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Lambda re-invokes a crashed invocation a bounded number of times (2 in the local service). The
    crash tests inject several crashes, some in a row, to explore crash points, so they raise the bound:
    what is tested is that re-invocation repairs everything, not how patient Lambda is."""
    monkeypatch.setattr(engine, "MAX_LAMBDA_RETRIES", 50)
    yield


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the figures the reliability modules counted (workflows, crashes, faults, inputs, losses)."""
    import sys

    lines = []
    for name, module in sorted(sys.modules.items()):
        stats = getattr(module, "STATS", None)
        if (
            name.startswith(("reliability.", "tests.reliability."))
            and isinstance(stats, dict)
            and any(stats.values())
        ):
            lines.append(f"{name.rsplit('.', 1)[-1]}: {stats}")
    if lines:
        terminalreporter.section("eventflow reliability figures")
        for line in lines:
            terminalreporter.write_line(line)
