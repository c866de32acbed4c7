"""`SandboxRuntime`: a function's code in worker processes, a bounded pool of `sandbox.Sandbox`.

Like Lambda's execution environments: an invocation takes an idle sandbox (warm) or starts one (cold)
while fewer than ``max_sandboxes`` exist, and otherwise waits for one to come free. A sandbox that died
or timed out is dropped and replaced by the next cold start, so a crashing handler costs its invocation
and nothing else: the service goes on serving.

Two kinds of function share it: a Python ``MODULE:HANDLER`` (`SandboxRuntime.python`, run by eventflow's
Runtime API client, `python_worker`) and any command that speaks the Runtime API
(`SandboxRuntime.command`, e.g. ``npx aws-lambda-ric app.handler`` or ``python -m awslambdaric
app.handler``).
"""

from __future__ import annotations

import os
import shlex
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from eventflow.errors import InvalidInputError
from eventflow.local.functions import LAMBDA_TIME_LIMIT, LambdaContext
from eventflow.local.model import REGION
from eventflow.local.sandbox import Sandbox

DEFAULT_SANDBOXES = 4
"""Worker processes per function unless told otherwise."""

DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "eventflow-local", "AWS_SECRET_ACCESS_KEY": "eventflow-local"}
"""The local service accepts any credentials; a sandbox never sees the caller's real ones."""

_DROPPED = ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SECURITY_TOKEN")


def sandbox_environment(
    function_name: str, endpoint: str, cwd: str, limit: float, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """What a sandbox's process finds in its environment: Lambda's variables, and the local service as
    the Lambda endpoint with a region and dummy credentials, so an SDK inside checkpoints back to it."""
    env = {key: value for key, value in os.environ.items() if key not in _DROPPED}
    env.update(DUMMY_CREDENTIALS)
    env.update(
        {
            "AWS_ENDPOINT_URL_LAMBDA": endpoint,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_LAMBDA_FUNCTION_NAME": function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(limit)),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{function_name}",
            "LAMBDA_TASK_ROOT": cwd,
            **(extra or {}),
        }
    )
    return env


class SandboxRuntime:
    """A `runtime.Runtime` whose invocations run in a bounded pool of sandbox processes."""

    in_process = False

    def __init__(
        self,
        function_name: str,
        argv: Sequence[str],
        endpoint: str,
        *,
        max_sandboxes: int = DEFAULT_SANDBOXES,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """``argv`` starts one sandbox's runtime; ``endpoint`` is the local service's URL (what
        ``AWS_ENDPOINT_URL_LAMBDA`` says inside)."""
        if not argv:
            raise InvalidInputError(f"function {function_name!r}: an empty command")
        if max_sandboxes < 1:
            raise InvalidInputError(f"max_sandboxes must be at least 1, got {max_sandboxes}")
        self.function_name = function_name
        self.argv = list(argv)
        self.endpoint = endpoint
        self.max_sandboxes = max_sandboxes
        self.cwd = os.path.abspath(cwd or os.getcwd())
        self._extra_env = dict(env or {})
        self._cond = threading.Condition()
        self._idle: list[Sandbox] = []
        self._count = 0  # sandboxes that exist: idle, busy, or starting
        self._all: set[Sandbox] = set()
        self._closed = False

    @classmethod
    def python(cls, function_name: str, handler: str, endpoint: str, **options: Any) -> SandboxRuntime:
        """``MODULE:HANDLER`` run by eventflow's Python worker, with this interpreter; the working
        directory is importable, as it is for ``eventflow run``."""
        argv = [sys.executable, "-m", "eventflow.local.python_worker", handler]
        return cls(function_name, argv, endpoint, **options)

    @classmethod
    def command(cls, function_name: str, command: str, endpoint: str, **options: Any) -> SandboxRuntime:
        """A shell-like command line (split with `shlex`, not run through a shell) that speaks the
        Runtime API."""
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise InvalidInputError(f"function {function_name!r}: cannot parse command: {exc}") from None
        return cls(function_name, argv, endpoint, **options)

    def invoke(self, event: Any, context: LambdaContext, timeout_seconds: float | None) -> Any:
        limit = timeout_seconds if timeout_seconds is not None else LAMBDA_TIME_LIMIT.total_seconds()
        sandbox = self._acquire(limit)
        try:
            return sandbox.run(event, context, limit)
        finally:
            self._release(sandbox)

    def _acquire(self, limit: float) -> Sandbox:
        with self._cond:
            while True:
                if self._closed:
                    raise InvalidInputError(f"the runtime of {self.function_name!r} is closed")
                while self._idle:
                    sandbox = self._idle.pop()
                    if sandbox.alive:
                        return sandbox
                    self._drop(sandbox)
                if self._count < self.max_sandboxes:
                    self._count += 1
                    break
                self._cond.wait()
        try:  # a cold start, outside the lock
            env = sandbox_environment(self.function_name, self.endpoint, self.cwd, limit, self._extra_env)
            sandbox = Sandbox(self.argv, env, self.cwd)
        except OSError as exc:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise InvalidInputError(f"cannot start function {self.function_name!r}: {exc}") from None
        with self._cond:
            self._all.add(sandbox)
            if self._closed:
                sandbox.close()
        return sandbox

    def _release(self, sandbox: Sandbox) -> None:
        with self._cond:
            if sandbox.alive and not self._closed:
                self._idle.append(sandbox)
            else:
                self._drop(sandbox)
            self._cond.notify()

    def _drop(self, sandbox: Sandbox) -> None:
        sandbox.close()
        self._all.discard(sandbox)
        self._count -= 1

    @property
    def sandboxes(self) -> int:
        """How many sandboxes exist now (idle or busy)."""
        with self._cond:
            return self._count

    def close(self) -> None:
        """Kill every sandbox; invocations waiting for one fail."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            for sandbox in idle:
                self._drop(sandbox)
            busy = list(self._all)  # dropped when their invocations end (`_release`)
            self._cond.notify_all()
        for sandbox in busy:
            sandbox.close()
