"""Retry strategies for steps: given the error and the attempt that just failed, retry or not, and when.

A strategy is any callable ``(error, attempt) -> RetryDecision``; attempts count from 1. The delay a
strategy picks (jitter included) is recorded in the RETRY checkpoint, so replays never re-roll it.

Jitter draws from the system's randomness unless a strategy was given its own ``rng``, or a test harness
runs inside `seeded_jitter`: then each draw depends only on the seed and the attempt, so the same test
writes the same checkpoints every time, whichever thread a map item's retry runs on.
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from eventflow.errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """What a retry strategy decided: retry or not, and after how many whole seconds."""

    should_retry: bool
    delay_seconds: int = 0

    @classmethod
    def stop(cls) -> RetryDecision:
        """Do not retry: the step fails with its error."""
        return cls(False, 0)

    @classmethod
    def after(cls, seconds: float) -> RetryDecision:
        """Retry after ``seconds`` (rounded to whole seconds, at least 1: the service's unit)."""
        # The service counts whole seconds and refuses less than one.
        return cls(True, max(1, round(seconds)))


RetryStrategy = Callable[[BaseException, int], RetryDecision]


class _Seeds:
    """The seeds of the `seeded_jitter` blocks running (any thread): the innermost one applies."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stack: list[int] = []


_SEEDS = _Seeds()
_SYSTEM = random.Random()


@contextlib.contextmanager
def seeded_jitter(seed: int = 0) -> Iterator[None]:
    """Within the block, strategies without their own ``rng`` jitter as a function of ``seed`` and the
    attempt alone (`eventflow.testing.DurableHarness` runs every execution inside one)."""
    with _SEEDS.lock:
        _SEEDS.stack.append(seed)
    try:
        yield
    finally:
        with _SEEDS.lock:
            _SEEDS.stack.remove(seed)


def draw_jitter(rng: random.Random | None, low: float, high: float, attempt: int) -> float:
    """A uniform draw in ``[low, high]``: from ``rng`` if given, else seeded (`seeded_jitter`) or random."""
    if rng is not None:
        return rng.uniform(low, high)
    seeds = _SEEDS.stack
    if seeds:
        return random.Random(f"{seeds[-1]}-{attempt}").uniform(low, high)
    return _SYSTEM.uniform(low, high)


class Jitter(StrEnum):
    """How a delay is randomised so that many retries do not arrive at once."""

    NONE = "none"
    FULL = "full"  # uniform in [0, delay]
    HALF = "half"  # uniform in [delay/2, delay]


def exponential(
    *,
    max_attempts: int = 6,
    initial_delay: float = 5,
    max_delay: float = 60,
    backoff_rate: float = 2,
    jitter: Jitter = Jitter.FULL,
    retry_if: Callable[[BaseException], bool] | None = None,
    rng: random.Random | None = None,
) -> RetryStrategy:
    """Exponential backoff: ``initial_delay * backoff_rate**(attempt-1)``, capped, with jitter.

    ``max_attempts`` counts the first attempt; ``retry_if`` limits retries to the errors it accepts.
    """
    if max_attempts < 1:
        raise InvalidInputError(f"max_attempts must be at least 1, got {max_attempts}")
    if initial_delay < 0 or max_delay < 0 or backoff_rate < 1:
        raise InvalidInputError(
            "initial_delay and max_delay must be >= 0 and backoff_rate >= 1, got "
            f"{initial_delay}, {max_delay}, {backoff_rate}"
        )

    def strategy(error: BaseException, attempt: int) -> RetryDecision:
        if attempt >= max_attempts or (retry_if is not None and not retry_if(error)):
            return RetryDecision.stop()
        delay = min(max_delay, initial_delay * backoff_rate ** (attempt - 1))
        if jitter is Jitter.FULL:
            delay = draw_jitter(rng, 0, delay, attempt)
        elif jitter is Jitter.HALF:
            delay = draw_jitter(rng, delay / 2, delay, attempt)
        return RetryDecision.after(delay)

    return strategy


def linear(
    *, max_attempts: int = 6, step: float = 1, retry_if: Callable[[BaseException], bool] | None = None
) -> RetryStrategy:
    """Delays of ``step``, ``2*step``, ``3*step``, ... seconds (at least 1 s each)."""
    if max_attempts < 1:
        raise InvalidInputError(f"max_attempts must be at least 1, got {max_attempts}")

    def strategy(error: BaseException, attempt: int) -> RetryDecision:
        if attempt >= max_attempts or (retry_if is not None and not retry_if(error)):
            return RetryDecision.stop()
        return RetryDecision.after(step * attempt)

    return strategy


def no_retry(error: BaseException, attempt: int) -> RetryDecision:
    """Fail on the first error."""
    return RetryDecision.stop()


class RetryPresets:
    """Ready-made strategies with the official SDK's parameters, so migrated code keeps its timing."""

    none: RetryStrategy = staticmethod(no_retry)

    @staticmethod
    def default() -> RetryStrategy:
        """The official SDK's default: 6 attempts, 5 s doubling to 60 s, full jitter."""
        return exponential(max_attempts=6, initial_delay=5, max_delay=60, backoff_rate=2, jitter=Jitter.FULL)

    @staticmethod
    def transient() -> RetryStrategy:
        """For brief glitches: 3 attempts, 5 s doubling to 60 s, half jitter."""
        return exponential(max_attempts=3, initial_delay=5, max_delay=60, backoff_rate=2, jitter=Jitter.HALF)

    @staticmethod
    def resource_availability() -> RetryStrategy:
        """For a resource that takes a while to appear: 5 attempts, 5 s doubling to 300 s."""
        return exponential(max_attempts=5, initial_delay=5, max_delay=300, backoff_rate=2)

    @staticmethod
    def critical() -> RetryStrategy:
        """For steps that must get through: 10 attempts, 1 s growing by 1.5 to 60 s, no jitter."""
        return exponential(
            max_attempts=10, initial_delay=1, max_delay=60, backoff_rate=1.5, jitter=Jitter.NONE
        )
