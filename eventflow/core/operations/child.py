"""CONTEXT: run a function in a child context with its own id namespace, checkpointed as one result.

START is emitted before the function runs (it travels with the children's first checkpoint); the
children carry the context's id as ParentId and derive their ids from it. SUCCEED carries the result,
or, past 256 KiB, a summary with ReplayChildren set: replay then re-enters the function so that the
children (all replayed from their own checkpoints) rebuild the result. FAIL carries the error.

A virtual context (``ChildConfig(is_virtual=True)``, FLAT map/parallel items) writes nothing: it is an id
namespace whose function runs on every invocation. The body is user code entered in a context of the
front-end's flavour (`Enter`), or, for constructs built in the core (wait_for_callback), a plan over
the child's scope, run inline so that the core never calls into a front-end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventflow.config import ChildConfig
from eventflow.core.effects import Enter, Flush, Plan
from eventflow.core.failures import error_object, operation_error
from eventflow.core.names import replay_name, resolve_name
from eventflow.core.operation_table import detail
from eventflow.core.scope import Scope, VirtualScope
from eventflow.core.state import ExecutionState
from eventflow.core.updates import updater
from eventflow.errors import CheckpointError, ChildContextError, NonDeterministicExecutionError
from eventflow.events.enums import OperationAction, OperationStatus, OperationSubType, OperationType
from eventflow.events.limits import MAX_PAYLOAD_BYTES
from eventflow.serdes import deserialize, round_trip

_DEFAULT_CONFIG = ChildConfig()
_CONTEXT = OperationType.CONTEXT


def child_plan(
    state: ExecutionState,
    scope: Scope,
    fn: Callable[[Any], Any],
    name: str | None,
    config: ChildConfig | None,
    op_id: str | None = None,
    body: Callable[[Scope], Plan[Any]] | None = None,
    *,
    acknowledged: bool = True,
) -> Plan[Any]:
    """Run ``fn`` in a child context (or the plan ``body`` builds over the child's scope, if given).
    ``op_id`` is given by map/parallel for their items.

    ``acknowledged=False`` (map and parallel items) queues the SUCCEED without waiting for it: the item's
    result reaches the parent through the batch, whose own completion travels after it, and a crash
    before it is sent only makes the next invocation replay the item's (recorded) operations again. So a
    finished item frees its slot at once and item completions share calls."""
    config = config or _DEFAULT_CONFIG
    sub_type = config.sub_type or OperationSubType.RUN_IN_CHILD_CONTEXT
    name, carried = resolve_name(name, fn)
    op_id = op_id or scope.next_id()
    parent_id = scope.parent_id
    if config.is_virtual:
        return (yield from _virtual_plan(state, op_id, fn, name, sub_type, parent_id, body))
    name = replay_name(state, op_id, name, carried, fn)
    entry = state.recorded_entry(op_id, _CONTEXT, sub_type, name, parent_id)
    serdes = config.serdes or state.serdes

    update = updater(op_id, parent_id, name, _CONTEXT, sub_type)

    finished = False
    if entry is not None:
        status = state.status(op_id)
        if status == OperationStatus.FAILED:
            details = state.operations[op_id].context_details
            raise operation_error(
                ChildContextError, details.error if details else None, operation_id=op_id, name=name
            )
        finished = status == OperationStatus.SUCCEEDED
        if finished and not detail(entry, "context_details", "replay_children"):
            return deserialize(serdes, detail(entry, "context_details", "result"), op_id, state.arn)
    else:
        state.emit(update(OperationAction.START))

    try:
        value = yield from _body(state, op_id, name, sub_type, parent_id, fn, body, Scope(op_id), finished)
    except CheckpointError:
        raise  # a broken checkpoint channel, not the child's failure: Lambda retries the invocation
    except NonDeterministicExecutionError as exc:
        # Changed code: the context records where it diverged (as the official SDK's do), and the
        # error itself, not a ChildContextError, ends the execution.
        if not finished:
            state.emit(update(OperationAction.FAIL, error=error_object(exc, state.official_errors)))
            yield Flush(state)
        raise
    except Exception as exc:
        if finished:
            raise
        error = error_object(exc, state.official_errors)
        state.emit(update(OperationAction.FAIL, error=error))
        yield Flush(state)
        raise operation_error(ChildContextError, error, operation_id=op_id, name=name) from exc
    if finished:
        return value  # rebuilt by replaying the children of a summarised result
    payload, value = round_trip(serdes, value, op_id, state.arn)
    if len(payload) > MAX_PAYLOAD_BYTES // 4 and len(payload.encode()) > MAX_PAYLOAD_BYTES:
        summary = config.summary(value) if config.summary else ""
        from eventflow.events.wire import ContextOptions

        state.emit(
            update(
                OperationAction.SUCCEED,
                payload=summary,
                context_options=ContextOptions(replay_children=True),
            )
        )
    else:
        state.emit(update(OperationAction.SUCCEED, payload=payload))
    if acknowledged:
        yield Flush(state)
    return value


def _body(
    state: ExecutionState,
    op_id: str,
    name: str | None,
    sub_type: str,
    parent_id: str | None,
    fn: Callable[[Any], Any],
    body: Callable[[Scope], Plan[Any]] | None,
    child_scope: Scope,
    replay: bool,
) -> Plan[Any]:
    """The context's function (or core plan) in ``child_scope``, reported to the observer if any."""
    hooks = state.hooks
    if hooks is None:
        if body is not None:
            return (yield from body(child_scope))
        return (yield Enter(fn, state, child_scope))
    hooks.context_entered(op_id, name, sub_type, parent_id, replay=replay)
    try:
        value = (yield from body(child_scope)) if body is not None else (yield Enter(fn, state, child_scope))
    except BaseException as exc:
        hooks.context_exited(op_id, name, sub_type, parent_id, exc=exc)
        raise
    hooks.context_exited(op_id, name, sub_type, parent_id, exc=None)
    return value


def _virtual_plan(
    state: ExecutionState,
    op_id: str,
    fn: Callable[[Any], Any],
    name: str | None,
    sub_type: str,
    parent_id: str | None,
    body: Callable[[Scope], Plan[Any]] | None,
) -> Plan[Any]:
    """A virtual context: nothing recorded at ``op_id``, its function run in a `VirtualScope`."""
    recorded = state.operations.get(op_id)
    if recorded is not None:  # a virtual context writes nothing at its own id: the code changed
        raise NonDeterministicExecutionError(
            op_id=op_id,
            recorded={"type": recorded.type, "sub_type": recorded.sub_type, "name": recorded.name},
            requested={"type": None, "sub_type": sub_type, "name": name, "virtual": True},
        )
    scope = VirtualScope(op_id, parent_id)
    return (yield from _body(state, op_id, name, sub_type, parent_id, fn, body, scope, False))
