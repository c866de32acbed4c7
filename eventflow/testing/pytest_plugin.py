"""eventflow's pytest plugin, loaded through the ``pytest11`` entry point when eventflow is installed.

Fixtures:

- ``durable_service``: a fresh `LocalService` on a virtual clock (waits and retries take no time).
- ``durable_harness``: a `DurableHarness` over that service.
- ``run_durable``: ``run_durable(handler, event)`` drives a handler to completion and returns a `DurableRun`
  (result, history, checkpoints, callback answering).
- ``callback_sender``: answers callbacks by id on ``durable_service`` (`CallbackSender`).
- ``execution_control``: pauses, resumes and deletes executions on ``durable_service``, and moves its
  clock on (`eventflow.testing.control.ExecutionControl`).
- ``checkpoint_snapshot``: syrupy's ``snapshot`` with `DurableSnapshotExtension`.

Always-replay mode (`eventflow.testing.always_replay`) is on for a test marked
``@pytest.mark.always_replay``, or for every test when pytest runs with ``--durable-always-replay``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    # Imported lazily below: the plugin loads with every pytest session of a project that installs
    # eventflow, and must cost nothing (nor fail) there until a fixture is used.
    from eventflow.local import LocalService
    from eventflow.testing.control import ExecutionControl
    from eventflow.testing.harness import DurableHarness, DurableRun

__all__ = ["CallbackSender"]

MARKER = "always_replay"
OPTION = "--durable-always-replay"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("eventflow")
    group.addoption(
        OPTION,
        action="store_true",
        default=False,
        help="run durable handlers in always-replay mode: replay after every checkpoint, fail on divergence",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}: run this test's durable handlers in always-replay mode (eventflow)"
    )


class CallbackSender:
    """Plays the external system of a callback: success, failure and heartbeats, by callback id."""

    def __init__(self, service: LocalService) -> None:
        self.service = service

    def succeed(self, callback_id: str, result: Any = None, *, raw: str | None = None) -> None:
        self.service.send_callback_success(callback_id, raw if raw is not None else json.dumps(result))

    def fail(self, callback_id: str, error_type: str = "Error", message: str = "") -> None:
        from eventflow.events.wire import ErrorObject

        error = ErrorObject(error_type=error_type, error_message=message)
        self.service.send_callback_failure(callback_id, error)

    def heartbeat(self, callback_id: str) -> None:
        self.service.send_callback_heartbeat(callback_id)


@pytest.fixture
def durable_service() -> LocalService:
    """A local durable-execution service on a virtual clock, fresh for each test."""
    from eventflow.local import LocalService

    return LocalService()


@pytest.fixture
def durable_always_replay(request: pytest.FixtureRequest) -> bool:
    """Whether this test runs in always-replay mode (marker or command-line option)."""
    return bool(request.node.get_closest_marker(MARKER) or request.config.getoption(OPTION))


@pytest.fixture
def durable_harness(durable_service: LocalService, durable_always_replay: bool) -> DurableHarness:
    from eventflow.testing.harness import DurableHarness

    return DurableHarness(durable_service, always_replay=durable_always_replay)


@pytest.fixture
def run_durable(durable_harness: DurableHarness) -> Any:
    """``run_durable(handler, event=None, *, name=None, always_replay=None, check=True) -> DurableRun``."""

    def run(handler: Any, event: Any = None, **options: Any) -> DurableRun:
        return durable_harness.run(handler, event, **options)

    return run


@pytest.fixture
def callback_sender(durable_service: LocalService) -> CallbackSender:
    return CallbackSender(durable_service)


@pytest.fixture
def execution_control(durable_service: LocalService) -> ExecutionControl:
    """Pause, resume and delete executions of ``durable_service``; ``advance(seconds)`` its clock."""
    from eventflow.testing.control import ExecutionControl

    return ExecutionControl(durable_service)


@pytest.fixture
def checkpoint_snapshot(snapshot: Any) -> Any:
    """syrupy's ``snapshot`` storing checkpoints and histories as readable text files."""
    from eventflow.testing.snapshot import DurableSnapshotExtension

    return snapshot.use_extension(DurableSnapshotExtension)
