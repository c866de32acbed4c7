"""`LambdaBackend`: checkpoints to the AWS Lambda durable-execution API through boto3.

boto3 is imported only when a `LambdaBackend` is created, keeping it off the cold-start path of code
that never talks to AWS. Throttling and 5xx answers are retried by botocore's "standard" retry mode
(exponential backoff with full jitter); every checkpoint carries a fresh ClientToken that botocore
re-sends unchanged on its retries, so a retried call cannot apply twice.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from eventflow.backends.base import CheckpointResult, StatePage
from eventflow.errors import CheckpointError
from eventflow.events.emitted import AnyUpdate
from eventflow.events.records import OperationRecord, validate_record
from eventflow.events.wire import Operation

# Service error codes after which retrying the same checkpoint can never succeed.
_TERMINAL_CODES = frozenset(
    {"InvalidParameterValueException", "ResourceNotFoundException", "RequestTooLargeException"}
)


def _records(operations: Any) -> list[Operation | OperationRecord]:
    """The service's operations validated as records: a fifth of the cost of models, and smaller to hold
    for the rest of the invocation (`eventflow.core.operation_table` builds a model only when read)."""
    return [validate_record(Operation, op) for op in operations or ()]


class LambdaBackend:
    """A `Backend` over a boto3 ``lambda`` client; region, endpoint and credentials as boto3 resolves them."""

    def __init__(self, client: Any = None, *, max_attempts: int = 5, **client_kwargs: Any) -> None:
        if client is None:
            import boto3
            from botocore.config import Config

            config = Config(retries={"mode": "standard", "total_max_attempts": max_attempts})
            client = boto3.client("lambda", config=config, **client_kwargs)
        self.client = client

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
        while marker:
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

    async def acheckpoint(self, arn: str, token: str, updates: Sequence[AnyUpdate]) -> CheckpointResult:
        return await asyncio.to_thread(self.checkpoint, arn, token, updates)

    async def aget_state(self, arn: str, token: str, marker: str) -> StatePage:
        return await asyncio.to_thread(self.get_state, arn, token, marker)

    def _call(self, method: str, **params: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response: dict[str, Any] = getattr(self.client, method)(**params)
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
