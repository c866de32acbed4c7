"""What both SDKs are asked to do, and the wire data both are fed: defined once, so the inputs are identical.

Every workload is described by plain data (step counts, names, payloads) and an invocation input dict in the
Lambda wire format. Each side (`benchmarks.eventflow_side`, `benchmarks.official_side`) turns the same
description into its own handler, so a difference in time is a difference in the SDK, not in the work.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from hashlib import blake2b
from typing import Any

ARN = "arn:aws:lambda:us-east-1:000000000000:function:bench:$LATEST/durable-execution/bench/0"
TOKEN = "token-0"
EXECUTION_ID = "execution"
STEP_NAME = "step"
CHILD_NAME = "level"
LEAF_NAME = "leaf"
START_MS = 1_700_000_000_000  # a fixed epoch-millisecond timestamp: inputs are byte-identical across runs


@dataclass(frozen=True, slots=True)
class Timing:
    """Seconds of one measured region: wall clock, and CPU time of the whole process (all threads).

    Wall time is what a caller waits, and what the SDK-against-SDK targets use: the official SDK spends
    part of it waiting on its checkpoint thread, which CPU time would hide. CPU time is what compares
    eventflow with the floor (both single-threaded and CPU-bound): on a shared machine it moves far less
    with the load than wall time does.
    """

    wall: float
    cpu: float
    calls: int | None = None  # checkpoint calls the service stub answered (latency cases only)
    updates: int | None = None  # operation updates those calls carried

    def per(self, count: int) -> Timing:
        return Timing(self.wall / count, self.cpu / count)

    def counted(self, calls: int, updates: int) -> Timing:
        """This timing with the stub's call and update counts of the same repetition attached."""
        return Timing(self.wall, self.cpu, calls, updates)


class Stopwatch:
    """Started when made; `stop` returns the `Timing` since then."""

    __slots__ = ("_cpu", "_wall")

    def __init__(self) -> None:
        self._wall = time.perf_counter()
        self._cpu = time.process_time()

    def stop(self) -> Timing:
        cpu = time.process_time() - self._cpu
        return Timing(time.perf_counter() - self._wall, cpu)


RepFn = Callable[[], Timing]
"""One repetition of a benchmark: does its setup, times only the measured region."""


def op_id(raw: str) -> str:
    """The wire id of a raw id (PROTOCOL.md §3), computed here so inputs do not depend on either SDK."""
    return blake2b(raw.encode()).hexdigest()[:64]


def step_value(i: int) -> Callable[[Any], int]:
    """The step function of step ``i``: returns ``i`` (a scalar, so both SDKs write the payload ``"i"``).

    A factory rather than a lambda in the loop, so each step closes over its own index.
    """
    return lambda _step_context: i


def execution_operation() -> dict[str, Any]:
    """The EXECUTION operation every invocation input starts with; the user's event is ``{}``."""
    return {
        "Id": EXECUTION_ID,
        "Type": "EXECUTION",
        "Status": "STARTED",
        "StartTimestamp": START_MS,
        "ExecutionDetails": {"InputPayload": "{}"},
    }


def invocation_input(operations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A Lambda durable-execution invocation input (PROTOCOL.md §2) holding ``operations`` after EXECUTION."""
    return {
        "DurableExecutionArn": ARN,
        "CheckpointToken": TOKEN,
        "InitialExecutionState": {"Operations": [execution_operation(), *(operations or [])]},
    }


def completed_steps(n: int) -> list[dict[str, Any]]:
    """``n`` root-level STEP operations, SUCCEEDED with result ``i``: what a finished run of
    `new_steps` left behind, so a handler walking them again replays every one."""
    return [
        {
            "Id": op_id(str(i + 1)),
            "Type": "STEP",
            "SubType": "Step",
            "Name": STEP_NAME,
            "Status": "SUCCEEDED",
            "StartTimestamp": START_MS,
            "EndTimestamp": START_MS,
            "StepDetails": {"Attempt": 1, "Result": json.dumps(i)},
        }
        for i in range(n)
    ]


def check_pending(output: Any) -> None:
    """Fail loudly unless an invocation suspended (a wait it cannot finish in this invocation)."""
    if not isinstance(output, dict) or output.get("Status") != "PENDING":
        raise AssertionError(f"invocation did not suspend: {output!r}")


def check_succeeded(output: Any, expected: Any) -> None:
    """Fail loudly if an invocation did not do what it was asked: a fast wrong answer is no result."""
    if not isinstance(output, dict) or output.get("Status") != "SUCCEEDED":
        raise AssertionError(f"invocation did not succeed: {output!r}")
    if json.loads(output.get("Result") or "null") != expected:
        raise AssertionError(f"invocation returned {output.get('Result')!r}, expected {expected!r}")


# -- latency cases (issue 19): both SDKs against a service stub that sleeps L per checkpoint call ----------

STEPS = "steps"  # n sequential steps, default config
MAP = "map"  # map over n items, one step per item (optionally doing blocking I/O), max_concurrency given
PARALLEL = "parallel"  # parallel of n one-step branches, default config (no concurrency limit, both SDKs)
GATHER = "gather"  # async handler: asyncio.gather of n ctx.step (eventflow); the official SDK: parallel(n)
ASYNC_PARALLEL = "async_parallel"  # async ctx.parallel of n one-step branches; the official SDK: parallel(n)
WAIT = "wait"  # an invocation that only waits: one WAIT checkpoint, then it suspends


@dataclass(frozen=True, slots=True)
class LatencyWorkload:
    """One latency case as plain data; each side builds its own handler from it, so both do the same work.

    ``io_s`` is blocking I/O inside each item's step (``time.sleep``): part of the workload, what a step
    calling an HTTP API does, as opposed to the stub's sleep, which stands for the checkpoint round trip.
    """

    kind: str
    n: int
    concurrency: int | None = None
    io_s: float = 0.0

    @property
    def name(self) -> str:
        parts = [self.kind]
        if self.concurrency is not None:
            parts.append(f"c{self.concurrency}")
        if self.io_s:
            parts.append(f"io{self.io_s * 1e3:g}ms")
        return "_".join(parts)

    @property
    def unit(self) -> str:
        return {STEPS: "step", MAP: "item", WAIT: "wait", GATHER: "step"}.get(self.kind, "branch")

    @property
    def expected(self) -> int:
        """What the handler returns: the sum of every step's value (each step ``i`` returns ``i``)."""
        return self.n * (self.n - 1) // 2


def io_step_value(i: int, io_s: float) -> Callable[[Any], int]:
    """Step ``i`` doing ``io_s`` seconds of blocking I/O first (0: `step_value`)."""
    if not io_s:
        return step_value(i)

    def step(_step_context: Any) -> int:
        time.sleep(io_s)  # the workload's I/O (a blocking HTTP call, say), not a wait in the SDK
        return i

    return step
