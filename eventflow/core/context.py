"""`ContextCore`: what a durable context is, minus how its plans are driven.

The sync `DurableContext` and the async `AsyncDurableContext` both derive from it; each adds only the
driving of plans (directly, or awaiting), so the argument handling below exists once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from eventflow.config import ChildConfig, StepConfig, StepSemantics
from eventflow.core.effects import Plan
from eventflow.core.operations.child import child_plan
from eventflow.core.operations.step import StepContext, step_plan
from eventflow.core.operations.wait import wait_plan
from eventflow.core.scope import Scope
from eventflow.core.state import ExecutionState
from eventflow.durations import to_seconds
from eventflow.retry import RetryStrategy
from eventflow.serdes import SerDes


class ContextCore:
    """The state and id namespace one context works in, and its operations as plans."""

    __slots__ = ("_scope", "_state")

    def __init__(self, state: ExecutionState, scope: Scope) -> None:
        self._state = state
        self._scope = scope

    @property
    def execution_arn(self) -> str:
        return self._state.arn

    @property
    def parent_id(self) -> str | None:
        """The id of the child context this context runs in; ``None`` at the root."""
        return self._scope.parent_id

    @property
    def is_replaying(self) -> bool:
        """True while the code is re-walking operations that are already recorded."""
        return self._state.replaying

    @property
    def state(self) -> ExecutionState:
        """The folded execution state, event log included (read it, don't change it)."""
        return self._state

    def _step(
        self,
        fn: Callable[[StepContext], Any],
        name: str | None,
        config: StepConfig | None,
        retry: RetryStrategy | None,
        semantics: StepSemantics | None,
        serdes: SerDes | None,
    ) -> Plan[Any]:
        if retry is not None or semantics is not None or serdes is not None:
            base = config or StepConfig()
            config = StepConfig(
                retry_strategy=retry if retry is not None else base.retry_strategy,
                semantics=semantics if semantics is not None else base.semantics,
                serdes=serdes if serdes is not None else base.serdes,
            )
        return step_plan(self._state, self._scope, fn, name, config)

    def _wait(
        self,
        duration: float | timedelta | None,
        seconds: float,
        minutes: float,
        hours: float,
        days: float,
        name: str | None,
    ) -> Plan[None]:
        total = to_seconds(duration, seconds=seconds, minutes=minutes, hours=hours, days=days, what="wait")
        return wait_plan(self._state, self._scope, total, name)

    def _child(
        self, fn: Callable[[Any], Any], name: str | None, config: ChildConfig | None, serdes: SerDes | None
    ) -> Plan[Any]:
        if serdes is not None:
            base = config or ChildConfig()
            config = ChildConfig(serdes=serdes, sub_type=base.sub_type, summary=base.summary)
        return child_plan(self._state, self._scope, fn, name, config)
