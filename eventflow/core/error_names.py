"""The official SDK's names for eventflow's failures, for handlers that record them (``error_types``).

Why: both SDKs record, at each level, the type of the error that escaped that level. A step, an invoke,
a wait_for_condition and a callback's sender record the user's own error in both. They differ where a
*failed operation's* error escapes into its parent context or ends the execution: eventflow records the
error that actually happened (the type the `OperationError` carries), the official SDK records its
wrapper class (``...exceptions.StepError``). Dashboards and the official testing library's assertions
key on the wrapper names, so a handler may ask for them (``durable_execution(error_types="official")``).
The names were observed by running official 3.0.0 handlers on the local service (tests/interop).
"""

from __future__ import annotations

from enum import StrEnum

from eventflow.errors import (
    BatchCompletionError,
    CallbackError,
    CallbackSubmitterError,
    CallbackTimeoutError,
    ChildContextError,
    InvalidInputError,
    InvokeError,
    NonDeterministicExecutionError,
    StepError,
    WaitForConditionError,
)


class ErrorTypes(StrEnum):
    """Which ErrorType names a handler records for failures that escape an operation."""

    EVENTFLOW = "eventflow"  # the error that happened (the default)
    OFFICIAL = "official"  # the official SDK's wrapper names


_EXCEPTIONS = "aws_durable_execution_sdk_python.exceptions"

# Most specific first: the first class in an exception's MRO found here names it.
OFFICIAL_NAMES: dict[type[BaseException], str] = {
    StepError: f"{_EXCEPTIONS}.StepError",
    ChildContextError: f"{_EXCEPTIONS}.ChildContextError",
    CallbackTimeoutError: f"{_EXCEPTIONS}.CallbackTimeoutError",
    CallbackSubmitterError: f"{_EXCEPTIONS}.CallbackSubmitterError",
    CallbackError: f"{_EXCEPTIONS}.CallbackExternalError",  # the sender failed it
    InvokeError: f"{_EXCEPTIONS}.InvokeError",  # timed out and stopped too: one class there
    WaitForConditionError: f"{_EXCEPTIONS}.WaitForConditionError",
    BatchCompletionError: "aws_durable_execution_sdk_python.concurrency.models.BatchCompletionError",
    NonDeterministicExecutionError: f"{_EXCEPTIONS}.NonDeterministicExecutionError",
    InvalidInputError: f"{_EXCEPTIONS}.ValidationError",
}


def official_name(exc: BaseException) -> str | None:
    """The official SDK's ErrorType for ``exc``, or ``None`` where it records the exception's own type."""
    for cls in type(exc).__mro__:
        name = OFFICIAL_NAMES.get(cls)
        if name is not None:
            return name
    return None


def wants_official(error_types: ErrorTypes | str) -> bool:
    """Whether a handler's ``error_types`` option asks for the official names (bad values refused)."""
    try:
        return ErrorTypes(error_types) is ErrorTypes.OFFICIAL
    except ValueError:
        choices = ", ".join(repr(choice.value) for choice in ErrorTypes)
        raise InvalidInputError(f"error_types must be one of {choices}, got {error_types!r}") from None
