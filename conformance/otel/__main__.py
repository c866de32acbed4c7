"""``python -m conformance.otel [ids...]``: run the OpenTelemetry and telemetry-record requirements, a line
each, then exactly ``otel-conformance: P passed, F failed, X not implemented, U uncovered of 45``."""

from __future__ import annotations

import argparse
import sys

from conformance.otel.runner import run_requirement
from conformance.otel.suites import TOTAL_REQUIREMENTS, requirement_files
from conformance.runner import FAILED, NOT_IMPLEMENTED_STATUS, PASSED, UNCOVERED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.otel")
    parser.add_argument("ids", nargs="*", help="requirement ids (default: all)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the errors of failures")
    args = parser.parse_args(argv)
    ids = args.ids or list(requirement_files())
    counts = {PASSED: 0, FAILED: 0, NOT_IMPLEMENTED_STATUS: 0, UNCOVERED: 0}
    for rid in ids:
        outcome = run_requirement(rid)
        status = outcome.status
        counts[status] += 1
        print(f"{rid:22} {status:16} {outcome.description or ''}"[:150])
        if args.verbose and status == FAILED:
            print("\n".join("    " + line for e in outcome.errors for line in e.splitlines()[:40]))
    total = TOTAL_REQUIREMENTS if not args.ids else len(ids)
    print(
        f"otel-conformance: {counts[PASSED]} passed, {counts[FAILED]} failed, "
        f"{counts[NOT_IMPLEMENTED_STATUS]} not implemented, {counts[UNCOVERED]} uncovered of {total}"
    )
    return 0 if counts[FAILED] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
