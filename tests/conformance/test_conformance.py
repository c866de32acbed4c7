"""One test per requirement of the AWS conformance suite (ids = requirement ids), judged by the suite itself.

Requirements listed in `conformance.expectations.NOT_IMPLEMENTED` are expected to fail, strictly: when one
starts passing, its test fails until the line is removed. Nothing is skipped: a requirement without a
handler fails as uncovered. ``python -m conformance`` runs the same requirements in parallel with a summary.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# PyYAML comes with the test extra: a missing one must fail the run, never skip the suite silently.
from conformance.expectations import NOT_IMPLEMENTED
from conformance.runner import run_requirement
from conformance.suite import TOTAL_REQUIREMENTS, requirement_ids

IDS = requirement_ids()


def _param(requirement_id: str) -> object:
    reason = NOT_IMPLEMENTED.get(requirement_id)
    if reason is None:
        return pytest.param(requirement_id, id=requirement_id)
    return pytest.param(
        requirement_id,
        id=requirement_id,
        marks=pytest.mark.xfail(strict=True, reason=f"not implemented: {reason}"),
    )


def test_the_suite_has_every_requirement() -> None:
    assert len(IDS) == TOTAL_REQUIREMENTS


def test_the_not_implemented_table_names_real_requirements() -> None:
    assert set(NOT_IMPLEMENTED) <= set(IDS)


@pytest.mark.parametrize("requirement_id", [_param(rid) for rid in IDS])
def test_requirement(requirement_id: str, tmp_path: Path) -> None:
    outcome = run_requirement(requirement_id, output_dir=tmp_path)
    assert outcome.covered, f"{requirement_id} is uncovered: no handler in conformance/handlers/"
    assert outcome.passed, f"{requirement_id} ({outcome.description}):\n" + "\n".join(outcome.errors)
