"""One invocation from the Lambda input dict to the output dict, as a plan (PROTOCOL.md §2).

Load (and page) the recorded operations, decode the user's event, run the handler in the root
context, then answer SUCCEEDED with the result, FAILED with the error, or PENDING when the handler
suspended on something the service will wake it for. A result too large for Lambda's response is
checkpointed on the EXECUTION operation instead. Errors that a retry could fix (a checkpoint the
service did not take) propagate, so that Lambda retries the invocation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from eventflow.core.effects import Enter, Flush, LoadPage, Plan
from eventflow.core.failures import error_object
from eventflow.core.operation_table import Entry
from eventflow.core.paging import MarkerGuard
from eventflow.core.scope import Scope
from eventflow.core.state import ExecutionState
from eventflow.errors import CheckpointError, InvalidInputError, SerDesError, SuspendExecution
from eventflow.events.enums import InvocationStatus, OperationAction, OperationType
from eventflow.events.records import validate_record

if TYPE_CHECKING:
    from eventflow.core.observer import ExecutionObserver, Logging
    from eventflow.serdes import SerDes

# Lambda's 6 MiB response limit, less room for the output envelope.
MAX_RESPONSE_BYTES = 6 * 1024 * 1024 - 50

Handler = Callable[[Any, Any], Any]


class NothingPendingError(InvalidInputError):
    """The handler suspended although the service has nothing to wake the execution for."""


def invocation_plan(
    event: Mapping[str, Any],
    handler: Handler,
    *,
    hooks: ExecutionObserver | None = None,
    log_settings: Logging | None = None,
    serdes: SerDes | None = None,
    keep_log: bool = False,
    official_errors: bool = False,
) -> Plan[dict[str, Any]]:
    """The whole invocation. ``handler(user_event, ctx)`` may return a value or an awaitable.

    ``hooks`` (plugins of this invocation), ``log_settings``, ``serdes`` (the default for operations
    that name none), ``keep_log`` (retain the invocation's event log, `ExecutionState.log`) and
    ``official_errors`` (record the official SDK's ErrorType names, `core.error_names`) are the
    handler's options; they ride on the execution state where plans read them.
    """
    if not isinstance(event, Mapping):
        raise InvalidInputError(
            "a durable handler takes the durable-execution invocation input (a dict), "
            f"got {type(event).__name__}"
        )
    # Validated as records, not models: a replay would spend most of its time building models.
    invocation = validate_record("DurableExecutionInvocationInput", event)  # a compiled schema: no pydantic
    arn, token = invocation["durable_execution_arn"], invocation["checkpoint_token"]
    initial = invocation.get("initial_execution_state") or {}
    operations: list[Entry] = initial.get("operations") or []
    marker = initial.get("next_marker")
    markers = MarkerGuard()
    while marker:
        markers.follow(marker)  # a service answering the same page again would page forever
        page = yield LoadPage(arn, token, marker)
        operations.extend(page.operations)
        marker = page.next_marker
    state = ExecutionState(arn, token, operations, keep_log=keep_log)
    state.official_errors = official_errors
    try:
        return (yield from _run(state, invocation, handler, hooks, log_settings, serdes))
    finally:
        state.checkpoints.close()  # a linger timer that fires after the answer sends nothing


def _run(
    state: ExecutionState,
    invocation: Mapping[str, Any],
    handler: Handler,
    hooks: ExecutionObserver | None,
    log_settings: Logging | None,
    serdes: SerDes | None,
) -> Plan[dict[str, Any]]:
    state.log_settings = log_settings
    if serdes is not None:
        state.serdes = serdes
    try:
        user_event = _user_event(state.input_payload())
    except SerDesError as exc:
        return _failed(exc, state.official_errors)
    if hooks is not None:
        hooks.start(state, user_event, invocation.get("updated_operation_ids", []))

    try:
        result = yield Enter(lambda ctx: handler(user_event, ctx), state, Scope())
    except SuspendExecution:
        if (refused := (yield from _flush(state))) is not None:
            return refused
        if state.has_pending_work():
            return {"Status": InvocationStatus.PENDING.value}
        nothing = NothingPendingError("the handler suspended but nothing is pending")
        return _failed(nothing, state.official_errors)
    except CheckpointError as exc:
        if exc.terminal:
            return _failed(exc, state.official_errors)
        raise
    except Exception as exc:
        return (yield from _flush(state)) or _failed(exc, state.official_errors)

    try:
        payload = json.dumps(result)  # what the official SDK writes, spaces included
    except (TypeError, ValueError) as exc:
        return _failed(
            SerDesError(f"cannot serialize the handler's result ({type(result).__name__}): {exc}"),
            state.official_errors,
        )
    if len(payload.encode()) > MAX_RESPONSE_BYTES:
        from eventflow.events.wire import OperationUpdate

        state.emit(
            OperationUpdate(
                id=state.execution_id,
                type=OperationType.EXECUTION,
                action=OperationAction.SUCCEED,
                payload=payload,
            )
        )
        payload = ""
    # A handler that caught a failed checkpoint cannot succeed: this flush raises it again.
    return (yield from _flush(state)) or {"Status": InvocationStatus.SUCCEEDED.value, "Result": payload}


def _flush(state: ExecutionState) -> Plan[dict[str, Any] | None]:
    """The invocation's last flush: ``None`` once everything is acknowledged, the FAILED answer when the
    service refused for good (an oversized result: retrying cannot help); any other checkpoint failure,
    earlier ones included, propagates so that Lambda retries the invocation."""
    try:
        yield Flush(state)
    except CheckpointError as exc:
        if exc.terminal:
            return _failed(exc, state.official_errors)
        raise
    return None


def _user_event(raw: str | None) -> Any:
    if raw is None or not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise SerDesError(f"the execution's input payload is not JSON: {exc}") from exc


def _failed(exc: BaseException, official: bool) -> dict[str, Any]:
    return {"Status": InvocationStatus.FAILED.value, "Error": error_object(exc, official).to_wire()}
