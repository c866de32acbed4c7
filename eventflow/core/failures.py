"""Exceptions to wire `ErrorObject`s and back, the same way on every run."""

from __future__ import annotations

import builtins
from typing import TypeVar

from eventflow.errors import OperationError
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


def error_object(exc: BaseException) -> ErrorObject:
    """The wire form of an exception. An `OperationError` keeps the error it carries."""
    if isinstance(exc, OperationError):
        return ErrorObject(
            error_message=exc.message,
            error_type=exc.error_type,
            error_data=exc.error_data,
            stack_trace=exc.stack_trace,
        )
    return ErrorObject(
        error_message=str(exc), error_type=error_type_name(exc), error_data=None, stack_trace=None
    )


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
