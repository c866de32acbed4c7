"""The local durable-execution service: run and test durable functions without AWS."""

from eventflow.local.clock import RealClock, VirtualClock
from eventflow.local.engine import LambdaContext, LocalService, RegisteredFunction
from eventflow.local.errors import (
    CallbackNotFoundError,
    CallbackTimedOutError,
    ExecutionAlreadyStartedError,
    ExecutionNotFoundError,
    FunctionNotFoundError,
    ServiceError,
)
from eventflow.local.model import LocalExecution
from eventflow.local.store import MemoryStore, Store

__all__ = [
    "CallbackNotFoundError",
    "CallbackTimedOutError",
    "ExecutionAlreadyStartedError",
    "ExecutionNotFoundError",
    "FunctionNotFoundError",
    "LambdaContext",
    "LocalExecution",
    "LocalService",
    "MemoryStore",
    "RealClock",
    "RegisteredFunction",
    "ServiceError",
    "Store",
    "VirtualClock",
]
