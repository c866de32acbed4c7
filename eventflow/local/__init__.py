"""The local durable-execution service: run and test durable functions without AWS."""

from eventflow.local.clock import RealClock, VirtualClock
from eventflow.local.engine import LambdaContext, LocalExecution, LocalService

__all__ = ["LambdaContext", "LocalExecution", "LocalService", "RealClock", "VirtualClock"]
