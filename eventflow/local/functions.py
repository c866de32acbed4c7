"""What the service can invoke, and the Lambda context object a handler receives with its event.

Kept apart because two parts invoke handlers: durable invocations (`invocations.py`) and calls of plain
chained-invoke targets (`chained_invokes.py`). Both hand the handler the same `LambdaContext`, and both
call it through `call_handler`, which bounds the call by the function's invocation timeout.

The invocation timeout (Lambda's function ``Timeout``, at most 15 minutes) bounds *one invocation*; the
execution timeout (``timeout_seconds``, up to a year) bounds the durable execution as a whole. Lambda
kills a sandbox that runs past the invocation timeout. Python cannot kill a thread, so a bounded handler
runs on a worker thread of its own and the service stops waiting for it when the time is up: the
invocation counts as timed out, and whatever the abandoned thread does later is ignored (its output is
dropped, and the service retires the checkpoint token it holds as it records the timeout, so its
checkpoints from then on are refused as stale; one that lands before, like one acknowledged just before a
kill on AWS, stands). The timeout is *wall* time of the handler call, also on a `VirtualClock`, whose time
does not move while a handler runs.
"""

from __future__ import annotations

import contextvars
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from eventflow.events.wire import ErrorObject
from eventflow.local.clock import Clock

if TYPE_CHECKING:
    from eventflow.local.runtime import Runtime

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
    timeout_seconds: int | None = None  # the execution timeout an execution of it takes by default
    invocation_timeout_seconds: float | None = None  # Lambda's function timeout; None: unbounded
    runtime: Runtime | None = None  # where the handler runs (`runtime.py`); None: ``handler``, in process
    retention_days: int = 14  # DurableConfig.RetentionPeriodInDays: ended executions are kept this long

    @property
    def in_process(self) -> bool:
        """Whether ``handler`` runs the function in this process (a sandbox bounds its own time)."""
        return self.runtime is None or self.runtime.in_process

    @property
    def time_limit(self) -> timedelta:
        """How long one invocation may run: the invocation timeout, else Lambda's 15 minutes."""
        if self.invocation_timeout_seconds is None:
            return LAMBDA_TIME_LIMIT
        return timedelta(seconds=self.invocation_timeout_seconds)


SANDBOX_TIMED_OUT = "Sandbox.Timedout"
"""The error type Lambda reports for an invocation that ran past the function's timeout."""


class InvocationTimedOut(Exception):
    """The handler ran past the function's invocation timeout: Lambda ended its sandbox."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"Task timed out after {seconds:.2f} seconds")

    def error(self) -> ErrorObject:
        """The error the timed-out invocation reports (Lambda's type and wording)."""
        return ErrorObject(error_type=SANDBOX_TIMED_OUT, error_message=str(self))


def call_handler(spec: RegisteredFunction, call: Callable[[], Any]) -> Any:
    """Run ``call`` (the handler call of an invocation of ``spec``) and return what it returns, or raise
    what it raises, bounded by the function's invocation timeout when it runs in process
    (`bounded_call`). A function in a sandbox of its own is bounded by its runtime, which kills it."""
    if not spec.in_process:
        return call()
    return bounded_call(spec.invocation_timeout_seconds, spec.name, call)


def bounded_call(limit: float | None, name: str, call: Callable[[], Any]) -> Any:
    """``call()``, at most ``limit`` seconds. Without a limit it runs right here, as it always did. With
    one, it runs on a daemon thread in a copy of the caller's context (so a backend installed with
    `use_backend` is the handler's too), and the caller waits for it at most that long (a join with a
    timeout, not a poll): past it, `InvocationTimedOut` is raised and the thread is abandoned to finish
    on its own."""
    if limit is None:
        return call()
    outcome: list[Any] = []  # [True, output] or [False, exception], set by the thread
    context = contextvars.copy_context()

    def run() -> None:
        try:
            outcome[:] = [True, context.run(call)]
        except BaseException as exc:  # handed to the caller, who decides what the sandbox's end means
            outcome[:] = [False, exc]

    thread = threading.Thread(target=run, name=f"eventflow-invocation-{name}", daemon=True)
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        raise InvocationTimedOut(limit)
    returned, value = outcome
    if not returned:
        raise value
    return value


@dataclass
class LambdaContext:
    """The parts of Lambda's context object that handlers commonly read."""

    aws_request_id: str
    function_name: str
    invoked_function_arn: str
    deadline: datetime
    clock: Clock
    x_amzn_trace_id: str | None = None  # the invocation's X-Ray header (Lambda's ``_X_AMZN_TRACE_ID``)

    @classmethod
    def starting_at(
        cls,
        start: datetime,
        function_name: str,
        invoked_function_arn: str,
        clock: Clock,
        time_limit: timedelta = LAMBDA_TIME_LIMIT,
    ) -> LambdaContext:
        """The context of a new invocation (a fresh request id) that starts at ``start`` and may run for
        ``time_limit`` (the function's `RegisteredFunction.time_limit`)."""
        return cls(str(uuid.uuid4()), function_name, invoked_function_arn, start + time_limit, clock)

    def get_remaining_time_in_millis(self) -> int:
        """What is left of the invocation timeout, in milliseconds, as Lambda's context reports it."""
        return max(0, int((self.deadline - self.clock.now()).total_seconds() * 1000))
