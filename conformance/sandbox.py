"""The child side of `conformance.runtime.SandboxHandler`: one invocation of a handler in its own process.

``python -m conformance.sandbox module:attribute`` reads the invocation (event and Lambda context) from the
first stdin line, runs the handler with a `PipeBackend` that checkpoints through the parent, and writes the
output as the last stdout line. A handler that calls ``os._exit`` simply never writes it: that is the crash
the parent reports as ``Runtime.ExitError``. The handler's own stdout is moved to stderr first, so its log
lines never mix with the protocol.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from eventflow.backends.base import CheckpointResult, StatePage, use_backend
from eventflow.errors import CheckpointError
from eventflow.events.wire import Operation, OperationUpdate
from eventflow.log import configure_json_logging


class PipeBackend:
    """A `Backend` whose service is the parent process, one JSON line each way per call."""

    def __init__(self, requests: TextIO, answers: TextIO) -> None:
        self._requests = requests
        self._answers = answers

    def _call(self, request: dict[str, Any]) -> dict[str, Any]:
        self._requests.write(json.dumps(request) + "\n")
        self._requests.flush()
        answer: dict[str, Any] = json.loads(self._answers.readline())
        error = answer.get("error")
        if error is not None:
            raise CheckpointError(error["message"], terminal=error["terminal"], code=error["code"])
        return answer

    def checkpoint(self, arn: str, token: str, updates: Sequence[OperationUpdate]) -> CheckpointResult:
        answer = self._call(
            {"call": "checkpoint", "arn": arn, "token": token, "updates": [u.to_wire() for u in updates]}
        )
        operations = [Operation.from_wire(op) for op in answer["operations"]]
        return CheckpointResult(answer["token"], operations, answer.get("next_marker"))

    def get_state(self, arn: str, token: str, marker: str) -> StatePage:
        answer = self._call({"call": "get_state", "arn": arn, "token": token, "marker": marker})
        return StatePage([Operation.from_wire(op) for op in answer["operations"]], answer.get("next_marker"))


@dataclass
class SandboxContext:
    """The Lambda context the parent described."""

    aws_request_id: str
    function_name: str
    invoked_function_arn: str
    remaining_ms: int

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def main(ref: str) -> None:
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # the handler's stdout is log output now
    sys.stdout = os.fdopen(1, "w", buffering=1)
    configure_json_logging(stream=sys.stdout)
    module_name, _, attribute = ref.partition(":")
    handler = getattr(importlib.import_module(module_name), attribute)
    request = json.loads(sys.stdin.readline())
    context = SandboxContext(**request["context"])
    with use_backend(PipeBackend(protocol, sys.stdin)):
        output = handler(request["event"], context)
    sys.stdout.flush()
    protocol.write(json.dumps({"output": output}) + "\n")
    protocol.flush()


if __name__ == "__main__":
    main(sys.argv[1])
