"""Errors the local service raises, each carrying the Lambda API error code and HTTP status it maps to.

They derive from eventflow's `InvalidInputError` so callers that catch "bad input" keep working, and they
carry `code`/`http_status` so the HTTP front-end can answer in the service's own 4xx shapes without a
lookup table that could drift from the raising site.
"""

from __future__ import annotations

from eventflow.errors import InvalidInputError


class ServiceError(InvalidInputError):
    """A request the service refuses. `code` is the botocore error shape name."""

    code = "InvalidParameterValueException"
    http_status = 400


class InvalidParameterValueError(ServiceError):
    """A malformed or out-of-range request parameter."""


class InvalidRequestContentError(ServiceError):
    """A request body that is not the JSON the API expects."""

    code = "InvalidRequestContentException"


class RequestTooLargeError(ServiceError):
    """A request body or payload over the service's size limit."""

    code = "RequestTooLargeException"
    http_status = 413


class ResourceNotFoundError(ServiceError):
    """Something the request names does not exist."""

    code = "ResourceNotFoundException"
    http_status = 404


class ExecutionNotFoundError(ResourceNotFoundError):
    """No durable execution has this ARN."""


class FunctionNotFoundError(ResourceNotFoundError):
    """No function is registered under this name."""


class CallbackNotFoundError(ResourceNotFoundError):
    """No open callback has this id: it never existed, was already completed, or its execution ended."""


class CallbackTimedOutError(CallbackNotFoundError):
    """The callback timed out before it was answered (the service's CallbackTimeoutException)."""

    code = "CallbackTimeoutException"
    http_status = 400


class ExecutionAlreadyStartedError(ServiceError):
    """A DurableExecutionName was reused with a different payload."""

    code = "DurableExecutionAlreadyStartedException"
    http_status = 409

    def __init__(self, message: str, *, arn: str) -> None:
        self.arn = arn
        super().__init__(message)


class ResourceConflictError(ServiceError):
    """The execution is not in a state that allows the request (pausing an ended execution, resuming one
    that is not paused, deleting one that has not ended)."""

    code = "ResourceConflictException"
    http_status = 409
