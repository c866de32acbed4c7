"""`ContextCore`: what a durable context is, minus how its plans are driven.

The sync `DurableContext` and the async `AsyncDurableContext` both derive from it; each adds only the
driving of plans (directly, or awaiting), so the argument handling below exists once.

The plans of map/parallel, invoke and wait_for_condition are imported by their first use: a cold
start whose handler uses none of them does not load them (~5 ms).
"""

from __future__ import annotations

import dataclasses
import random as _random_module
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from eventflow.batch import BatchResult, MapConfig, ParallelBranch, ParallelConfig
from eventflow.config import ChildConfig, StepConfig, StepSemantics
from eventflow.core.effects import Plan
from eventflow.core.names import label, require_callable
from eventflow.core.observer import ContextLogger, LoggerLike, logging_of
from eventflow.core.operations.callback import (
    CallbackHandle,
    Submitter,
    callback_plan,
    wait_for_callback_plan,
)
from eventflow.core.operations.child import child_plan
from eventflow.core.operations.compensation import (
    Compensation,
    CompensationSummary,
    compensation_plan,
    registered_plan,
)
from eventflow.core.operations.step import StepContext, step_plan
from eventflow.core.operations.wait import wait_plan
from eventflow.core.scope import Scope
from eventflow.core.state import ExecutionState
from eventflow.durations import to_seconds
from eventflow.errors import InvalidInputError
from eventflow.retry import RetryStrategy
from eventflow.serdes import DEFAULT_SERDES, SerDes, SerDesContext
from eventflow.waits import WaitStrategy


class ContextCore:
    """The state and id namespace one context works in, and its operations as plans."""

    __slots__ = ("_compensations", "_scope", "_state")

    def __init__(self, state: ExecutionState, scope: Scope) -> None:
        self._state = state
        self._scope = scope
        self._compensations: list[Compensation] | None = None

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

    # -- logging, deterministic helpers, compensation (eventflow.log, .operations.compensation) -------

    @property
    def logger(self) -> ContextLogger:
        """A logger that is silent while this execution replays and tags records with its ARN (and the
        enclosing child context's id). See `eventflow.log`."""
        return logging_of(self._state).context_logger(self._state, self._scope)

    def set_logger(self, logger: LoggerLike, *, log_replay: bool = False) -> None:
        """Write ``ctx.logger`` and ``step_context.logger`` records to ``logger`` (stdlib or Powertools)
        from now on, in every context of this invocation; ``log_replay`` keeps them writing on replay."""
        self._state.log_settings = logging_of(self._state).configured(logger, log_replay)

    def _now(self, name: str | None) -> Plan[datetime]:
        return step_plan(self._state, self._scope, _utc_now, name or "now", _NOW_CONFIG)

    def _random(self, name: str | None) -> Plan[float]:
        return step_plan(self._state, self._scope, _random_float, name or "random", _RANDOM_CONFIG)

    def _uuid4(self, name: str | None) -> Plan[uuid.UUID]:
        return step_plan(self._state, self._scope, _new_uuid4, name or "uuid4", _UUID_CONFIG)

    def _step_with_compensation(
        self,
        fn: Callable[[StepContext], Any],
        compensate: Callable[[Any], Any],
        name: str | None,
        *,
        config: StepConfig | None,
        retry: RetryStrategy | None,
        semantics: StepSemantics | None,
        serdes: SerDes | None,
        compensation_name: str | None,
        compensation_config: StepConfig | None,
    ) -> Plan[Any]:
        step_name = label(name, fn)
        undo_name = compensation_name or label(None, compensate)
        if undo_name is None and step_name is not None:
            undo_name = f"compensate {step_name}"
        if self._compensations is None:
            self._compensations = []
        plan = self._step(fn, name, config, retry, semantics, serdes)
        entry = Compensation(undo_name, compensate, None, compensation_config)
        return registered_plan(plan, self._compensations, entry)

    def _run_compensations(self, name: str | None) -> Plan[CompensationSummary]:
        if self._compensations is None:
            self._compensations = []
        return compensation_plan(self._state, self._scope, self._compensations, name)

    def _step_config(
        self,
        config: StepConfig | None,
        retry: RetryStrategy | None,
        semantics: StepSemantics | None,
        serdes: SerDes | None,
    ) -> StepConfig | None:
        """``config`` with the keyword shortcuts of ``ctx.step`` applied over it."""
        if retry is None and semantics is None and serdes is None:
            return config
        base = config or StepConfig()
        return dataclasses.replace(
            base,
            retry_strategy=retry if retry is not None else base.retry_strategy,
            semantics=semantics if semantics is not None else base.semantics,
            serdes=serdes if serdes is not None else base.serdes,
        )

    def _step(
        self,
        fn: Callable[[StepContext], Any],
        name: str | None,
        config: StepConfig | None,
        retry: RetryStrategy | None,
        semantics: StepSemantics | None,
        serdes: SerDes | None,
    ) -> Plan[Any]:
        config = self._step_config(config, retry, semantics, serdes)
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
        require_callable(fn, "ctx.child_context", "(child_ctx) -> value")
        if serdes is not None:
            base = config or ChildConfig()
            config = ChildConfig(serdes=serdes, sub_type=base.sub_type, summary=base.summary)
        return child_plan(self._state, self._scope, fn, name, config)

    # -- map and parallel (eventflow.core.operations.batch) -----------------------------------------

    def _map(
        self, items: Iterable[Any], fn: Callable[..., Any], name: str | None, config: MapConfig[Any] | None
    ) -> Plan[BatchResult[Any]]:
        # Validated here, before the plan runs, so a bad argument leaves no operation in the history.
        from eventflow.core.operations.batch import batch_plan, map_spec

        require_callable(fn, "ctx.map", "(item_ctx, item, index, items) -> value")
        return batch_plan(self._state, self._scope, map_spec(items, fn, config), name, fn)

    def _parallel(
        self,
        branches: Sequence[Callable[[Any], Any] | ParallelBranch[Any]] | Mapping[str, Callable[[Any], Any]],
        name: str | None,
        config: ParallelConfig | None,
    ) -> Plan[BatchResult[Any]]:
        from eventflow.core.operations.batch import batch_plan, parallel_spec

        return batch_plan(self._state, self._scope, parallel_spec(branches, config), name)

    # -- callbacks, invokes, conditions (eventflow.core.operations.callback / invoke / condition) ----

    def _create_callback(
        self,
        name: str | None,
        timeout: float | timedelta | None,
        heartbeat_timeout: float | timedelta | None,
        serdes: SerDes | None,
    ) -> Plan[CallbackHandle]:
        return callback_plan(
            self._state, self._scope, name, timeout_seconds=_optional_seconds(timeout, "timeout"),
            heartbeat_timeout_seconds=_optional_seconds(heartbeat_timeout, "heartbeat_timeout"),
            serdes=serdes,
        )

    def _wait_for_callback(
        self,
        submitter: Submitter,
        name: str | None,
        *,
        timeout: float | timedelta | None,
        heartbeat_timeout: float | timedelta | None,
        retry: RetryStrategy | None,
        serdes: SerDes | None,
    ) -> Plan[Any]:
        require_callable(submitter, "ctx.wait_for_callback", "(callback_id, step_context) -> None")
        return wait_for_callback_plan(
            self._state, self._scope, submitter, name, timeout_seconds=_optional_seconds(timeout, "timeout"),
            heartbeat_timeout_seconds=_optional_seconds(heartbeat_timeout, "heartbeat_timeout"), retry=retry,
            serdes=serdes,
        )

    def _invoke(
        self,
        function_name: str,
        payload: Any,
        name: str | None,
        *,
        tenant_id: str | None,
        serdes: SerDes | None,
        payload_serdes: SerDes | None,
        result_serdes: SerDes | None,
    ) -> Plan[Any]:
        if not function_name or not isinstance(function_name, str):
            raise InvalidInputError(f"invoke needs a function name (a non-empty str), got {function_name!r}")
        if tenant_id is not None and not isinstance(tenant_id, str):
            raise InvalidInputError(f"invoke's tenant_id must be a string, got {tenant_id!r}")
        from eventflow.core.operations.invoke import invoke_plan

        return invoke_plan(
            self._state, self._scope, function_name, payload, name, tenant_id=tenant_id,
            payload_serdes=payload_serdes or serdes, result_serdes=result_serdes or serdes,
        )

    def _wait_for_condition(
        self,
        check: Callable[[Any, StepContext], Any],
        *,
        initial_state: Any,
        wait_strategy: WaitStrategy[Any],
        name: str | None,
        serdes: SerDes | None,
    ) -> Plan[Any]:
        from eventflow.core.operations.condition import condition_plan

        return condition_plan(
            self._state, self._scope, check, initial_state=initial_state, wait_strategy=wait_strategy,
            name=name, serdes=serdes,
        )


def _optional_seconds(value: float | timedelta | None, what: str) -> int:
    """Whole seconds of an optional timeout; ``None`` and 0 mean "no timeout", written as 0."""
    if value is None:
        return 0
    return to_seconds(value, what=what, minimum=0)


# -- deterministic helpers: each value is made once inside a step and replayed from its checkpoint ------


def _utc_now(_: StepContext) -> datetime:
    return datetime.now(UTC)


def _random_float(_: StepContext) -> float:
    return _random_module.random()


def _new_uuid4(_: StepContext) -> uuid.UUID:
    return uuid.uuid4()


class _IsoDatetimeSerDes:
    """A datetime as its ISO 8601 JSON string: exact to the microsecond, offset included, readable."""

    def serialize(self, value: Any, context: SerDesContext) -> str:
        return DEFAULT_SERDES.serialize(value.isoformat(), context)

    def deserialize(self, data: str, context: SerDesContext) -> Any:
        return datetime.fromisoformat(DEFAULT_SERDES.deserialize(data, context))


class _UuidSerDes:
    """A UUID as its canonical JSON string."""

    def serialize(self, value: Any, context: SerDesContext) -> str:
        return DEFAULT_SERDES.serialize(str(value), context)

    def deserialize(self, data: str, context: SerDesContext) -> Any:
        return uuid.UUID(DEFAULT_SERDES.deserialize(data, context))


# Explicit serdes: a handler-wide default (e.g. the envelope) must not change how these values are written.
_NOW_CONFIG = StepConfig(serdes=_IsoDatetimeSerDes())
_RANDOM_CONFIG = StepConfig(serdes=DEFAULT_SERDES)
_UUID_CONFIG = StepConfig(serdes=_UuidSerDes())
