"""Plugin hooks: observe invocations, operations and step attempts without touching the execution.

Why: tracing, metrics and audit logs want to see what a durable execution does, and must never be able
to change it. A plugin is any object with some of the ``on_*`` methods of `Plugin` (subclass
`BasePlugin` to get no-op defaults), registered with ``durable_execution(plugins=[...])``. An object with
a ``create_plugin(info)`` method is a factory instead: it is asked for a fresh plugin at the start of
every invocation, so per-invocation state can live in plain attributes (the official SDK's model).

When the hooks run, each on the thread (or task) that runs the code concerned:

- ``on_invocation_start``: before the handler runs; ``info.is_first_invocation`` is true when no
  operation but the EXECUTION is recorded yet. ``on_invocation_end``: after the output is final
  (SUCCEEDED, FAILED, PENDING), or RETRY when the invocation raised so that Lambda retries it.
- ``on_operation_start``: when a new operation's START is queued, or when replay meets an operation that
  is recorded but not finished (a step waiting for its retry, a wait still running).
  ``on_operation_end``: when this invocation queues an operation's terminal update (before its
  checkpoint is sent), or when replay meets an operation the service finished since the previous
  invocation (it is in the input's ``UpdatedOperationIds``). A finished operation is not reported again.
- ``on_attempt_start`` / ``on_attempt_end``: around each run of a step's function, with the attempt
  number and, at the end, the outcome and error.
- ``on_user_function_start`` / ``on_user_function_end``: around user code, for child contexts as for
  steps (the official 3.0.0 API's hooks): a step attempt, or a child context's function (virtual
  contexts and map/parallel items included); ``INCOMPLETE`` when it suspended.
- ``provide_propagation_metadata``: asked before a chained invoke starts, for the X-Ray trace header
  its START carries (`PropagationInfo` in, `PropagationMetadata` or ``None`` out; the first answer wins).

Operation, attempt and user-function infos carry ``start_time`` / ``end_time`` (UTC, this process's
clock) where they are known.

A hook that raises is logged (logger ``eventflow.plugins``) and ignored. Without plugins nothing here is
allocated: the execution state holds ``None`` and each operation pays one attribute test.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from eventflow.core.observer import ExecutionObserver
from eventflow.errors import SuspendExecution
from eventflow.events.emitted import AnyUpdate
from eventflow.events.enums import TERMINAL_STATUSES, OperationAction, OperationStatus, OperationType
from eventflow.machine.table import NEW

if TYPE_CHECKING:
    from eventflow.core.effects import Plan
    from eventflow.core.state import ExecutionState
    from eventflow.events.wire import ErrorObject, Operation

_log = logging.getLogger("eventflow.plugins")


class InvocationOutcome(StrEnum):
    """How an invocation ended, as plugins see it: the output status, or RETRY when it raised."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    PENDING = "PENDING"
    RETRY = "RETRY"


class AttemptOutcome(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class UserFunctionOutcome(StrEnum):
    """How user code ended: returned, raised, or suspended (the operation goes on later)."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    INCOMPLETE = "INCOMPLETE"


@dataclass(frozen=True, slots=True)
class InvocationStartInfo:
    """The invocation about to run. ``execution_input`` and ``operations`` hold user data: record them
    only deliberately."""

    execution_arn: str
    request_id: str | None
    is_first_invocation: bool
    execution_start_time: datetime | None
    execution_input: Any = field(default=None, repr=False, compare=False)
    operations: Mapping[str, Operation] = field(default_factory=dict, repr=False, compare=False)
    updated_operation_ids: tuple[str, ...] = ()
    trace_header: str | None = None


@dataclass(frozen=True, slots=True)
class InvocationEndInfo:
    """The invocation's outcome. ``result`` is the serialized result (``""`` when it was checkpointed)."""

    execution_arn: str
    request_id: str | None
    is_first_invocation: bool
    status: InvocationOutcome
    error: ErrorObject | None = None
    result: str | None = field(default=None, repr=False, compare=False)
    operations: Mapping[str, Operation] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class OperationInfo:
    """An operation starting or ending. ``is_replayed`` marks one met on replay rather than run now."""

    operation_id: str
    operation_type: OperationType
    sub_type: str | None
    name: str | None
    parent_id: str | None
    status: OperationStatus
    is_replayed: bool = False
    attempt: int | None = None
    result: str | None = field(default=None, repr=False, compare=False)
    error: ErrorObject | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class AttemptInfo:
    """One run of a step's function. ``outcome`` and ``error`` are set on the end hook only."""

    operation_id: str
    operation_type: OperationType
    sub_type: str | None
    name: str | None
    parent_id: str | None
    attempt: int
    outcome: AttemptOutcome | None = None
    error: ErrorObject | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class UserFunctionInfo:
    """User code of a STEP (one attempt) or a CONTEXT starting or ending. ``outcome``, ``error`` and
    ``end_time`` are set on the end hook only; ``is_replay_children`` marks a finished context re-run to
    rebuild its result; ``is_virtual`` a context that writes no checkpoint."""

    operation_id: str
    operation_type: OperationType
    sub_type: str | None
    name: str | None
    parent_id: str | None
    attempt: int | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    outcome: UserFunctionOutcome | None = None
    error: ErrorObject | None = None
    is_replay_children: bool = False
    is_virtual: bool = False


@dataclass(frozen=True, slots=True)
class PropagationInfo:
    """A chained invoke about to start: the operation and the function it invokes."""

    execution_arn: str
    operation_id: str
    target_function_name: str


@dataclass(frozen=True, slots=True)
class PropagationMetadata:
    """What a plugin propagates downstream: the X-Ray trace header."""

    x_amzn_trace_id: str | None = None


class Plugin(Protocol):
    """The hooks a plugin may implement; any subset will do at runtime."""

    def on_invocation_start(self, info: InvocationStartInfo) -> None:
        """An invocation began: its ARN, whether it replays, how many operations it was handed."""

    def on_invocation_end(self, info: InvocationEndInfo) -> None:
        """An invocation ended: its status (SUCCEEDED, FAILED or PENDING) and error, if any."""

    def on_operation_start(self, info: OperationInfo) -> None:
        """A durable operation was started for the first time (not on a replay)."""

    def on_operation_end(self, info: OperationInfo) -> None:
        """A durable operation ended (its final status is in ``info``)."""

    def on_attempt_start(self, info: AttemptInfo) -> None:
        """An attempt of a step (or of a wait_for_condition check) is about to run its code."""

    def on_attempt_end(self, info: AttemptInfo) -> None:
        """An attempt's code returned or raised (``info.error`` says which)."""

    def on_user_function_start(self, info: UserFunctionInfo) -> None:
        """A step's or a child context's own function is about to run (not on a replay)."""

    def on_user_function_end(self, info: UserFunctionInfo) -> None:
        """That function returned or raised; ``info`` says how (INCOMPLETE: it suspended)."""

    def provide_propagation_metadata(self, info: PropagationInfo) -> PropagationMetadata | None:
        """Metadata to carry into a chained invoke (a trace header): ``None`` for nothing."""


class PluginFactory(Protocol):
    """Builds the plugin that observes one invocation."""

    def create_plugin(self, info: InvocationStartInfo, /) -> Plugin | None: ...


class BasePlugin:
    """A plugin whose hooks do nothing: subclass it and override the ones you need."""

    def on_invocation_start(self, info: InvocationStartInfo) -> None:
        """An invocation began: its ARN, whether it replays, how many operations it was handed."""
        pass

    def on_invocation_end(self, info: InvocationEndInfo) -> None:
        """An invocation ended: its status (SUCCEEDED, FAILED or PENDING) and error, if any."""
        pass

    def on_operation_start(self, info: OperationInfo) -> None:
        """A durable operation was started for the first time (not on a replay)."""
        pass

    def on_operation_end(self, info: OperationInfo) -> None:
        """A durable operation ended (its final status is in ``info``)."""
        pass

    def on_attempt_start(self, info: AttemptInfo) -> None:
        """An attempt of a step (or of a wait_for_condition check) is about to run its code."""
        pass

    def on_attempt_end(self, info: AttemptInfo) -> None:
        """An attempt's code returned or raised (``info.error`` says which)."""
        pass

    def on_user_function_start(self, info: UserFunctionInfo) -> None:
        """A step's or a child context's own function is about to run (not on a replay)."""

    def on_user_function_end(self, info: UserFunctionInfo) -> None:
        """That function returned or raised; ``info`` says how (INCOMPLETE: it suspended)."""

    def provide_propagation_metadata(self, info: PropagationInfo) -> PropagationMetadata | None:
        """Metadata to carry into a chained invoke (a trace header): ``None`` for nothing."""
        return None


_HOOKS = (
    "on_invocation_start",
    "on_invocation_end",
    "on_operation_start",
    "on_operation_end",
    "on_attempt_start",
    "on_attempt_end",
    "on_user_function_start",
    "on_user_function_end",
    "provide_propagation_metadata",
)
_STATUS_OF_ACTION = {
    OperationAction.START: OperationStatus.STARTED,
    OperationAction.SUCCEED: OperationStatus.SUCCEEDED,
    OperationAction.FAIL: OperationStatus.FAILED,
    OperationAction.CANCEL: OperationStatus.CANCELLED,
}


def _error_of(op: Operation) -> ErrorObject | None:
    for details in (op.step_details, op.context_details, op.callback_details, op.chained_invoke_details):
        if details is not None and details.error is not None:
            return details.error
    return None


def _result_of(op: Operation) -> str | None:
    for details in (op.step_details, op.context_details, op.callback_details, op.chained_invoke_details):
        if details is not None and details.result is not None:
            return details.result
    return None


def _now() -> datetime:
    return datetime.now(UTC)


def _outcome(exc: BaseException | None) -> UserFunctionOutcome:
    if exc is None:
        return UserFunctionOutcome.SUCCEEDED
    return UserFunctionOutcome.INCOMPLETE if isinstance(exc, SuspendExecution) else UserFunctionOutcome.FAILED


class PluginHost(ExecutionObserver):
    """The plugins of one invocation and the dispatch of their hooks. Created per invocation.

    Implements the core's `ExecutionObserver`. Hooks may be called from several threads at once (sync
    map/parallel items run on a pool); the host keeps no state a hook call changes but ``_ended`` and
    ``_started``, whose single set operations are atomic under the GIL, and the plugins are responsible
    for their own.
    """

    __slots__ = (
        "_ended", "_first", "_hooks", "_registered", "_request_id", "_started", "_state", "_trace_header",
        "_updated",
    )

    def __init__(self, registered: Sequence[Plugin | PluginFactory], lambda_context: Any = None) -> None:
        self._registered = registered
        self._request_id: str | None = getattr(lambda_context, "aws_request_id", None)
        # The invocation's X-Ray header: the local service hands it on its context; Lambda sets the
        # variable per invocation.
        self._trace_header: str | None = getattr(lambda_context, "x_amzn_trace_id", None) or os.environ.get(
            "_X_AMZN_TRACE_ID"
        )
        self._hooks: dict[str, list[tuple[object, Callable[[Any], None]]]] = {}
        self._state: ExecutionState | None = None
        self._updated: frozenset[str] = frozenset()
        self._ended: set[str] = set()
        self._started: dict[tuple[str, int | None], datetime] = {}
        self._first = False

    # -- invocation ---------------------------------------------------------------------------------

    def start(self, state: ExecutionState, execution_input: Any, updated_ids: Sequence[str]) -> None:
        """Attach to ``state``, build factory plugins and run ``on_invocation_start``."""
        self._state = state
        self._updated = frozenset(updated_ids)
        self._first = not state.replaying
        info = InvocationStartInfo(
            execution_arn=state.arn,
            request_id=self._request_id,
            is_first_invocation=self._first,
            execution_start_time=state.execution.start_timestamp,
            execution_input=execution_input,
            operations=MappingProxyType(state.operations),
            updated_operation_ids=tuple(updated_ids),
            trace_header=self._trace_header,
        )
        plugins: list[object] = []
        for entry in self._registered:
            create = getattr(entry, "create_plugin", None)
            if callable(create):
                try:
                    plugin = create(info)
                except Exception:
                    _log.exception(
                        "plugin factory %s failed; its plugin is skipped", type(entry).__qualname__
                    )
                    continue
                if plugin is None:
                    continue
                plugins.append(plugin)
            else:
                plugins.append(entry)
        for hook in _HOOKS:
            # A hook a plugin inherits from `BasePlugin` unchanged does nothing: not calling it spares
            # building its info on every operation.
            bound = [
                (p, m) for p in plugins
                if callable(m := getattr(p, hook, None))
                and getattr(type(p), hook, None) is not getattr(BasePlugin, hook)
            ]
            if bound:
                self._hooks[hook] = bound
        state.hooks = self
        self._dispatch("on_invocation_start", info)

    def observe(self, plan: Plan[dict[str, Any]]) -> Generator[Any, Any, dict[str, Any]]:
        """``plan`` (an invocation plan), followed by ``on_invocation_end`` with its outcome."""
        try:
            output = yield from plan
        except GeneratorExit:
            raise  # the driver abandoned the plan: there is no outcome to report
        except BaseException as exc:
            self._end(InvocationOutcome.RETRY, None, None, exc)
            raise
        error = output.get("Error")
        if isinstance(error, Mapping):
            from eventflow.events.wire import ErrorObject
        self._end(
            InvocationOutcome(output.get("Status", InvocationOutcome.FAILED)),
            ErrorObject.from_wire(error) if isinstance(error, Mapping) else None,
            output.get("Result"),
            None,
        )
        return output

    def _end(
        self,
        status: InvocationOutcome,
        error: ErrorObject | None,
        result: str | None,
        exc: BaseException | None,
    ) -> None:
        state = self._state
        if state is None:
            return  # the input was rejected before an execution state existed: nothing started
        if exc is not None and error is None:
            from eventflow.core.failures import error_object

            error = error_object(exc)
        self._dispatch(
            "on_invocation_end",
            InvocationEndInfo(
                execution_arn=state.arn,
                request_id=self._request_id,
                is_first_invocation=self._first,
                status=status,
                error=error,
                result=result,
                operations=MappingProxyType(state.operations),
            ),
        )

    # -- operations (called by ExecutionState) -------------------------------------------------------

    def operation_replayed(self, op: Operation) -> None:
        """Replay met ``op``: report a start if it is unfinished, an end if it finished while suspended."""
        if op.type == OperationType.EXECUTION:
            return
        if op.status not in TERMINAL_STATUSES:
            if "on_operation_start" in self._hooks:
                self._dispatch("on_operation_start", self._info(op, replayed=True))
        elif op.id in self._updated and op.id not in self._ended:
            self._ended.add(op.id)
            if "on_operation_end" in self._hooks:
                self._dispatch("on_operation_end", self._info(op, replayed=True))

    def operation_updated(self, update: AnyUpdate, previous: str) -> None:
        """An update was queued: a START of a new operation, or a terminal update, is reported."""
        if update.type == OperationType.EXECUTION:
            return
        action = update.action
        if action == OperationAction.START:
            if previous == NEW and "on_operation_start" in self._hooks:
                self._dispatch("on_operation_start", self._update_info(update))
        elif action != OperationAction.RETRY and update.id not in self._ended:
            self._ended.add(update.id)
            if "on_operation_end" in self._hooks:
                self._dispatch("on_operation_end", self._update_info(update))

    def attempt_started(
        self, op_id: str, name: str | None, sub_type: str | None, parent_id: str | None, attempt: int
    ) -> None:
        now = _now()
        self._started[op_id, attempt] = now
        if "on_attempt_start" in self._hooks:
            self._dispatch(
                "on_attempt_start",
                AttemptInfo(op_id, OperationType.STEP, sub_type, name, parent_id, attempt, start_time=now),
            )
        if "on_user_function_start" in self._hooks:
            self._dispatch(
                "on_user_function_start",
                UserFunctionInfo(op_id, OperationType.STEP, sub_type, name, parent_id, attempt, now),
            )

    def attempt_ended(
        self,
        op_id: str,
        name: str | None,
        sub_type: str | None,
        parent_id: str | None,
        attempt: int,
        *,
        exc: BaseException | None,
    ) -> None:
        started = self._started.pop((op_id, attempt), None)
        if "on_attempt_end" not in self._hooks and "on_user_function_end" not in self._hooks:
            return
        now = _now()
        error: ErrorObject | None = None
        if exc is not None:
            from eventflow.core.failures import error_object

            error = error_object(exc)
        outcome = AttemptOutcome.SUCCEEDED if exc is None else AttemptOutcome.FAILED
        if "on_attempt_end" in self._hooks:
            self._dispatch(
                "on_attempt_end",
                AttemptInfo(
                    op_id, OperationType.STEP, sub_type, name, parent_id, attempt,
                    outcome, error, started, now,
                ),
            )
        if "on_user_function_end" in self._hooks:
            self._dispatch(
                "on_user_function_end",
                UserFunctionInfo(
                    op_id, OperationType.STEP, sub_type, name, parent_id, attempt, started, now,
                    _outcome(exc), error,
                ),
            )

    def context_entered(
        self, op_id: str, name: str | None, sub_type: str | None, parent_id: str | None, *, replay: bool
    ) -> None:
        now = _now()
        self._started[op_id, None] = now
        if "on_user_function_start" in self._hooks:
            virtual = self._is_virtual(op_id)
            self._dispatch(
                "on_user_function_start",
                UserFunctionInfo(
                    op_id, OperationType.CONTEXT, sub_type, name, parent_id, None, now,
                    is_replay_children=replay, is_virtual=virtual,
                ),
            )

    def context_exited(
        self,
        op_id: str,
        name: str | None,
        sub_type: str | None,
        parent_id: str | None,
        *,
        exc: BaseException | None,
    ) -> None:
        started = self._started.pop((op_id, None), None)
        if "on_user_function_end" not in self._hooks:
            return
        error: ErrorObject | None = None
        if exc is not None and not isinstance(exc, SuspendExecution):
            from eventflow.core.failures import error_object

            error = error_object(exc)
        self._dispatch(
            "on_user_function_end",
            UserFunctionInfo(
                op_id, OperationType.CONTEXT, sub_type, name, parent_id, None, started, _now(),
                _outcome(exc), error, is_virtual=self._is_virtual(op_id),
            ),
        )

    def trace_header(self, op_id: str, function_name: str) -> str | None:
        state = self._state
        if state is None:
            return None
        info = PropagationInfo(state.arn, op_id, function_name)
        for plugin, method in self._hooks.get("provide_propagation_metadata", ()):
            try:
                metadata = method(info)
            except Exception:
                _log.exception("plugin %s failed in provide_propagation_metadata", type(plugin).__qualname__)
                continue
            header = getattr(metadata, "x_amzn_trace_id", None)
            if header:
                return str(header)
        return None

    def _is_virtual(self, op_id: str) -> bool:
        """A context with neither a record nor a queued state: one that writes no checkpoint."""
        state = self._state
        return state is not None and state.status(op_id) == NEW

    # -- helpers -------------------------------------------------------------------------------------

    @staticmethod
    def _info(op: Operation, *, replayed: bool) -> OperationInfo:
        return OperationInfo(
            operation_id=op.id,
            operation_type=op.type,
            sub_type=op.sub_type,
            name=op.name,
            parent_id=op.parent_id,
            status=op.status,
            is_replayed=replayed,
            attempt=op.step_details.attempt if op.step_details else None,
            result=_result_of(op),
            error=_error_of(op),
            start_time=op.start_timestamp,
            end_time=op.end_timestamp,
        )

    def _update_info(self, update: AnyUpdate) -> OperationInfo:
        attempt: int | None = None
        if update.type == OperationType.STEP and self._state is not None:
            recorded = self._state.operations.get(update.id)
            details = recorded.step_details if recorded is not None else None
            attempt = (details.attempt or 0) + 1 if details else 1
        now = _now()
        starting = update.action == OperationAction.START
        return OperationInfo(
            start_time=now if starting else None,
            end_time=None if starting else now,
            operation_id=update.id,
            operation_type=update.type,
            sub_type=update.sub_type,
            name=update.name,
            parent_id=update.parent_id,
            status=_STATUS_OF_ACTION.get(update.action, OperationStatus.STARTED),
            attempt=attempt,
            result=update.payload,
            error=update.error,
        )

    def _dispatch(self, hook: str, info: object) -> None:
        for plugin, method in self._hooks.get(hook, ()):
            try:
                method(info)
            except Exception:
                _log.exception(
                    "plugin %s failed in %s; the execution goes on",
                    type(plugin).__qualname__,
                    hook,
                    extra={"executionArn": self._state.arn if self._state else None},
                )


__all__ = [
    "AttemptInfo",
    "AttemptOutcome",
    "BasePlugin",
    "InvocationEndInfo",
    "InvocationOutcome",
    "InvocationStartInfo",
    "OperationInfo",
    "Plugin",
    "PluginFactory",
    "PluginHost",
    "PropagationInfo",
    "PropagationMetadata",
    "UserFunctionInfo",
    "UserFunctionOutcome",
]
