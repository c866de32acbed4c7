"""Function runtimes: how the service runs one invocation of a registered function.

Lambda runs a function's code in a *sandbox*; the service only hands it an event and waits for what it
answers. Every way eventflow can run a function sits behind `Runtime`, so the invocation logic
(`invocations.py`, `chained_invokes.py`) is the same whether the handler is

- a Python callable in the service's own process (`InProcessRuntime`: what fast tests use),
- a ``MODULE:HANDLER`` in a worker process from a bounded pool (`sandbox_pool.SandboxRuntime.python`),
- any command that speaks the Lambda Runtime API (`sandbox_pool.SandboxRuntime.command`), or
- a remote Lambda Invoke endpoint (`remote_invoke.RemoteInvokeRuntime`).

A runtime answers with the handler's output, or raises one of three things, each ending the invocation
as Lambda records it: `FunctionError` (the handler raised), `RuntimeExited` (the sandbox died:
``Runtime.ExitError``) or `functions.InvocationTimedOut` (the sandbox ran past the invocation timeout and
was ended: ``Sandbox.Timedout``). All three are retried by the service's rules.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from eventflow.events.wire import ErrorObject
from eventflow.local.functions import Handler, LambdaContext, bounded_call

RUNTIME_EXIT_ERROR = "Runtime.ExitError"
"""The error type Lambda records for an invocation whose sandbox died."""


class FunctionError(Exception):
    """The handler failed inside its runtime (raised, or failed to initialise): Lambda's function error."""

    def __init__(self, error: ErrorObject) -> None:
        self.error = error
        super().__init__(f"{error.error_type}: {error.error_message}")


class RuntimeExited(Exception):
    """The sandbox died during the invocation (it exited, crashed or was killed)."""

    def __init__(self, request_id: str, how: str) -> None:
        self.request_id = request_id
        self.how = how
        super().__init__(f"RequestId: {request_id} Error: Runtime exited with error: {how}")

    def error(self) -> ErrorObject:
        """Lambda's record of it: ``Runtime.ExitError`` with Lambda's wording."""
        return ErrorObject(error_type=RUNTIME_EXIT_ERROR, error_message=str(self))


def exit_description(returncode: int) -> str:
    """How a process ended, as Lambda words it: ``exit status 1`` or ``signal: killed``."""
    if returncode >= 0:
        return f"exit status {returncode}"
    names = {6: "aborted", 9: "killed", 11: "segmentation fault", 15: "terminated"}
    return f"signal: {names.get(-returncode, str(-returncode))}"


@runtime_checkable
class Runtime(Protocol):
    """Runs invocations of one function. ``event`` is plain JSON data; ``timeout_seconds`` is the
    function's invocation timeout (None: Lambda's 15 minutes for a sandbox, unbounded in process)."""

    in_process: bool
    """Whether the handler runs in the service's own process (and so checkpoints straight into it)."""

    def invoke(self, event: Any, context: LambdaContext, timeout_seconds: float | None) -> Any:
        """The handler's output; raises `FunctionError`, `RuntimeExited` or `InvocationTimedOut`."""
        ...

    def close(self) -> None:
        """End whatever the runtime keeps running (worker processes); idle runtimes may ignore it."""
        ...


class InProcessRuntime:
    """The handler is a callable in this process. Without a timeout it runs on the caller's thread; with
    one, on a thread of its own that is abandoned when the time is up (`functions.bounded_call`)."""

    in_process = True

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    def invoke(self, event: Any, context: LambdaContext, timeout_seconds: float | None) -> Any:
        return bounded_call(timeout_seconds, "in-process", lambda: self.handler(event, context))

    def close(self) -> None:
        return None
