"""What the Lambda runtime does around a handler, for functions registered with the local service.

Two things matter to the conformance suite:

- **Logs.** On Lambda everything a function writes to stdout/stderr becomes CloudWatch log events, one per
  line, in the function's log group; the suite reads them back with FilterLogEvents. `LOG_STREAM` plays that
  part: it is the process's stdout while an invocation runs, and eventflow's JSON logging is configured to
  write to it (``configure_json_logging(stream=LOG_STREAM)``, what a user does with ``sys.stdout`` on
  Lambda).
  Each line is stamped with the service's (virtual) clock and a sequence number, so the log validator's
  before/after checks see the real order.
- **Crashes.** A Lambda sandbox can die mid-invocation (``os._exit``); Lambda then records the invocation as
  failed with ``Runtime.ExitError`` and invokes again. `SandboxHandler` runs a handler in a child process
  (`conformance.sandbox`) that checkpoints back through a pipe, so ``os._exit`` really kills a process, and
  reports a death the way Lambda's runtime does: as an invocation error of type ``Runtime.ExitError``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO, cast

from eventflow.backends.base import current_backend
from eventflow.errors import CheckpointError, OperationError
from eventflow.events.wire import OperationUpdate
from eventflow.log import configure_json_logging

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class LogGroup:
    """The log events of one function, as CloudWatch keeps them."""

    name: str
    events: list[dict[str, Any]] = field(default_factory=list)


class _LogStream(io.TextIOBase):
    """Stdout of the "sandbox": routes lines to the log group of the invocation in progress.

    Process-global on purpose: logging handlers hold on to the stream object they were given, and one process
    runs one invocation at a time (threads a handler starts write to the same invocation's group).
    """

    def __init__(self) -> None:
        self._group: LogGroup | None = None
        self._clock: Callable[[], datetime] | None = None
        self._pending = ""
        self._serial = 0
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            if self._group is None:
                sys.__stdout__.write(text) if sys.__stdout__ else None
                return len(text)
            self._pending += text
            *lines, self._pending = self._pending.split("\n")
            for line in lines:
                self._add(self._group, line)
        return len(text)

    def add_line(self, group: LogGroup, line: str, clock: Callable[[], datetime]) -> None:
        """Record a line a sandbox process wrote."""
        with self._lock:
            self._add(group, line, clock)

    def _add(self, group: LogGroup, line: str, clock: Callable[[], datetime] | None = None) -> None:
        if not line.strip():
            return
        self._serial += 1
        clock = clock or self._clock
        now = clock() if clock else datetime.now()
        group.events.append(
            {
                "logStreamName": "local",
                "timestamp": int(now.timestamp() * 1000),
                "ingestionTime": self._serial,
                "message": line,
                "eventId": str(self._serial),
            }
        )

    @contextlib.contextmanager
    def bound(self, group: LogGroup, clock: Callable[[], datetime]) -> Iterator[None]:
        """Capture stdout and stderr of everything run inside into ``group``."""
        with self._lock:
            previous = self._group, self._clock
            self._group, self._clock = group, clock
        try:
            with contextlib.redirect_stdout(self), contextlib.redirect_stderr(self):
                yield
        finally:
            with self._lock:
                if self._pending and self._group is not None:
                    self._add(self._group, self._pending)
                self._pending = ""
                self._group, self._clock = previous


LOG_STREAM = _LogStream()
_logging_ready = False


def ensure_json_logging() -> None:
    """Point eventflow's durable loggers at the log stream, once per process."""
    global _logging_ready  # noqa: PLW0603 - one logging configuration per process, as on Lambda
    if not _logging_ready:
        configure_json_logging(stream=cast(TextIO, LOG_STREAM))
        _logging_ready = True


Handler = Callable[[Any, Any], Any]


class RunawayExecutionError(BaseException):
    """Too many invocations in one run: a livelock between handler and service. A BaseException so that
    neither the service (which records handler `Exception`s) nor the validator swallows it."""


class InProcessHandler:
    """Runs a handler in this process with its output going to its function's log group."""

    def __init__(
        self, handler: Handler, group: LogGroup, clock: Callable[[], datetime], guard: Callable[[], None]
    ) -> None:
        self.handler = handler
        self.group = group
        self.clock = clock
        self.guard = guard

    def __call__(self, event: Any, context: Any) -> Any:
        self.guard()
        ensure_json_logging()
        with LOG_STREAM.bound(self.group, self.clock):
            return self.handler(event, context)


class RuntimeExitError(OperationError):
    """The sandbox process died before the handler answered: Lambda's ``Runtime.ExitError``."""

    def __init__(self, message: str) -> None:
        super().__init__(message, error_type="Runtime.ExitError")


class SandboxHandler:
    """Runs a handler (named ``module:attribute``) in a child process per invocation.

    The child checkpoints through the parent (which owns the service): it writes one JSON request per line
    to its stdout and reads the answer from its stdin. Its handler's own output (logs, prints) goes to its
    stderr, which the parent turns into log events.
    """

    def __init__(
        self, ref: str, group: LogGroup, clock: Callable[[], datetime], guard: Callable[[], None]
    ) -> None:
        self.ref = ref
        self.group = group
        self.clock = clock
        self.guard = guard

    def __call__(self, event: Any, context: Any) -> Any:
        self.guard()
        backend = current_backend()
        if backend is None:
            raise RuntimeError("a sandboxed handler must be invoked by the local service")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (REPO_ROOT, env.get("PYTHONPATH")) if p)
        env["PYTHONUNBUFFERED"] = "1"
        child = subprocess.Popen(
            [sys.executable, "-m", "conformance.sandbox", self.ref],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO_ROOT,
        )
        assert child.stdin is not None and child.stdout is not None and child.stderr is not None
        stderr = child.stderr
        drain = threading.Thread(target=self._drain, args=(stderr,), daemon=True)
        drain.start()
        output: Any = None
        answered = False
        try:
            child.stdin.write(json.dumps({"event": event, "context": _context_json(context)}) + "\n")
            child.stdin.flush()
            for line in child.stdout:
                message = json.loads(line)
                if "output" in message:
                    output, answered = message["output"], True
                    break
                child.stdin.write(json.dumps(_serve(backend, message)) + "\n")
                child.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the child died; reported below
        except BaseException:
            child.kill()  # interrupted (e.g. the runner's wall-clock limit): never leave a child behind
            raise
        finally:
            with contextlib.suppress(OSError):
                child.stdin.close()
            code = child.wait()
            drain.join()
            child.stdout.close()
        if not answered:
            raise RuntimeExitError(
                f"RequestId: {getattr(context, 'aws_request_id', '?')} Error: Runtime exited "
                f"with error: exit status {code}"
            )
        return output

    def _drain(self, stream: io.TextIOBase) -> None:
        for line in stream:
            LOG_STREAM.add_line(self.group, line.rstrip("\n"), self.clock)


def _context_json(context: Any) -> dict[str, Any]:
    remaining = (
        context.get_remaining_time_in_millis() if hasattr(context, "get_remaining_time_in_millis") else 0
    )
    return {
        "aws_request_id": getattr(context, "aws_request_id", ""),
        "function_name": getattr(context, "function_name", ""),
        "invoked_function_arn": getattr(context, "invoked_function_arn", ""),
        "remaining_ms": remaining,
    }


def _serve(backend: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Perform one backend call for the child and encode the answer (or the refusal)."""
    try:
        if request["call"] == "checkpoint":
            updates = [OperationUpdate.from_wire(u) for u in request["updates"]]
            result = backend.checkpoint(request["arn"], request["token"], updates)
            return {
                "token": result.token,
                "operations": [op.to_wire() for op in result.operations],
                "next_marker": result.next_marker,
            }
        page = backend.get_state(request["arn"], request["token"], request["marker"])
        return {"operations": [op.to_wire() for op in page.operations], "next_marker": page.next_marker}
    except CheckpointError as exc:
        return {"error": {"message": str(exc), "terminal": exc.terminal, "code": exc.code}}
    except Exception as exc:  # any other refusal reaches the child as a terminal checkpoint error
        return {"error": {"message": f"{type(exc).__name__}: {exc}", "terminal": True, "code": None}}
