"""`LambdaBackend`: checkpoints to the AWS Lambda durable-execution API through boto3's transport.

The client is botocore's ``lambda`` client, the one ``boto3.client("lambda")`` returns: created by a
botocore session, with the same region, credential and endpoint resolution, the same service model and
signing. It is created without importing boto3 itself, because boto3's import (s3transfer, its resource
layer: ~30-60 ms in a cold process) buys a checkpointing function nothing; and it is created on the
first call, so a backend built at import time costs nothing until the first checkpoint. Throttling and
5xx answers are retried by botocore's "standard" retry mode (exponential backoff with full jitter);
every checkpoint carries a fresh ClientToken that botocore re-sends unchanged on its retries, so a
retried call cannot apply twice. A boto3 client passed in is used as it is.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from eventflow.backends.base import CheckpointResult, StatePage
from eventflow.core.paging import MarkerGuard
from eventflow.errors import CheckpointError
from eventflow.events.emitted import AnyUpdate
from eventflow.events.records import OperationRecord, validate_record

if TYPE_CHECKING:
    from eventflow.events.wire import Operation

# Service error codes after which retrying the same checkpoint can never succeed.
_TERMINAL_CODES = frozenset(
    {"InvalidParameterValueException", "ResourceNotFoundException", "RequestTooLargeException"}
)


def _records(operations: Any) -> list[Operation | OperationRecord]:
    """The service's operations validated as records: a fifth of the cost of models, and smaller to hold
    for the rest of the invocation (`eventflow.core.operation_table` builds a model only when read)."""
    return [validate_record("Operation", op) for op in operations or ()]


class LambdaBackend:
    """A `Backend` over a boto3 ``lambda`` client; region, endpoint and credentials as boto3 resolves them.

    ``client_kwargs`` are `boto3.client`'s (``region_name``, ``endpoint_url``, credentials, ...).
    """

    def __init__(self, client: Any = None, *, max_attempts: int = 5, **client_kwargs: Any) -> None:
        self._client = client
        self._max_attempts = max_attempts
        self._client_kwargs = client_kwargs
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        """The ``lambda`` client, created on first use (once, whichever thread asks first)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = _lambda_client(self._max_attempts, self._client_kwargs)
        return self._client

    def checkpoint(self, arn: str, token: str, updates: Sequence[AnyUpdate]) -> CheckpointResult:
        response = self._call(
            "checkpoint_durable_execution",
            DurableExecutionArn=arn,
            CheckpointToken=token,
            Updates=[u.to_wire() for u in updates],
            ClientToken=str(uuid.uuid4()),
        )
        state = response.get("NewExecutionState") or {}
        operations = _records(state.get("Operations"))
        marker = state.get("NextMarker")
        next_token = response.get("CheckpointToken")
        if not next_token:
            raise CheckpointError("the service's checkpoint answer carries no CheckpointToken")
        markers = MarkerGuard()  # the core's guard: a repeated marker would page forever
        while marker:
            markers.follow(marker)
            page = self.get_state(arn, next_token, marker)
            operations.extend(page.operations)
            marker = page.next_marker
        return CheckpointResult(next_token, operations)

    def get_state(self, arn: str, token: str, marker: str) -> StatePage:
        response = self._call(
            "get_durable_execution_state", DurableExecutionArn=arn, CheckpointToken=token, Marker=marker
        )
        operations = _records(response.get("Operations"))
        return StatePage(operations, response.get("NextMarker") or None)

    # asyncio is imported by the first async call, not with this module: a sync handler's cold start
    # would otherwise pay for it (~15 ms) through the lazily imported backend.
    async def acheckpoint(self, arn: str, token: str, updates: Sequence[AnyUpdate]) -> CheckpointResult:
        import asyncio

        return await asyncio.to_thread(self.checkpoint, arn, token, updates)

    async def aget_state(self, arn: str, token: str, marker: str) -> StatePage:
        import asyncio

        return await asyncio.to_thread(self.get_state, arn, token, marker)

    def _call(self, method: str, **params: Any) -> dict[str, Any]:
        client = self.client
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response: dict[str, Any] = getattr(client, method)(**params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            message = str(error.get("Message", exc))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
            terminal = code in _TERMINAL_CODES and "checkpoint token" not in message.lower()
            raise CheckpointError(
                f"{method} failed: {code}: {message} (HTTP {status})", terminal=terminal, code=code
            ) from exc
        except BotoCoreError as exc:
            raise CheckpointError(f"{method} failed: {exc}") from exc
        return response


def _lambda_client(max_attempts: int, client_kwargs: dict[str, Any]) -> Any:
    """What ``boto3.client("lambda", config=...)`` builds, made by botocore directly.

    A botocore session of its own, reading the same environment variables and config files boto3
    would, whose data loader knows it serves ``lambda`` only (`_service_loader`).
    """
    import botocore.session
    from botocore.config import Config

    session = botocore.session.get_session()
    loader = _service_loader("lambda", session.get_config_variable("data_path"))
    session.register_component("data_loader", loader)
    config = Config(retries={"mode": "standard", "total_max_attempts": max_attempts})
    return session.create_client("lambda", config=config, **client_kwargs)


def _service_loader(service: str, data_path: str | None) -> Any:
    """botocore's data loader, on the search path botocore's own would use (``AWS_DATA_PATH`` first), for a
    session that creates clients of one ``service`` only.

    Before loading a service's model, botocore's loader lists every service it could load to check the
    name, by scanning the directory of each of the ~400 services it ships, once for the model and once
    for the endpoint rules: ~25 ms of a cold start, a third of the client's creation. This one answers
    that list by looking in ``service``'s own directories (which it reads anyway to pick the newest API
    version); what it loads, and from where, is unchanged.
    """
    import os

    from botocore.exceptions import DataNotFoundError
    from botocore.loaders import Loader

    class ServiceLoader(Loader):
        def list_available_services(self, type_name: str) -> list[str]:
            try:
                self.list_api_versions(service, type_name)
            except DataNotFoundError:
                return []
            return [service]

    if data_path is None:
        return ServiceLoader()
    paths = [os.path.expanduser(os.path.expandvars(path)) for path in data_path.split(os.pathsep)]
    return ServiceLoader(extra_search_paths=paths)
