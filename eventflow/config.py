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

    They differ in when START is checkpointed, and in what a replay does with an attempt it finds STARTED,
    i.e. one a crash cut off.
    AT_LEAST_ONCE_PER_RETRY: START travels with the attempt's outcome in one call, or goes out while the
    code runs once it has run past a short linger (`eventflow.core.scheduler.START_LINGER_SECONDS`); an
    interrupted attempt runs again.
    AT_MOST_ONCE_PER_RETRY: START is acknowledged before the code runs, even with ``batch_start``; an
    interrupted attempt is not run again and counts as a failed attempt (the retry strategy decides what
    follows).
    """

    AT_LEAST_ONCE_PER_RETRY = "AT_LEAST_ONCE_PER_RETRY"
    AT_MOST_ONCE_PER_RETRY = "AT_MOST_ONCE_PER_RETRY"


@dataclass(frozen=True, slots=True)
class StepConfig:
    """Options of `step`. ``retry_strategy=None`` uses `RetryPresets.default()`.

    An at-least-once attempt's START rides with its completion (one checkpoint call per step, as the
    official SDK's non-blocking START gives); an attempt still running after the linger sends START while
    it runs, so a long attempt is on record and a sandbox that dies mid-step leaves StepStarted.
    ``batch_start=True`` (at-least-once steps only) never sends START alone, however long the code runs.
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
    ``is_virtual`` makes the context an id namespace only, as the official SDK's virtual contexts: it
    writes no CONTEXT checkpoint, its operations take the enclosing context's parent as ParentId and
    derive their ids from the context's id, and its function re-runs on every replay.
    """

    serdes: SerDes | None = None
    sub_type: str | None = None
    summary: Callable[[Any], str] | None = None
    is_virtual: bool = False
