"""Run one requirement end to end and judge it with the suite's own validator.

For a requirement the runner builds a fresh `World` (a local service on a manual clock, plus log groups),
deploys the covering handler and the invoke targets, and hands the suite's unmodified
``validate.validate_description`` everything it expects on AWS: the suite's own `Invoker` (with our Lambda
and CloudFormation clients), an `AwsClients` mapping (``lambda``, ``cloudformation``, ``logs``), and, in place
of the ``time`` module its polling loop and log retrieval sleep on, `VirtualTime`. The validator then does
what it does against AWS: invokes the function (synchronously, or asynchronously while polling the history
and performing the requirement's CallbackActions with their delays), matches the history with its
EventHistoryMatcher, checks status and result with GetDurableExecution, and checks ExpectedLogs with its
CloudWatchLogValidator.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from conformance import suite as suite_module
from conformance.aws import (
    STACK_NAME,
    FakeCloudFormation,
    FakeLambda,
    FakeLogs,
    Function,
    VirtualTime,
    World,
)
from conformance.expectations import NOT_IMPLEMENTED
from conformance.registry import coverage, targets
from conformance.runtime import RunawayExecutionError

REGION = "us-east-1"
WALL_CLOCK_LIMIT_SECONDS = 120  # per requirement; a healthy one takes well under a second (a crash one ~3 s)

PASSED = "PASSED"
FAILED = "FAILED"
NOT_IMPLEMENTED_STATUS = "NOT_IMPLEMENTED"
UNCOVERED = "UNCOVERED"


@dataclass
class Outcome:
    """What happened to one requirement: the validator's verdict, then the not-implemented table applied."""

    requirement_id: str
    suite: str
    description: str | None
    function: str | None
    passed: bool  # the validator's verdict (False when uncovered)
    covered: bool
    optional: bool = False
    errors: list[str] = field(default_factory=list)
    duration_seconds: float = 0.0
    reason_table: Mapping[str, str] = field(default_factory=lambda: NOT_IMPLEMENTED)  # the suite's gaps

    @property
    def reason(self) -> str | None:
        return self.reason_table.get(self.requirement_id)

    @property
    def status(self) -> str:
        """PASSED / FAILED / NOT_IMPLEMENTED / UNCOVERED for the summary line."""
        if self.passed:
            return PASSED
        if self.reason is not None:
            return NOT_IMPLEMENTED_STATUS
        if not self.covered:
            return UNCOVERED
        return FAILED

    @property
    def stale_declaration(self) -> bool:
        """Declared not implemented, yet it passes: the table line must go."""
        return self.passed and self.reason is not None


def _requirement_meta(suite: suite_module.Suite, path: Path) -> tuple[str | None, bool]:
    data = suite.history.load_yaml_file(str(path))
    if not isinstance(data, dict):
        return None, False
    description = data.get("description")
    return (str(description) if description is not None else None), bool(data.get("optional", False))


@contextlib.contextmanager
def _virtual_time(suite: suite_module.Suite, world: World) -> Any:
    """Give the suite's validator and log retriever a clock that moves the world, then put `time` back."""
    clock = VirtualTime(world)
    modules = (suite.validate, suite.cloudwatch)
    saved = [getattr(module, "time") for module in modules]  # noqa: B009 - the suite's module global
    for module in modules:
        setattr(module, "time", clock)  # noqa: B010
    try:
        yield
    finally:
        for module, original in zip(modules, saved, strict=True):
            setattr(module, "time", original)  # noqa: B010


@contextlib.contextmanager
def _state_directory(path: str) -> Any:
    """Where handlers keep what must survive a crash (`OnceMarker`): private to this requirement's run."""
    previous = os.environ.get("EVENTFLOW_CONFORMANCE_STATE")
    os.environ["EVENTFLOW_CONFORMANCE_STATE"] = path
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("EVENTFLOW_CONFORMANCE_STATE", None)
        else:
            os.environ["EVENTFLOW_CONFORMANCE_STATE"] = previous


@contextlib.contextmanager
def _wall_clock_limit(seconds: int) -> Any:
    """Turn a hang (an endless loop inside one invocation) into a failed requirement, not a stuck run."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise RunawayExecutionError(f"the requirement ran for more than {seconds} s of real time")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_requirement(requirement_id: str, *, output_dir: Path | None = None) -> Outcome:
    """Run and judge one requirement. Never raises: a crash of the runner is a failed requirement."""
    started = time.monotonic()
    suite = suite_module.load()
    path = suite.requirement_files()[requirement_id]
    description, optional = _requirement_meta(suite, path)
    covering = coverage().get(requirement_id)
    outcome = Outcome(
        requirement_id,
        path.parent.name,
        description,
        covering.function.logical_id if covering else None,
        passed=False,
        covered=covering is not None,
        optional=optional,
    )
    if covering is None:
        outcome.errors.append("no handler covers this requirement")
        return outcome
    result, errors = validate_in_world(suite, covering.function, requirement_id, path, output_dir)
    outcome.passed = bool(result is not None and result.passed)
    outcome.errors.extend(errors)
    outcome.duration_seconds = time.monotonic() - started
    return outcome


def validate_in_world(
    suite: suite_module.Suite,
    function: Function,
    requirement_id: str,
    path: Path,
    output_dir: Path | None,
) -> tuple[Any, list[str]]:
    """Deploy ``function`` (and the invoke targets) in a fresh `World` and run the suite's
    ``validate_description`` on the requirement at ``path``: its result (``None`` when the runner itself
    failed) and the errors to report. Never raises."""
    errors: list[str] = []
    result: Any = None
    world = World()
    for deployed in [*targets(), function]:
        world.deploy(deployed)
    lambda_client = FakeLambda(world)
    cloudformation = FakeCloudFormation(world)
    clients = suite.clients.AwsClients(
        MappingProxyType({"lambda": lambda_client, "cloudformation": cloudformation, "logs": FakeLogs(world)})
    )
    invoker = suite.sam.Invoker(
        stack_name=STACK_NAME, region=REGION, lambda_client=lambda_client, cfn_client=cloudformation
    )
    histories = output_dir or Path(tempfile.gettempdir()) / "eventflow-conformance-histories"
    chatter = io.StringIO()  # the validator narrates what it does; kept for the error report
    try:
        with (
            _wall_clock_limit(WALL_CLOCK_LIMIT_SECONDS),
            tempfile.TemporaryDirectory() as tmp,
            _state_directory(tmp),
            _virtual_time(suite, world),
            contextlib.redirect_stdout(chatter),
        ):
            result = suite.validate.validate_description(
                function.logical_id,
                requirement_id,
                str(path),
                invoker,
                tmp,
                region=REGION,
                aws_clients=clients,
                output_dir=str(histories),
            )
        errors.extend(result.errors)
    except (Exception, RunawayExecutionError):
        errors.append("runner error:\n" + traceback.format_exc())
    if not (result is not None and result.passed) and chatter.getvalue():
        errors.append("validator output:\n" + chatter.getvalue().strip())
    return result, errors
