"""The AWS conformance suite itself: fetched from PyPI at test time, imported from the unpacked wheel.

Why fetch instead of vendoring: the suite is the external, objective measure. Its YAML requirements and its
validator (history matcher, placeholder binding, result validation, callback-action driving, log validator)
are used exactly as published, never copied or edited, so a pass here means what it means on AWS.

The wheel declares ``Requires-Python >=3.14`` but its code runs on 3.11, so it is downloaded with
``--python-version 3.14 --only-binary=:all:`` into ``.cache/conformance/`` (git-ignored), unpacked once,
and put on ``sys.path``. Its runtime dependencies are boto3 (eventflow's own), PyYAML and packaging (the
``conformance`` extra). Set ``EVENTFLOW_CONFORMANCE_WHEEL`` to a local wheel file to work offline.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

SUITE = "aws-durable-execution-conformance-tests"
VERSION = "1.0.0"
PACKAGE = "aws_durable_execution_conformance_tests"
TOTAL_REQUIREMENTS = 155

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = Path(os.environ.get("EVENTFLOW_CONFORMANCE_CACHE", REPO_ROOT / ".cache" / "conformance"))


class SuiteUnavailableError(RuntimeError):
    """The pinned wheel could not be downloaded or unpacked."""


def _wheel(distribution: str = SUITE, version: str = VERSION, package: str = PACKAGE) -> Path:
    override = os.environ.get("EVENTFLOW_CONFORMANCE_WHEEL") if distribution == SUITE else None
    if override:
        return Path(override)
    wheels = CACHE_DIR / "wheels"
    pattern = f"{package}-{version}-*.whl"
    found = sorted(wheels.glob(pattern))
    if found:
        return found[0]
    wheels.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--disable-pip-version-check",
        "--python-version",
        "3.14",
        "--only-binary=:all:",
        f"{distribution}=={version}",
        "-d",
        str(wheels),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    found = sorted(wheels.glob(pattern))
    if done.returncode != 0 or not found:
        raise SuiteUnavailableError(
            f"could not download {distribution}=={version}:\n{done.stdout}\n{done.stderr}"
        )
    return found[0]


def unpacked(distribution: str = SUITE, version: str = VERSION, package: str = PACKAGE) -> Path:
    """The wheel of ``distribution`` (downloaded once) unpacked once under the cache; returns its root."""
    wheel = _wheel(distribution, version, package)
    target = CACHE_DIR / f"{package}-{version}"
    marker = target / ".unpacked"
    if not marker.exists():
        target.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(target)
        marker.write_text(wheel.name)
    return target


@dataclass(frozen=True)
class Suite:
    """The suite's modules, as published."""

    root: Path
    history: ModuleType
    validate: ModuleType
    cloudwatch: ModuleType
    callback: ModuleType
    sam: ModuleType
    clients: ModuleType
    report: ModuleType
    reporters: ModuleType
    extensions: ModuleType
    config: ModuleType

    @property
    def requirements_dir(self) -> Path:
        return Path(self.config.TESTS_DIR)

    def requirement_files(self) -> dict[str, Path]:
        """Requirement id -> YAML file, discovered the way the suite's own CLI discovers them."""
        registry = self.extensions.load_extensions(self.requirements_dir, entry_points=())
        cases = registry.discover_requirements("all")
        return {rid: case.path for rid, case in cases.items()}

    def suite_of(self, requirement_id: str) -> str:
        return self.requirement_files()[requirement_id].parent.name


@cache
def load() -> Suite:
    """Download (once), unpack (once) and import the suite."""
    root = unpacked()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    import importlib

    def module(name: str) -> ModuleType:
        return importlib.import_module(f"{PACKAGE}.{name}")

    suite = Suite(
        root=root,
        history=module("history"),
        validate=module("validate"),
        cloudwatch=module("cloudwatch"),
        callback=module("callback"),
        sam=module("sam"),
        clients=module("clients"),
        report=module("report"),
        reporters=module("reporters"),
        extensions=module("extensions"),
        config=module("config"),
    )
    if not Path(suite.config.TESTS_DIR).is_dir():
        raise SuiteUnavailableError(f"the suite's requirements are missing under {suite.config.TESTS_DIR}")
    return suite


@cache
def requirement_ids() -> tuple[str, ...]:
    """Every requirement id of the suite, in the suite's (category, number) order."""

    def key(rid: str) -> tuple[int, int]:
        major, minor = rid.split("-")
        return int(major), int(minor)

    return tuple(sorted(load().requirement_files(), key=key))
