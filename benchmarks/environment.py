"""What the numbers were measured on: machine, interpreter, package versions.

A ratio only means something next to the machine it came from, so every report carries this.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

OFFICIAL_MODULES = ("aws_durable_execution_sdk_python", "aws_durable_execution_sdk_python_testing")
OFFICIAL_DISTRIBUTIONS = ("aws-durable-execution-sdk-python", "aws-durable-execution-sdk-python-testing")


def official_available() -> bool:
    """Whether the official SDK and its testing library are importable (the ``bench`` extra)."""
    return all(importlib.util.find_spec(name) is not None for name in OFFICIAL_MODULES)


def _version(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list[float] | None:
    """The 1/5/15-minute load averages: above the CPU count, wall-clock figures are inflated by others."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def describe() -> dict[str, Any]:
    """The machine and software a run measured."""
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "load_average_at_start": load_average(),
        "packages": {
            name: _version(name)
            for name in ("eventflow", "pydantic", "pydantic-core", *OFFICIAL_DISTRIBUTIONS)
        },
    }
