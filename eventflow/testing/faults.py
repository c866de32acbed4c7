"""Fault-injecting backends: prove that a durable handler survives a misbehaving service.

`FaultyBackend` wraps any `Backend` (the local service, `LambdaBackend`, a recorder) and, at chosen or at
seeded-random checkpoint calls, makes the call fail the ways a real network and service fail:

* before the request reaches the service (throttling, 5xx, a connection reset, an invalid token): the
  checkpoint is *not* applied and the call raises a retryable `CheckpointError`;
* after the service applied it (a read timeout, a reset while reading the answer): the checkpoint *is*
  applied but its answer is lost, so the caller must not assume either way;
* with a damaged answer (the operations or the next token missing), or by re-sending the token the
  previous call already consumed;
* terminally (a payload over the size limit, a validation error): the answer a retry can never change;
* or by "killing the sandbox" (`SandboxCrash`, a `BaseException` no ``except Exception`` swallows) before the
  request is sent or after it was applied, which is how the crash tests stand in for Lambda dying.

Why a wrapper at the `Backend` seam rather than a mocked HTTP layer: every backend (and therefore every
user's handler) goes through exactly this seam, so the same faults test eventflow's core, the local
service and a user's workflow. The retryable errors raised here are what `LambdaBackend` raises once
botocore has spent its own bounded, jittered retries, so a handler under test sees what it would see in
Lambda after the transport gave up.

Usage::

    backend = FaultyBackend(service, FaultPlan.random(rate=0.2, seed=7))
    service.register("fn", DurableHandler(handler, backend))
    ...
    assert backend.injected  # which calls failed, how, and whether they were applied
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from eventflow.backends.base import Backend, CheckpointResult, StatePage
from eventflow.errors import CheckpointError
from eventflow.events.emitted import AnyUpdate

__all__ = [
    "RETRYABLE_FAULTS",
    "TERMINAL_FAULTS",
    "FaultKind",
    "FaultPlan",
    "FaultyBackend",
    "InjectedFault",
    "SandboxCrash",
]


class SandboxCrash(BaseException):
    """The Lambda sandbox died (out of memory, a timeout, a hard kill) in the middle of an invocation.

    A `BaseException` on purpose: neither eventflow nor user code may catch it with ``except Exception``,
    just as nothing catches a process dying. A test harness converts it into a failed invocation at
    the Lambda boundary (the service then re-invokes).
    """


class FaultKind(StrEnum):
    """One way a checkpoint call can go wrong. See the module docstring for what each one models."""

    THROTTLE = "throttle"  # 429 TooManyRequestsException; not applied
    SERVER_ERROR = "server_error"  # 500/503 ServiceException; not applied
    CONNECTION_RESET = "connection_reset"  # the connection dropped before the request was read; not applied
    INVALID_TOKEN = "invalid_token"  # the service refuses the token ("Invalid checkpoint token"); not applied
    TIMEOUT = "timeout"  # read timeout: applied, the answer is lost
    RESET_AFTER_APPLY = "reset_after_apply"  # connection dropped while reading the answer: applied, lost
    REUSED_TOKEN = "reused_token"  # the previous, already consumed token is sent instead of the right one
    MISSING_OPERATIONS = "missing_operations"  # applied; the answer carries no NewExecutionState.Operations
    MISSING_TOKEN = "missing_token"  # applied; the answer carries no CheckpointToken
    PAYLOAD_TOO_LARGE = "payload_too_large"  # terminal InvalidParameterValueException (size); not applied
    VALIDATION = "validation"  # terminal InvalidParameterValueException; not applied
    CRASH_BEFORE_SEND = "crash_before_send"  # SandboxCrash before the request leaves; not applied
    CRASH_AFTER_APPLY = "crash_after_apply"  # SandboxCrash after the service applied it; applied


RETRYABLE_FAULTS: tuple[FaultKind, ...] = (
    FaultKind.THROTTLE,
    FaultKind.SERVER_ERROR,
    FaultKind.CONNECTION_RESET,
    FaultKind.INVALID_TOKEN,
    FaultKind.TIMEOUT,
    FaultKind.RESET_AFTER_APPLY,
    FaultKind.REUSED_TOKEN,
    FaultKind.MISSING_OPERATIONS,
    FaultKind.MISSING_TOKEN,
)
"""Faults after which re-invoking the handler must finish the execution as if nothing had happened."""

TERMINAL_FAULTS: tuple[FaultKind, ...] = (FaultKind.PAYLOAD_TOO_LARGE, FaultKind.VALIDATION)
"""Faults no retry can fix: the execution must end FAILED, naming the cause, not be retried forever."""

_APPLIED = frozenset(
    {
        FaultKind.TIMEOUT,
        FaultKind.RESET_AFTER_APPLY,
        FaultKind.MISSING_OPERATIONS,
        FaultKind.MISSING_TOKEN,
        FaultKind.CRASH_AFTER_APPLY,
    }
)

# What each fault raises, worded as `LambdaBackend` words the service's (or botocore's) error.
_RAISED: dict[FaultKind, tuple[str, str, bool]] = {
    FaultKind.THROTTLE: ("TooManyRequestsException", "Rate exceeded (HTTP 429)", False),
    FaultKind.SERVER_ERROR: ("ServiceException", "Internal failure (HTTP 500)", False),
    FaultKind.CONNECTION_RESET: (
        "ConnectionClosedError",
        "Connection was closed before we received a valid response",
        False,
    ),
    FaultKind.INVALID_TOKEN: ("InvalidParameterValueException", "Invalid checkpoint token (HTTP 400)", False),
    FaultKind.TIMEOUT: ("ReadTimeoutError", "Read timeout on endpoint URL", False),
    FaultKind.RESET_AFTER_APPLY: (
        "ConnectionClosedError",
        "Connection reset while reading the response",
        False,
    ),
    FaultKind.PAYLOAD_TOO_LARGE: (
        "InvalidParameterValueException",
        "STEP output payload size must be less than or equal to 262144 bytes (HTTP 400)",
        True,
    ),
    FaultKind.VALIDATION: ("InvalidParameterValueException", "Invalid operation update (HTTP 400)", True),
}


@dataclass(frozen=True, slots=True)
class InjectedFault:
    """A fault that fired: at which checkpoint call (0-based), which kind, and whether the service applied
    the checkpoint before the fault hid its answer."""

    call: int
    kind: FaultKind
    applied: bool


@dataclass
class FaultPlan:
    """Which checkpoint calls fail, and how.

    ``at`` names calls explicitly (0-based index of the checkpoint call through this backend). Otherwise
    each call fails with probability ``rate``, with a kind drawn from ``kinds``, from a `random.Random`
    seeded with ``seed`` (the same seed gives the same faults for the same sequence of calls).
    ``max_faults`` bounds the total; ``max_in_a_row`` bounds consecutive failing calls, which keeps a
    run within a service's invocation-retry budget when that is the point of the test.
    """

    at: Mapping[int, FaultKind] = field(default_factory=dict)
    rate: float = 0.0
    kinds: Sequence[FaultKind] = RETRYABLE_FAULTS
    seed: int | None = None
    max_faults: int | None = None
    max_in_a_row: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be within 0..1, got {self.rate}")
        if self.rate and not self.kinds:
            raise ValueError("a random fault plan needs at least one kind")
        self._rng = random.Random(self.seed)

    @classmethod
    def random(
        cls,
        *,
        rate: float,
        seed: int,
        kinds: Iterable[FaultKind] = RETRYABLE_FAULTS,
        max_faults: int | None = None,
        max_in_a_row: int | None = None,
    ) -> FaultPlan:
        return cls(rate=rate, kinds=tuple(kinds), seed=seed, max_faults=max_faults, max_in_a_row=max_in_a_row)

    def choose(self, call: int, fired: int, in_a_row: int) -> FaultKind | None:
        """The fault for checkpoint call ``call``, given how many fired so far and in a row."""
        if self.max_faults is not None and fired >= self.max_faults:
            return None
        if self.max_in_a_row is not None and in_a_row >= self.max_in_a_row:
            return None
        if call in self.at:
            return self.at[call]
        # Draw both numbers on every call so that one call's outcome never shifts the next call's draw.
        roll, pick = self._rng.random(), self._rng.randrange(max(1, len(self.kinds)))
        if self.rate and roll < self.rate:
            return self.kinds[pick]
        return None


class FaultyBackend:
    """A `Backend` that passes checkpoints to ``inner`` and injects the faults ``plan`` chooses.

    ``injected`` lists every fault that fired; ``calls`` counts checkpoint calls. ``only`` restricts the
    faults to batches touching those operation types (e.g. ``{"CALLBACK"}``) when a test aims at one
    construct. ``get_state`` calls are passed through unharmed unless ``fault_get_state`` is set, in which
    case a plan's fault at a call applies to the page read as a retryable error (never applied twice).
    """

    def __init__(
        self,
        inner: Backend,
        plan: FaultPlan | None = None,
        *,
        only: Collection[str] | None = None,
        fault_get_state: bool = False,
    ) -> None:
        self.inner = inner
        self.plan = plan or FaultPlan()
        self.only = frozenset(only) if only is not None else None
        self.fault_get_state = fault_get_state
        self.injected: list[InjectedFault] = []
        self.calls = 0
        self.page_calls = 0
        self._in_a_row = 0
        self._last_token: str | None = None

    # -- Backend ----------------------------------------------------------------------------------

    def checkpoint(self, arn: str, token: str, updates: Sequence[AnyUpdate]) -> CheckpointResult:
        call = self.calls
        self.calls += 1
        kind = self._choose(call, updates)
        previous, self._last_token = self._last_token, token
        if kind is None:
            return self.inner.checkpoint(arn, token, updates)
        applied = kind in _APPLIED or (kind is FaultKind.REUSED_TOKEN and previous is None)
        self.injected.append(InjectedFault(call, kind, applied))
        if kind is FaultKind.CRASH_BEFORE_SEND:
            raise SandboxCrash(f"injected: the sandbox died before checkpoint call {call} was sent")
        if kind is FaultKind.REUSED_TOKEN:
            # Send the token the previous call consumed; the service must refuse it, retryably. On the
            # first call there is no consumed token yet, so the call simply goes through.
            return self.inner.checkpoint(arn, previous if previous is not None else token, updates)
        if kind not in _APPLIED:
            raise _error(kind)
        result = self.inner.checkpoint(arn, token, updates)
        if kind is FaultKind.CRASH_AFTER_APPLY:
            raise SandboxCrash(f"injected: the sandbox died after checkpoint call {call} was applied")
        if kind is FaultKind.MISSING_OPERATIONS:
            return CheckpointResult(result.token, [], None)
        if kind is FaultKind.MISSING_TOKEN:
            return CheckpointResult("", result.operations, result.next_marker)
        raise _error(kind)

    def get_state(self, arn: str, token: str, marker: str) -> StatePage:
        self.page_calls += 1
        if self.fault_get_state:
            kind = self.plan.choose(self.calls + self.page_calls, len(self.injected), self._in_a_row)
            if kind is not None and kind in RETRYABLE_FAULTS and kind not in _APPLIED:
                self.injected.append(InjectedFault(-self.page_calls, kind, False))
                raise _error(kind)
        return self.inner.get_state(arn, token, marker)

    async def acheckpoint(self, arn: str, token: str, updates: Sequence[AnyUpdate]) -> CheckpointResult:
        """The sync path: the fault decisions stay in one place, and the inner call is quick (tests)."""
        return self.checkpoint(arn, token, updates)

    async def aget_state(self, arn: str, token: str, marker: str) -> StatePage:
        return self.get_state(arn, token, marker)

    # -- helpers ----------------------------------------------------------------------------------

    def _choose(self, call: int, updates: Sequence[AnyUpdate]) -> FaultKind | None:
        if self.only is not None and not any(str(u.type) in self.only for u in updates):
            kind = None
        else:
            kind = self.plan.choose(call, len(self.injected), self._in_a_row)
        self._in_a_row = self._in_a_row + 1 if kind is not None else 0
        return kind


def _error(kind: FaultKind) -> CheckpointError:
    code, message, terminal = _RAISED[kind]
    return CheckpointError(
        f"checkpoint_durable_execution failed: {code}: {message} [injected]", terminal=terminal, code=code
    )
