"""``python -m conformance``: run every requirement of the AWS conformance suite against eventflow.

Prints one line per requirement, then exactly
``conformance: P passed, F failed, X not implemented, U uncovered of 155``, and writes a JSON report (the
suite's own report schema, via its `Report` model and JSON writer) plus each execution's history. Runs the
requirements in parallel worker processes (each worker runs one requirement at a time, because the suite's
validator keeps its clock in a module global). Exit status: 0 when nothing failed, 1 otherwise (a failure,
an uncovered requirement, or a not-implemented declaration that now passes and must be removed).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from conformance import suite as suite_module
from conformance.runner import FAILED, NOT_IMPLEMENTED_STATUS, PASSED, UNCOVERED, Outcome, run_requirement

DEFAULT_OUTPUT = suite_module.CACHE_DIR / "output"


def _run(args: tuple[str, str]) -> Outcome:
    requirement_id, output_dir = args
    return run_requirement(requirement_id, output_dir=Path(output_dir) / "histories")


def _line(outcome: Outcome) -> str:
    text = f"{outcome.requirement_id:<6} {outcome.status:<15} {outcome.suite:<19} {outcome.description or ''}"
    if outcome.status == NOT_IMPLEMENTED_STATUS:
        text += f"\n       not implemented: {outcome.reason}"
    elif outcome.status == FAILED:
        first = next((e for e in outcome.errors if not e.startswith("validator output")), "")
        text += "\n       " + first.strip().replace("\n", "\n       ")[:800]
    if outcome.stale_declaration:
        text += "\n       passes, but is declared not implemented in conformance/expectations.py: remove it"
    return text


def _report(outcomes: Sequence[Outcome], started_at: str, duration: float, path: Path) -> Path:
    """Write the suite's JSON report (schema 1.0) for this run."""
    suite = suite_module.load()
    report_model = suite.report
    statuses = {
        PASSED: report_model.ReportStatus.PASSED,
        FAILED: report_model.ReportStatus.FAILED,
        NOT_IMPLEMENTED_STATUS: report_model.ReportStatus.NOT_IMPLEMENTED,
        UNCOVERED: report_model.ReportStatus.UNCOVERED,
    }
    report = report_model.Report(
        run=report_model.RunMetadata(
            name="eventflow-local",
            template="conformance/registry.py",
            region="local",
            language="python (eventflow)",
            suites=["all"],
            started_at=started_at,
            finished_at=datetime.now(UTC).isoformat(),
            duration_seconds=duration,
        ),
        warnings=[
            f"{o.requirement_id} passes but is declared not implemented in conformance/expectations.py"
            for o in outcomes
            if o.stale_declaration
        ],
    )
    for o in outcomes:
        status = statuses[o.status]
        if o.status == FAILED and o.optional:
            status = report_model.ReportStatus.OPTIONAL_FAILED
        report.add(
            report_model.ReportEntry(
                id=o.requirement_id,
                suite=o.suite,
                status=status,
                function=o.function,
                description=o.description,
                reason=o.reason if o.status == NOT_IMPLEMENTED_STATUS else None,
                errors=list(o.errors) if not o.passed else [],
                duration_seconds=o.duration_seconds,
            )
        )
    return Path(suite.reporters.write_report(report, "json", str(path.with_suffix(""))))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance", description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*", help="requirement ids to run (default: all 155)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="parallel worker processes")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="report and histories directory")
    args = parser.parse_args(argv)

    all_ids = suite_module.requirement_ids()
    unknown = [rid for rid in args.ids if rid not in all_ids]
    if unknown:
        parser.error(f"unknown requirement ids: {', '.join(unknown)}")
    ids = list(args.ids) or list(all_ids)
    args.output.mkdir(parents=True, exist_ok=True)

    started_at = datetime.now(UTC).isoformat()
    began = time.monotonic()
    jobs = [(rid, str(args.output)) for rid in ids]
    if args.workers <= 1:
        outcomes = [_run(job) for job in jobs]
        for outcome in outcomes:
            print(_line(outcome), flush=True)
    else:
        outcomes = []
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            for outcome in pool.map(_run, jobs):  # in requirement order, as they complete
                print(_line(outcome), flush=True)
                outcomes.append(outcome)
    duration = time.monotonic() - began

    path = _report(outcomes, started_at, duration, args.output / "report.json")
    counts = {
        status: sum(1 for o in outcomes if o.status == status)
        for status in (PASSED, FAILED, NOT_IMPLEMENTED_STATUS, UNCOVERED)
    }
    print(f"report: {path} ({duration:.1f} s)")
    print(
        f"conformance: {counts[PASSED]} passed, {counts[FAILED]} failed, "
        f"{counts[NOT_IMPLEMENTED_STATUS]} not implemented, {counts[UNCOVERED]} uncovered "
        f"of {suite_module.TOTAL_REQUIREMENTS}"
    )
    stale = any(o.stale_declaration for o in outcomes)
    return 1 if counts[FAILED] or counts[UNCOVERED] or stale else 0


if __name__ == "__main__":
    sys.exit(main())
