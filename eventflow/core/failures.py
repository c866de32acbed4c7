"""Exceptions to wire `ErrorObject`s and back, the same way on every run."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any, TypeVar

from eventflow.errors import OperationError

if TYPE_CHECKING:
    from eventflow.events.wire import ErrorObject

E = TypeVar("E", bound=OperationError)


def type_name(cls: type) -> str:
    """``module.QualName`` of a class as an ErrorType names it; builtins unqualified (as the official
    SDK writes)."""
    if cls.__module__ == builtins.__name__:
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def error_type_name(exc: BaseException) -> str:
    """The ErrorType of an exception: its class's `type_name`."""
    return type_name(type(exc))


def error_object(exc: BaseException, official: bool = False) -> ErrorObject:
    """The wire form of an exception. An `OperationError` keeps the error it carries; with ``official``
    (the handler's ``error_types="official"``) its type is the official SDK's name for it
    (`error_names.official_name`), as is an `InvalidInputError`'s.

    Built unchecked when every member has its declared type (always, but for an `OperationError` made
    with odd values), so that a cold process's first failure builds no validator.
    """
    if isinstance(exc, OperationError):
        values = {
            "error_message": exc.message,
            "error_type": exc.error_type,
            "error_data": exc.error_data,
            "stack_trace": exc.stack_trace,
        }
    else:
        values = {"error_message": str(exc), "error_type": error_type_name(exc), "error_data": None,
                  "stack_trace": None}
    if official:
        from eventflow.core.error_names import official_name

        values["error_type"] = official_name(exc) or values["error_type"]
    from eventflow.events.wire import ErrorObject  # the wire models load with the first failure

    if _well_typed(values):
        return ErrorObject.unchecked(**values)
    return ErrorObject(**values)


def _well_typed(values: dict[str, Any]) -> bool:
    trace = values["stack_trace"]
    return all(
        value is None or type(value) is str for key, value in values.items() if key != "stack_trace"
    ) and (trace is None or (type(trace) is list and all(type(line) is str for line in trace)))


def operation_error(
    cls: type[E], error: ErrorObject | None, *, operation_id: str, name: str | None
) -> E:
    """The exception a failed operation raises, built from its recorded error."""
    if error is None:
        return cls("operation failed", operation_id=operation_id, name=name)
    return cls(
        error.error_message or "operation failed",
        error_type=error.error_type,
        error_data=error.error_data,
        stack_trace=list(error.stack_trace) if error.stack_trace else None,
        operation_id=operation_id,
        name=name,
    )
