"""CHAINED_INVOKE: start another durable function's execution and wait for its outcome.

START carries the serialized payload and ChainedInvokeOptions{FunctionName, TenantId}. It is flushed at
once, as the official SDK does (blocking): the invocation is about to suspend on it, and the answer may
already be terminal (a target the service cannot resolve comes back FAILED). The service re-invokes the
function when the target's execution ends; replay then returns the decoded result or raises the typed
error of the recorded status, without a new checkpoint.
"""

from __future__ import annotations

from typing import Any

from eventflow.core.effects import Flush, Plan
from eventflow.core.failures import operation_error, type_name
from eventflow.core.operation_table import detail
from eventflow.core.scope import Scope
from eventflow.core.state import ExecutionState
from eventflow.core.updates import updater
from eventflow.errors import (
    InvokeError,
    InvokeStoppedError,
    InvokeTimeoutError,
    PayloadTooLargeError,
    SuspendExecution,
)
from eventflow.events.enums import OperationAction, OperationStatus, OperationSubType, OperationType
from eventflow.events.limits import MAX_INVOKE_PAYLOAD_BYTES
from eventflow.serdes import DEFAULT_SERDES, SerDes, deserialize, serialize

_ERRORS: dict[str, type[InvokeError]] = {
    OperationStatus.FAILED: InvokeError,
    OperationStatus.TIMED_OUT: InvokeTimeoutError,
    OperationStatus.STOPPED: InvokeStoppedError,
    OperationStatus.CANCELLED: InvokeError,
}


def invoke_plan(
    state: ExecutionState,
    scope: Scope,
    function_name: str,
    payload: Any,
    name: str | None,
    *,
    tenant_id: str | None,
    payload_serdes: SerDes | None,
    result_serdes: SerDes | None,
) -> Plan[Any]:
    """Invoke ``function_name`` with ``payload`` (or replay it) and return the target's result.

    The payload is written with ``payload_serdes`` and the result read with ``result_serdes`` (the
    official SDK's `InvokeConfig.serdes_payload` / `serdes_result`); either defaults to JSON.
    """
    op_id = scope.next_id()
    entry = state.recorded_entry(
        op_id, OperationType.CHAINED_INVOKE, OperationSubType.CHAINED_INVOKE, name, scope.parent_id
    )
    if entry is None:
        data = serialize(payload_serdes or DEFAULT_SERDES, payload, op_id, state.arn)
        if len(data) > MAX_INVOKE_PAYLOAD_BYTES // 4 and len(data.encode()) > MAX_INVOKE_PAYLOAD_BYTES:
            raise PayloadTooLargeError(
                f"the payload of invoke {name or op_id} ({function_name}) is {len(data.encode())} bytes; "
                f"the service takes at most {MAX_INVOKE_PAYLOAD_BYTES}"
            )
        update = updater(
            op_id, scope.parent_id, name, OperationType.CHAINED_INVOKE, OperationSubType.CHAINED_INVOKE
        )
        # Built unvalidated once the two strings are checked: the options model's schema is not built.
        from eventflow.events.wire import ChainedInvokeOptions

        hooks = state.hooks
        trace = hooks.trace_header(op_id, function_name) if hooks is not None else None
        options = ChainedInvokeOptions.unchecked(
            function_name=function_name, tenant_id=tenant_id, x_amzn_trace_id=trace
        )
        state.emit(update(OperationAction.START, data, chained_invoke_options=options))
        yield Flush(state)
        entry = state.operations.entries.get(op_id)
    status = state.status(op_id) if entry is not None else OperationStatus.STARTED
    if status == OperationStatus.SUCCEEDED:
        result = detail(entry, "chained_invoke_details", "result")  # type: ignore[arg-type]
        return deserialize(result_serdes or DEFAULT_SERDES, result, op_id, state.arn)
    error_cls = _ERRORS.get(status)
    if error_cls is not None:
        details = state.operations[op_id].chained_invoke_details
        error = details.error if details else None
        if error is None:  # the service recorded no error: say what happened, in our own words
            raise error_cls(
                f"the invoked execution of {function_name} ended {status}",
                error_type=type_name(error_cls), operation_id=op_id, name=name,
            )
        raise operation_error(error_cls, error, operation_id=op_id, name=name)
    raise SuspendExecution(f"invoke {name or op_id} ({function_name}) waits for the target's execution")


__all__ = ["invoke_plan"]
