"""One sandbox: a process that runs a function's code behind its own Runtime API (`runtime_api`).

Lambda starts a function's runtime with ``AWS_LAMBDA_RUNTIME_API`` pointing at the sandbox's Runtime
API; the runtime fetches invocations from it and answers them. Here the process also gets
``AWS_ENDPOINT_URL_LAMBDA`` (the local service), a region and dummy credentials, so the durable SDK inside,
whichever it is, checkpoints back to the service over its HTTP endpoint with the boto3 or AWS SDK client
it would use on AWS. That is why checkpoints go over HTTP and not over a pipe: the official SDKs' handlers
run unchanged, and every runtime (eventflow's Python worker, ``awslambdaric``, ``aws-lambda-ric``) takes
the same path.

How an invocation ends is decided in one place, `Sandbox.run`, waiting on the channel's condition
variable (never polling): the runtime's answer; the process's exit (a watcher thread blocked in
``wait`` reports it), which is ``Runtime.ExitError``; or the deadline, when the sandbox's process group is
killed and the invocation is ``Sandbox.Timedout``. A sandbox that died or was killed is not reused.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from eventflow.local.functions import InvocationTimedOut, LambdaContext
from eventflow.local.runtime import FunctionError, RuntimeExited, exit_description
from eventflow.local.runtime_api import PendingInvocation, RuntimeApiServer, SandboxChannel

INIT_SECONDS = 10.0
"""How long Lambda lets a runtime initialise before the first invocation's own time starts (when the
function's invocation timeout is longer, that bounds the start instead, as Lambda retries a slow init
within the invocation)."""


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class Sandbox:
    """A running function process and its Runtime API; one invocation at a time."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], cwd: str | None) -> None:
        self.channel = SandboxChannel()
        self.api = RuntimeApiServer(self.channel)
        self.returncode: int | None = None
        environment = {**env, "AWS_LAMBDA_RUNTIME_API": self.api.address}
        try:
            # A session of its own: a timeout kills the whole group (`npx` and the node it starts). Its
            # stdin is a pipe nobody writes to: it reaches end of file when this service is gone, which
            # eventflow's worker watches for, so a sandbox does not outlive a killed service.
            self.process = subprocess.Popen(
                list(argv), env=environment, cwd=cwd, stdin=subprocess.PIPE, start_new_session=True
            )
        except OSError:
            self.api.close()
            raise
        self._watcher = threading.Thread(target=self._watch, name="eventflow-sandbox-watch", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        code = self.process.wait()
        with self.channel.cond:
            self.returncode = code
            self.channel.cond.notify_all()

    @property
    def alive(self) -> bool:
        return self.returncode is None and not self.channel.closed

    def run(self, event: Any, context: LambdaContext, limit: float) -> Any:
        """One invocation: the runtime's output, or `FunctionError` / `RuntimeExited` /
        `InvocationTimedOut` (after which the sandbox is dead)."""
        channel = self.channel
        request_id = context.aws_request_id
        headers = {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Invoked-Function-Arn": context.invoked_function_arn,
            "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{request_id.replace('-', '')[:24]}",
        }
        with channel.cond:
            channel.outcome = None
            pending = PendingInvocation(request_id, _json_bytes(event), headers, limit)
            channel.pending = pending
            channel.cond.notify_all()
            start_by = time.monotonic() + max(INIT_SECONDS, limit)
            try:
                while True:
                    if channel.outcome is not None:
                        ok, value = channel.outcome
                        if ok:
                            return value
                        raise FunctionError(value)
                    if channel.init_error is not None and not pending.taken:
                        error = channel.init_error
                        self._kill()  # Lambda resets a sandbox whose init failed
                        raise FunctionError(error)
                    if self.returncode is not None:
                        self.close()
                        raise RuntimeExited(request_id, exit_description(self.returncode))
                    deadline = start_by if pending.taken_at is None else pending.taken_at + limit
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        self._kill()
                        raise InvocationTimedOut(limit)
                    channel.cond.wait(remaining)
            finally:
                channel.pending = None
                channel.outcome = None

    def _kill(self) -> None:
        """End the process group at once (SIGKILL), as Lambda ends a sandbox."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.close()

    def close(self) -> None:
        """Tear the sandbox down: its Runtime API closes and its process, if still running, is killed."""
        if not self.channel.closed:
            self.api.close()
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
