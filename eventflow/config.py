"""Per-operation options. Frozen so one config object can be shared by many calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from eventflow.retry import RetryStrategy
from eventflow.serdes import SerDes


class StepSemantics(StrEnum):
    """How often a step's code may run per retry when an invocation dies mid-step.

    Both checkpoint START before the code runs (unless `StepConfig.batch_start`); they differ in what a
    replay does with an attempt it finds STARTED, i.e. one a crash cut off.
    AT_LEAST_ONCE_PER_RETRY: the attempt runs again.
    AT_MOST_ONCE_PER_RETRY: the attempt is not run again and counts as a failed attempt (the retry
    strategy decides what follows); START is always acknowledged first, even with ``batch_start``.
    """

    AT_LEAST_ONCE_PER_RETRY = "AT_LEAST_ONCE_PER_RETRY"
    AT_MOST_ONCE_PER_RETRY = "AT_MOST_ONCE_PER_RETRY"


@dataclass(frozen=True, slots=True)
class StepConfig:
    """Options of `step`. ``retry_strategy=None`` uses `RetryPresets.default()`.

    By default every attempt's START is checkpointed before the step's code runs, as the service and the
    official SDK record it: a sandbox that dies mid-step leaves the attempt on record. ``batch_start=True``
    (at-least-once steps only) sends START together with the completion instead, saving one checkpoint
    call per step at the price of that trace.
    """

    retry_strategy: RetryStrategy | None = None
    semantics: StepSemantics = StepSemantics.AT_LEAST_ONCE_PER_RETRY
    serdes: SerDes | None = None
    batch_start: bool = False


@dataclass(frozen=True, slots=True)
class ChildConfig:
    """Options of `child_context`.

    ``sub_type`` labels a custom construct built from a child context; ``summary`` produces the payload
    checkpointed in place of a result over 256 KiB (the children are then replayed to rebuild it).
    """

    serdes: SerDes | None = None
    sub_type: str | None = None
    summary: Callable[[Any], str] | None = None
