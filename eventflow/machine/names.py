"""The vocabulary of the operation machines: their states and triggers.

It lives apart from `definitions` so that the hot path (`eventflow.machine.table` and the compiled tables it
loads) can name states and triggers without importing the definitions, and with them `transitions`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Literal, TypeAlias

from eventflow.events.enums import OperationAction, OperationStatus, OperationType

__all__ = ["CREATED_BY_SERVICE", "NEW", "ServiceTrigger", "State", "Trigger"]

NEW: Final = "NEW"
"""The pseudo-state of an operation the service has not recorded yet (the initial state of every machine)."""

State: TypeAlias = OperationStatus | Literal["NEW"]
"""A machine state: a wire status, or `NEW`. Both compare equal to their wire strings."""


class ServiceTrigger(StrEnum):
    """Transitions only the service performs; the SDK observes them but never sends them."""

    TIMER_ELAPSED = "timer_elapsed"
    """A WAIT's timer elapsed (history: WaitSucceeded)."""
    RETRY_DELAY_ELAPSED = "retry_delay_elapsed"
    """A PENDING step's retry delay elapsed and it became READY (no history event)."""
    CALLBACK_SUCCEEDED = "callback_succeeded"
    """SendDurableExecutionCallbackSuccess (history: CallbackSucceeded)."""
    CALLBACK_FAILED = "callback_failed"
    """SendDurableExecutionCallbackFailure (history: CallbackFailed)."""
    CALLBACK_TIMED_OUT = "callback_timed_out"
    """CallbackOptions.TimeoutSeconds elapsed (history: CallbackTimedOut)."""
    HEARTBEAT_TIMED_OUT = "heartbeat_timed_out"
    """CallbackOptions.HeartbeatTimeoutSeconds elapsed without a heartbeat (history: CallbackTimedOut)."""
    INVOKE_SUCCEEDED = "invoke_succeeded"
    """The chained invoke's child execution succeeded (history: ChainedInvokeSucceeded)."""
    INVOKE_FAILED = "invoke_failed"
    """The child execution failed, or its target could not be resolved (history: ChainedInvokeFailed)."""
    INVOKE_TIMED_OUT = "invoke_timed_out"
    """The child execution timed out (history: ChainedInvokeTimedOut)."""
    INVOKE_STOPPED = "invoke_stopped"
    """The child execution was stopped (history: ChainedInvokeStopped)."""
    EXECUTION_TIMED_OUT = "execution_timed_out"
    """The execution's timeout elapsed (history: ExecutionTimedOut)."""
    STOPPED = "stopped"
    """StopDurableExecution (history: ExecutionStopped)."""


Trigger: TypeAlias = OperationAction | ServiceTrigger
"""A machine trigger: an update action (upper-case) or a service completion (lower-case)."""


CREATED_BY_SERVICE: Final = frozenset({OperationType.EXECUTION})
"""Operation types the service creates itself: their machine's START is the service's, and the service
refuses it in an `OperationUpdate` (the one action trigger `UPDATE_ACTIONS` leaves out)."""
