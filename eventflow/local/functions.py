"""What the service can invoke, and the Lambda context object a handler receives with its event.

Kept apart because two parts invoke handlers: durable invocations (`invocations.py`) and calls of plain
chained-invoke targets (`chained_invokes.py`). Both hand the handler the same `LambdaContext`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from eventflow.local.clock import Clock

Handler = Callable[[Any, Any], Any]
"""A Lambda handler: ``handler(event, context)``."""

LAMBDA_TIME_LIMIT = timedelta(minutes=15)
"""How long one Lambda invocation may run: the deadline `LambdaContext` counts down to."""


@dataclass(frozen=True)
class RegisteredFunction:
    """A function the service can invoke: a durable handler, or a plain one called with the payload."""

    name: str
    handler: Handler
    durable: bool = True
    timeout_seconds: int | None = None


@dataclass
class LambdaContext:
    """The parts of Lambda's context object that handlers commonly read."""

    aws_request_id: str
    function_name: str
    invoked_function_arn: str
    deadline: datetime
    clock: Clock

    @classmethod
    def starting_at(
        cls, start: datetime, function_name: str, invoked_function_arn: str, clock: Clock
    ) -> LambdaContext:
        """The context of a new invocation (a fresh request id) that starts at ``start``."""
        return cls(str(uuid.uuid4()), function_name, invoked_function_arn, start + LAMBDA_TIME_LIMIT, clock)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - self.clock.now()).total_seconds() * 1000))
