"""Run the official SDK's handlers and eventflow's on the same local service, and replay each one's
history in the other.

Why: a team migrating between the SDKs has executions in flight; each must finish under the other SDK
with the result it would have had, without writing anything new. The official SDK checkpoints over
eventflow's local HTTP API through a real boto3 client (the AWS network boundary); replays feed the
recorded operations to a handler as Lambda would, with a service client that records every checkpoint,
so "zero new checkpoints" is what the replaying SDK actually tried to send.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aws_durable_execution_sdk_python import durable_execution as official_durable_execution
from aws_durable_execution_sdk_python.execution import (
    DurableExecutionInvocationInput,
    DurableExecutionInvocationInputWithClient,
)
from aws_durable_execution_sdk_python.lambda_service import (
    CheckpointOutput,
    CheckpointUpdatedExecutionState,
    OperationUpdate,
    StateOutput,
)

from eventflow.backends.base import CheckpointResult, StatePage
from eventflow.events.emitted import AnyUpdate
from eventflow.handler import DurableHandler
from eventflow.local import LocalService, VirtualClock
from eventflow.local.client import lambda_client
from eventflow.local.http import LocalHttpServer
from eventflow.local.model import LocalExecution
from eventflow.serdes import SerDes

boto3_lambda = lambda_client


@contextmanager
def local_service() -> Iterator[tuple[LocalService, Any]]:
    """A local service on a virtual clock, its HTTP API served on 127.0.0.1 for the official SDK's boto3
    client (only requests are served there: the test's thread drives the service with ``run``)."""
    service = LocalService(VirtualClock())
    server = LocalHttpServer(service)
    serving = threading.Thread(target=server.serve_forever, name="interop-http", daemon=True)
    serving.start()
    try:
        yield service, boto3_lambda(server.url)
    finally:
        server.shutdown()
        server.server_close()
        serving.join()


def as_official(workflow: Callable[[Any, Any], Any], client: Any) -> Callable[[Any, Any], Any]:
    """An official-SDK handler of ``workflow`` that checkpoints through ``client``."""
    return official_durable_execution(workflow, boto3_client=client)  # type: ignore[no-any-return]


def replay_input(service: LocalService, execution: LocalExecution) -> dict[str, Any]:
    """The invocation input a further invocation of the finished execution would get: every recorded
    operation, with the EXECUTION operation handed out as running (as the service hands it out)."""
    event = copy.deepcopy(service.invocation_input(execution))
    assert "NextMarker" not in event["InitialExecutionState"], "the replay needs a single page"
    event["InitialExecutionState"]["Operations"][0]["Status"] = "STARTED"
    event.pop("UpdatedOperationIds", None)
    return event


@dataclass
class Replayed:
    output: dict[str, Any]
    updates: list[Any] = field(default_factory=list)


class _RefusingBackend:
    """eventflow's side of a replay: notes any checkpoint (there must be none) and answers it."""

    def __init__(self) -> None:
        self.updates: list[AnyUpdate] = []

    def checkpoint(self, arn: str, token: str, updates: Any) -> CheckpointResult:
        self.updates.extend(updates)
        return CheckpointResult(token=token + "+", operations=[])

    def get_state(self, arn: str, token: str, marker: str, max_items: int | None = None) -> StatePage:
        return StatePage(operations=[], next_marker=None)


class _RecordingClient:
    """The official SDK's side of a replay: a `DurableServiceClient` that notes every update."""

    def __init__(self) -> None:
        self.updates: list[OperationUpdate] = []

    def checkpoint(
        self, durable_execution_arn: str, checkpoint_token: str, updates: list[OperationUpdate],
        client_token: str | None,
    ) -> CheckpointOutput:
        self.updates.extend(updates)
        return CheckpointOutput(
            checkpoint_token=checkpoint_token + "+", new_execution_state=CheckpointUpdatedExecutionState()
        )

    def get_execution_state(
        self, durable_execution_arn: str, checkpoint_token: str, next_marker: str, max_items: int = 1000
    ) -> StateOutput:
        return StateOutput()


def replay_in_eventflow(
    workflow: Callable[[Any, Any], Any], event: dict[str, Any], serdes: SerDes | None = None,
    error_types: str = "eventflow",
) -> Replayed:
    backend = _RefusingBackend()
    output = DurableHandler(workflow, backend, serdes=serdes, error_types=error_types)(event, None)
    return Replayed(output, list(backend.updates))


def replay_in_official(workflow: Callable[[Any, Any], Any], event: dict[str, Any]) -> Replayed:
    client = _RecordingClient()
    parsed = DurableExecutionInvocationInput.from_json_dict(event)
    with_client = DurableExecutionInvocationInputWithClient
    injected = with_client.from_durable_execution_invocation_input(parsed, client)
    output = official_durable_execution(workflow)(injected, None)
    return Replayed(dict(output), list(client.updates))
