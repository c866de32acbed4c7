################################################################
# The operation state machines: definitions
################################################################
#
# Rule 1: every legal status change of every operation lives in this file, as
# data. Nothing else in eventflow may decide whether an operation can go from
# one status to another; it asks `eventflow.machine.table`, which is compiled
# from these definitions and from nothing else.
#
# Rule 2: this file does not know who is asking. The same machines check what
# our own SDK is about to send, what the service reports back, and what a
# recorded history says happened. If a transition is legal in one of those
# places it is legal in all of them, so we can never write an update that we
# would later refuse to replay.
#
#
# Theory of operation
# ===================
#
# A durable execution is a set of operations, each identified by a
# deterministic id, and each operation has a status (the wire's
# `OperationStatus`). There is one finite state machine per `OperationType`:
# EXECUTION, STEP, WAIT, CONTEXT, CALLBACK and CHAINED_INVOKE. Every machine
# starts in the pseudo-state NEW ("not yet recorded"; the wire has no such
# status because an unrecorded operation is simply absent) and lists only the
# statuses it can actually reach.
#
# Each machine has two kinds of triggers:
#
# a) Update actions, spelled exactly like the wire's `OperationAction`
#    (START SUCCEED FAIL RETRY CANCEL). These are what the SDK sends in an
#    `OperationUpdate` of `CheckpointDurableExecution`.
#
# b) Service completions, spelled lower-case (`ServiceTrigger`): things only
#    the service does -- a wait's timer elapses, a step's retry delay elapses
#    (PENDING -> READY), a callback is completed / fails / times out, a chained
#    invoke's child execution ends, the execution times out or is stopped.
#    The SDK can never send these; it only observes their results in the
#    checkpoint response or in the next invocation's state.
#
# Three things feed the machines:
#
# 1) The updates our SDK is about to checkpoint (checked before they leave).
#
# 2) The statuses the service returns (NewExecutionState / InitialExecutionState),
#    where a status change we did not cause must be one of the service
#    completions above.
#
# 3) Recorded history (GetDurableExecutionHistory). Each history event maps to
#    one trigger of one machine (see `eventflow.machine.fold`). History does not
#    record every transition: the retry delay elapsing (PENDING -> READY) has no
#    event, so the fold applies it implicitly when the next event of that step
#    arrives.
#
# What the machines deliberately do NOT contain, and why (facts from botocore's
# `lambda` model, the official Python SDK 3.0.0, its testing library 1.4.0 -- whose
# checkpoint validators model the service's acceptance rules -- and the
# conformance suite 1.0.0):
#
# - No completion of a NEW step or context without START. The official SDK
#   always sends START first (step.py: "Create START checkpoint if nonexistent
#   or READY"; wait_for_condition.py: START "if not started"; child.py: START
#   "if not exists"); an at-least-once step may send START lazily, but in the
#   same batch and before the completion, so applying a batch in order never
#   needs NEW -> SUCCEEDED. Every operation in every conformance history begins
#   with its *Started event.
#
# - No START of a STARTED or PENDING step: the service only accepts START for
#   a STEP that is READY (or new). A step found STARTED on replay is either
#   re-run without a new START (at-least-once) or completed with RETRY / FAIL
#   (at-most-once, interrupted attempt).
#
# - No CANCEL of a CALLBACK or CHAINED_INVOKE: the service accepts only START
#   for those types, and history has no CallbackCancelled / ChainedInvokeCancelled
#   event. Only a WAIT can be cancelled, and only while STARTED.
#
# - No `stopped` (or `execution_timed_out`) cascade to child operations.
#   Stopping or timing out an execution changes the EXECUTION operation only:
#   history has no Step/Wait/Context/Callback "Stopped" event, and the testing
#   service ends just the EXECUTION operation. A CHAINED_INVOKE becomes STOPPED
#   when its *child* execution is stopped (`invoke_stopped`).
#
# - EXECUTION START is kept for symmetry with the ExecutionStarted history
#   event, but the service creates the EXECUTION operation itself and rejects
#   an EXECUTION START update; `UPDATE_ACTIONS` (`eventflow.machine.rules`, derived from the machines and
#   `CREATED_BY_SERVICE`) lists what an SDK may send.
#
# Implementation
# --------------
#
# The definitions below are plain data in the shape the `transitions` library
# consumes (a states list and a list of {trigger, source, dest} dicts).
# `build_machine` turns one into a real `transitions.Machine`: that machine is
# the single source of truth. The hot path never builds one: a
# `transitions.Machine` costs tens of microseconds to build (about 50 us for
# STEP), attaching a model costs about as much again, `add_model` is quadratic
# in the number of models (a list membership test per model), and importing
# `transitions` alone costs milliseconds of every cold start. Instead
# `python -m eventflow.machine.compile` builds each machine ahead of time,
# reads it back into a frozen (state, trigger) -> dest table and writes the
# tables as literals to the committed `eventflow/machine/_compiled.py`, which
# `eventflow.machine.table` loads; a lookup there is one dict access (about
# 0.1 us). `eventflow.machine.diagrams` draws the same definitions.
#
# The states and triggers themselves (`NEW`, `State`, `ServiceTrigger`,
# `Trigger`) live in `eventflow.machine.names`, so the hot path can name them
# without importing this module; they are re-exported here.
#
# WARNING: if you change a definition, run `python -m eventflow.machine.compile`
# (tests/test_machine_compiled.py fails until you do), and the snapshot-style
# tests of the tables and of the Mermaid diagrams in tests/test_machine.py must
# change with it; that is on purpose.

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, TypedDict

from transitions import Machine

from eventflow.events.enums import OperationAction, OperationStatus, OperationType
from eventflow.machine.names import NEW, ServiceTrigger, State, Trigger
from eventflow.machine.rules import UPDATE_ACTIONS  # derived from the compiled tables; re-exported

if TYPE_CHECKING:
    from transitions.core import TransitionConfigDict

__all__ = [
    "DEFINITIONS",
    "NEW",
    "UPDATE_ACTIONS",
    "MachineDefinition",
    "ServiceTrigger",
    "State",
    "TransitionSpec",
    "Trigger",
    "build_machine",
]


class TransitionSpec(TypedDict):
    """One transition, in the shape `transitions.Machine(transitions=[...])` consumes."""

    trigger: Trigger
    source: State | tuple[State, ...]
    dest: State


@dataclass(frozen=True)
class MachineDefinition:
    """The definition of one operation type's machine: its reachable states and its transitions."""

    op_type: OperationType
    states: tuple[State, ...]
    transitions: tuple[TransitionSpec, ...]
    initial: State = NEW

    def machine_kwargs(self) -> dict[str, Any]:
        """The keyword arguments for `transitions.Machine`, every name a plain `str`.

        Plain strings, not enum members: `transitions` treats `Enum` states specially, and the compiled tables
        map the names back to `OperationStatus` / `OperationAction` / `ServiceTrigger` members themselves.
        """
        configs: list[TransitionConfigDict] = []
        for spec in self.transitions:
            source = spec["source"]
            sources = [str(s) for s in source] if isinstance(source, tuple) else str(source)
            configs.append({"trigger": str(spec["trigger"]), "source": sources, "dest": str(spec["dest"])})
        return {
            "states": [str(s) for s in self.states],
            "initial": str(self.initial),
            "transitions": configs,
            "auto_transitions": False,  # no implicit to_<state>() triggers: only what is listed here
            "ignore_invalid_triggers": False,  # an illegal trigger raises MachineError
            "name": str(self.op_type),
        }


A = OperationAction
T = ServiceTrigger
S = OperationStatus

_EXECUTION: Final = MachineDefinition(
    op_type=OperationType.EXECUTION,
    states=(NEW, S.STARTED, S.SUCCEEDED, S.FAILED, S.TIMED_OUT, S.STOPPED),
    transitions=(
        # The service creates the EXECUTION operation (ExecutionStarted); no SDK sends this START.
        {"trigger": A.START, "source": NEW, "dest": S.STARTED},
        # The handler's outcome: an EXECUTION SUCCEED/FAIL update, or the invocation's response.
        {"trigger": A.SUCCEED, "source": S.STARTED, "dest": S.SUCCEEDED},
        {"trigger": A.FAIL, "source": S.STARTED, "dest": S.FAILED},
        {"trigger": T.EXECUTION_TIMED_OUT, "source": S.STARTED, "dest": S.TIMED_OUT},
        {"trigger": T.STOPPED, "source": S.STARTED, "dest": S.STOPPED},
    ),
)

_STEP: Final = MachineDefinition(
    op_type=OperationType.STEP,
    states=(NEW, S.STARTED, S.PENDING, S.READY, S.SUCCEEDED, S.FAILED),
    transitions=(
        # A fresh attempt, or the next attempt once the retry delay has elapsed.
        {"trigger": A.START, "source": (NEW, S.READY), "dest": S.STARTED},
        # The service also accepts the outcome of an attempt for a READY step whose START was skipped.
        {"trigger": A.SUCCEED, "source": (S.STARTED, S.READY), "dest": S.SUCCEEDED},
        {"trigger": A.FAIL, "source": (S.STARTED, S.READY), "dest": S.FAILED},
        # A failed attempt to retry, or a wait_for_condition "not yet" (RETRY carrying the state as Payload).
        {"trigger": A.RETRY, "source": (S.STARTED, S.READY), "dest": S.PENDING},
        {"trigger": T.RETRY_DELAY_ELAPSED, "source": S.PENDING, "dest": S.READY},
    ),
)

_WAIT: Final = MachineDefinition(
    op_type=OperationType.WAIT,
    states=(NEW, S.STARTED, S.SUCCEEDED, S.CANCELLED),
    transitions=(
        {"trigger": A.START, "source": NEW, "dest": S.STARTED},
        {"trigger": T.TIMER_ELAPSED, "source": S.STARTED, "dest": S.SUCCEEDED},
        {"trigger": A.CANCEL, "source": S.STARTED, "dest": S.CANCELLED},
    ),
)

_CONTEXT: Final = MachineDefinition(
    op_type=OperationType.CONTEXT,
    states=(NEW, S.STARTED, S.SUCCEEDED, S.FAILED),
    transitions=(
        {"trigger": A.START, "source": NEW, "dest": S.STARTED},
        {"trigger": A.SUCCEED, "source": S.STARTED, "dest": S.SUCCEEDED},
        {"trigger": A.FAIL, "source": S.STARTED, "dest": S.FAILED},
    ),
)

_CALLBACK: Final = MachineDefinition(
    op_type=OperationType.CALLBACK,
    states=(NEW, S.STARTED, S.SUCCEEDED, S.FAILED, S.TIMED_OUT),
    transitions=(
        {"trigger": A.START, "source": NEW, "dest": S.STARTED},
        {"trigger": T.CALLBACK_SUCCEEDED, "source": S.STARTED, "dest": S.SUCCEEDED},
        {"trigger": T.CALLBACK_FAILED, "source": S.STARTED, "dest": S.FAILED},
        {"trigger": T.CALLBACK_TIMED_OUT, "source": S.STARTED, "dest": S.TIMED_OUT},
        {"trigger": T.HEARTBEAT_TIMED_OUT, "source": S.STARTED, "dest": S.TIMED_OUT},
    ),
)

_CHAINED_INVOKE: Final = MachineDefinition(
    op_type=OperationType.CHAINED_INVOKE,
    states=(NEW, S.STARTED, S.SUCCEEDED, S.FAILED, S.TIMED_OUT, S.STOPPED),
    transitions=(
        # A target the service cannot resolve comes back FAILED from the START checkpoint itself: that is
        # START followed at once by invoke_failed (history: ChainedInvokeStarted, ChainedInvokeFailed).
        {"trigger": A.START, "source": NEW, "dest": S.STARTED},
        {"trigger": T.INVOKE_SUCCEEDED, "source": S.STARTED, "dest": S.SUCCEEDED},
        {"trigger": T.INVOKE_FAILED, "source": S.STARTED, "dest": S.FAILED},
        {"trigger": T.INVOKE_TIMED_OUT, "source": S.STARTED, "dest": S.TIMED_OUT},
        {"trigger": T.INVOKE_STOPPED, "source": S.STARTED, "dest": S.STOPPED},
    ),
)

del A, T, S

DEFINITIONS: Final[Mapping[OperationType, MachineDefinition]] = MappingProxyType(
    {d.op_type: d for d in (_EXECUTION, _STEP, _WAIT, _CONTEXT, _CALLBACK, _CHAINED_INVOKE)}
)
"""Every operation type's machine definition."""



def build_machine(op_type: OperationType, model: object = None) -> Machine:
    """A real `transitions.Machine` for `op_type`'s definition, with `model` (none by default) attached.

    This is the slow, authoritative form: build it ahead of time (as `eventflow.machine.compile` does), never
    per operation.
    """
    return Machine(model=model, **DEFINITIONS[op_type].machine_kwargs())
