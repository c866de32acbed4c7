"""Wait strategies for `wait_for_condition`: after each check, stop polling or poll again later.

A strategy is any callable ``(state, attempt) -> WaitDecision``. ``state`` is what the check just
returned, read back through the operation's serdes (exactly what a replay would see); ``attempt``
counts checks from 1. The strategy decides whether the condition is met, and if not, how long the
service should wait before the next check. The delay it picks (jitter included) is written into the
RETRY checkpoint, so a replay never re-rolls it.

The built-in strategies take ``until``, a predicate that is true once the condition is met. A met
condition wins over an exhausted attempt budget (as in the official SDK), so a check that succeeds on
its last permitted attempt still succeeds; an exhausted budget raises `WaitAttemptsExhaustedError`,
which fails the operation.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeAlias, TypeVar

from eventflow.durations import to_seconds
from eventflow.errors import InvalidInputError, WaitAttemptsExhaustedError
from eventflow.retry import Jitter, draw_jitter

T = TypeVar("T")

__all__ = [
    "Jitter",
    "WaitDecision",
    "WaitStrategy",
    "exponential",
    "fixed",
    "linear",
    "max_attempts",
]


@dataclass(frozen=True, slots=True)
class WaitDecision:
    """Stop polling (the condition is met), or check again after ``delay_seconds``."""

    should_continue: bool
    delay_seconds: int = 0

    @classmethod
    def stop(cls) -> WaitDecision:
        """The condition is met: stop polling and return the state."""
        return cls(False, 0)

    @classmethod
    def after(cls, seconds: float) -> WaitDecision:
        """Poll again after ``seconds``, rounded up to whole seconds: the service counts whole seconds
        and refuses a delay under one."""
        if not math.isfinite(seconds):
            raise InvalidInputError(f"a wait delay must be finite, got {seconds}")
        return cls(True, max(1, math.ceil(seconds)))


WaitStrategy: TypeAlias = Callable[[T, int], WaitDecision]
"""``(state, attempt) -> WaitDecision``; attempts count from 1."""

Until: TypeAlias = Callable[[T], bool]
"""True once the condition is met."""


def max_attempts(limit: int, strategy: WaitStrategy[T]) -> WaitStrategy[T]:
    """``strategy``, but raising `WaitAttemptsExhaustedError` once ``limit`` checks have not met it."""
    if limit < 1:
        raise InvalidInputError(f"max_attempts must be at least 1, got {limit}")

    def limited(state: T, attempt: int) -> WaitDecision:
        decision = strategy(state, attempt)
        if decision.should_continue and attempt >= limit:
            raise WaitAttemptsExhaustedError(
                f"the condition was not met within {limit} attempt{'s' if limit != 1 else ''}"
            )
        return decision

    return limited


def fixed(
    delay: float | timedelta, *, until: Until[T], max_attempts: int | None = None
) -> WaitStrategy[T]:
    """Poll every ``delay`` (at least 1 s) until ``until(state)``."""
    seconds = to_seconds(delay, what="wait delay")

    def strategy(state: T, attempt: int) -> WaitDecision:
        return WaitDecision.stop() if until(state) else WaitDecision(True, seconds)

    return _limited(strategy, max_attempts)


def linear(
    *,
    until: Until[T],
    initial_delay: float | timedelta = 1,
    increment: float | timedelta = 1,
    max_delay: float | timedelta = 300,
    max_attempts: int | None = None,
) -> WaitStrategy[T]:
    """Delays of ``initial_delay``, ``initial_delay + increment``, ... capped at ``max_delay``."""
    first = to_seconds(initial_delay, what="initial_delay")
    step = to_seconds(increment, what="increment", minimum=0)
    cap = to_seconds(max_delay, what="max_delay")

    def strategy(state: T, attempt: int) -> WaitDecision:
        if until(state):
            return WaitDecision.stop()
        return WaitDecision(True, max(1, min(cap, first + step * (attempt - 1))))

    return _limited(strategy, max_attempts)


def exponential(
    *,
    until: Until[T],
    initial_delay: float | timedelta = 5,
    max_delay: float | timedelta = 300,
    backoff_rate: float = 1.5,
    jitter: Jitter = Jitter.FULL,
    max_attempts: int | None = 60,
    rng: random.Random | None = None,
) -> WaitStrategy[T]:
    """``initial_delay * backoff_rate**(attempt-1)``, capped at ``max_delay``, then jittered.

    The defaults are the official SDK's (5 s, 5 min, 1.5, full jitter, 60 attempts), so migrated code
    keeps its timing. ``rng`` makes the jitter reproducible in tests.
    """
    first = to_seconds(initial_delay, what="initial_delay")
    cap = to_seconds(max_delay, what="max_delay")
    if backoff_rate < 1 or not math.isfinite(backoff_rate):
        raise InvalidInputError(f"backoff_rate must be a finite number >= 1, got {backoff_rate}")

    def strategy(state: T, attempt: int) -> WaitDecision:
        if until(state):
            return WaitDecision.stop()
        # Cap the exponent first: 1.5 ** 10_000 overflows a float long before any attempt limit.
        exponent = min(attempt - 1, 1024)
        delay = min(float(cap), first * backoff_rate**exponent) if backoff_rate > 1 else float(first)
        if jitter is Jitter.FULL:
            delay = draw_jitter(rng, 0, delay, attempt)
        elif jitter is Jitter.HALF:
            delay = draw_jitter(rng, delay / 2, delay, attempt)
        return WaitDecision.after(delay)

    return _limited(strategy, max_attempts)


def _limited(strategy: WaitStrategy[T], limit: int | None) -> WaitStrategy[T]:
    return strategy if limit is None else max_attempts(limit, strategy)
