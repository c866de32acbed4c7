"""The OpenTelemetry (0.2.0) and telemetry-record (0.1.0) conformance suites, fetched like the core suite.

Both wheels are pip-downloaded into ``.cache/conformance/`` at first use (``--python-version 3.14
--only-binary=:all:``, as their metadata asks for 3.14 while their code runs on 3.11), unpacked, and
imported unmodified. The OpenTelemetry suite's S3 collector imports ``compression.zstd``, which the
``backports-zstd`` package provides before 3.14 (test extra). Requirement ids are the YAML file names:
``otel-invocation-1`` ... ``telemetry-1``.
"""

from __future__ import annotations

import importlib
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

from conformance import suite as core

OTEL = (
    "aws-durable-execution-conformance-tests-otel",
    "0.2.0",
    "aws_durable_execution_conformance_tests_otel",
)
TELEMETRY = (
    "aws-durable-execution-conformance-tests-telemetry",
    "0.1.0",
    "aws_durable_execution_conformance_tests_telemetry",
)
TOTAL_REQUIREMENTS = 45  # 44 OpenTelemetry + 1 telemetry record


def _root(spec: tuple[str, str, str]) -> Path:
    core.load()  # both extend the core suite and import it
    root = core.unpacked(*spec)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return root / spec[2]


@cache
def otel_module(name: str) -> ModuleType:
    _root(OTEL)
    return importlib.import_module(f"{OTEL[2]}.{name}")


@cache
def requirement_files() -> dict[str, Path]:
    """Requirement id -> YAML file, over both suites, in (suite, number) order."""
    found: dict[str, Path] = {}
    for spec in (OTEL, TELEMETRY):
        for path in (_root(spec) / "test_requirements").glob("*/*.yaml"):
            found[path.stem] = path

    def key(rid: str) -> tuple[str, int]:
        prefix, _, number = rid.rpartition("-")
        return prefix, int(number)

    return {rid: found[rid] for rid in sorted(found, key=key)}
