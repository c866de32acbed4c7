"""One test per requirement of the OpenTelemetry (44) and telemetry-record (1) suites, judged by the suites'
own validators. Declared gaps (`conformance.otel.expectations`) are strict xfails: a gap that starts
passing fails until its line goes. ``python -m conformance.otel`` prints the summary line."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.otel.expectations import NOT_IMPLEMENTED
from conformance.otel.runner import run_requirement
from conformance.otel.suites import TOTAL_REQUIREMENTS, requirement_files

IDS = list(requirement_files())


def _param(rid: str) -> object:
    reason = NOT_IMPLEMENTED.get(rid)
    if reason is None:
        return pytest.param(rid, id=rid)
    mark = pytest.mark.xfail(strict=True, reason=f"not implemented: {reason}")
    return pytest.param(rid, id=rid, marks=mark)


def test_the_suites_have_every_requirement() -> None:
    assert len(IDS) == TOTAL_REQUIREMENTS


def test_the_not_implemented_table_names_real_requirements() -> None:
    assert set(NOT_IMPLEMENTED) <= set(IDS)


@pytest.mark.parametrize("requirement_id", [_param(rid) for rid in IDS])
def test_requirement(requirement_id: str, tmp_path: Path) -> None:
    outcome = run_requirement(requirement_id, output_dir=tmp_path)
    assert outcome.covered, f"{requirement_id}: no handler in conformance/otel/handlers.py"
    assert outcome.passed, f"{requirement_id} ({outcome.description}):\n" + "\n".join(outcome.errors)
