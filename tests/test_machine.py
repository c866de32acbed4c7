"""Tests of eventflow.machine: the definitions, their compiled tables, the folds and the diagrams."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from transitions import Machine, MachineError

from eventflow.errors import IllegalTransitionError, InvalidInputError
from eventflow.events.enums import (
    TERMINAL_STATUSES,
    EventType,
    OperationAction,
    OperationStatus,
    OperationType,
)
from eventflow.machine import (
    DEFINITIONS,
    EVENT_TRIGGERS,
    IMPLICIT_TRANSITIONS,
    NEW,
    NON_TRANSITION_EVENTS,
    RETRY_EVENTS,
    TABLES,
    UPDATE_ACTIONS,
    ServiceTrigger,
    build_machine,
    compile_machine,
    event_trigger,
    fold_events,
    fold_updates,
    is_terminal,
    next_state,
    to_mermaid,
)

A = OperationAction
T = ServiceTrigger
S = OperationStatus
OT = OperationType
E = EventType

ALL_STATES: list[str] = [NEW, *OperationStatus]
ALL_TRIGGERS: list[str] = [*OperationAction, *ServiceTrigger]

# The transitions of every machine, written out independently of the definitions on purpose: a change to a
# machine must change this list too.
EXPECTED: dict[OperationType, set[tuple[str, str, str]]] = {
    OT.EXECUTION: {
        (NEW, A.START, S.STARTED),
        (S.STARTED, A.SUCCEED, S.SUCCEEDED),
        (S.STARTED, A.FAIL, S.FAILED),
        (S.STARTED, T.EXECUTION_TIMED_OUT, S.TIMED_OUT),
        (S.STARTED, T.STOPPED, S.STOPPED),
    },
    OT.STEP: {
        (NEW, A.START, S.STARTED),
        (S.READY, A.START, S.STARTED),
        (S.STARTED, A.SUCCEED, S.SUCCEEDED),
        (S.READY, A.SUCCEED, S.SUCCEEDED),
        (S.STARTED, A.FAIL, S.FAILED),
        (S.READY, A.FAIL, S.FAILED),
        (S.STARTED, A.RETRY, S.PENDING),
        (S.READY, A.RETRY, S.PENDING),
        (S.PENDING, T.RETRY_DELAY_ELAPSED, S.READY),
    },
    OT.WAIT: {
        (NEW, A.START, S.STARTED),
        (S.STARTED, T.TIMER_ELAPSED, S.SUCCEEDED),
        (S.STARTED, A.CANCEL, S.CANCELLED),
    },
    OT.CONTEXT: {
        (NEW, A.START, S.STARTED),
        (S.STARTED, A.SUCCEED, S.SUCCEEDED),
        (S.STARTED, A.FAIL, S.FAILED),
    },
    OT.CALLBACK: {
        (NEW, A.START, S.STARTED),
        (S.STARTED, T.CALLBACK_SUCCEEDED, S.SUCCEEDED),
        (S.STARTED, T.CALLBACK_FAILED, S.FAILED),
        (S.STARTED, T.CALLBACK_TIMED_OUT, S.TIMED_OUT),
        (S.STARTED, T.HEARTBEAT_TIMED_OUT, S.TIMED_OUT),
    },
    OT.CHAINED_INVOKE: {
        (NEW, A.START, S.STARTED),
        (S.STARTED, T.INVOKE_SUCCEEDED, S.SUCCEEDED),
        (S.STARTED, T.INVOKE_FAILED, S.FAILED),
        (S.STARTED, T.INVOKE_TIMED_OUT, S.TIMED_OUT),
        (S.STARTED, T.INVOKE_STOPPED, S.STOPPED),
    },
}


def _attrs(error: IllegalTransitionError) -> tuple[str, str, str, str]:
    return (error.op_id, error.op_type, error.state, error.trigger)


def _expected_dest(op_type: OperationType, state: str, trigger: str) -> str | None:
    for source, trig, dest in EXPECTED[op_type]:
        if source == state and trig == trigger:
            return dest
    return None


class _Model:
    state: str


def _trigger_in_machine(machine: Machine, state: str, trigger: str) -> str | None:
    """What a fresh model in `state` ends in after `trigger` in the real machine, or None if it refuses."""
    model = _Model()
    machine.add_model(model, initial=state)
    try:
        model.trigger(trigger)  # type: ignore[attr-defined]  # added by transitions
    except MachineError:  # a trigger of this machine, illegal in this state
        return None
    except AttributeError:  # a trigger this machine does not have at all
        return None
    finally:
        machine.remove_model(model)
    return model.state


# --- the compiled tables are the transitions machines ------------------------------------------------------


@pytest.mark.parametrize("op_type", list(OperationType))
def test_table_equals_what_the_transitions_machine_does(op_type: OperationType) -> None:
    machine = build_machine(op_type)  # a fresh machine, not the one the table was compiled from
    table = TABLES[op_type]
    assert list(machine.states) == [str(state) for state in table.states]
    assert machine.initial == table.initial == NEW
    for state, trigger in itertools.product(table.states, ALL_TRIGGERS):
        actual = _trigger_in_machine(machine, state, trigger)
        assert table.transitions.get((state, trigger)) == actual, (op_type, state, trigger)
    # states the machine does not list have no transitions in the table
    for unlisted in set(ALL_STATES) - set(table.states):
        assert not table.allowed_triggers(unlisted)


@pytest.mark.parametrize("op_type", list(OperationType))
def test_table_is_exactly_the_expected_transition_list(op_type: OperationType) -> None:
    table = TABLES[op_type]
    assert {(s, t, d) for (s, t), d in table.transitions.items()} == EXPECTED[op_type]
    assert table.op_type is op_type
    assert set(table.triggers) == {t for _, t, _ in EXPECTED[op_type]}
    reached = {NEW} | {d for _, _, d in EXPECTED[op_type]}
    assert set(table.states) == reached


@pytest.mark.parametrize("op_type", list(OperationType))
def test_terminal_states_are_the_wire_terminal_statuses(op_type: OperationType) -> None:
    table = TABLES[op_type]
    assert table.terminal == TERMINAL_STATUSES & set(table.states)
    for state in table.states:
        assert is_terminal(state) == (state in table.terminal)
        assert bool(table.allowed_triggers(state)) != (state in table.terminal)


def test_table_values_are_enum_members_equal_to_wire_strings() -> None:
    for table in TABLES.values():
        for (state, trigger), dest in table.transitions.items():
            assert state == NEW or isinstance(state, OperationStatus)
            assert isinstance(trigger, (OperationAction, ServiceTrigger))
            assert isinstance(dest, OperationStatus)
    assert next_state("STEP", "STARTED", "RETRY", op_id="x") == "PENDING"
    assert next_state("STEP", "STARTED", "RETRY", op_id="x") is S.PENDING
    assert is_terminal("SUCCEEDED")
    assert not is_terminal(NEW)
    assert not is_terminal("PENDING")


def test_tables_are_frozen() -> None:
    table = TABLES[OT.STEP]
    with pytest.raises(TypeError):
        table.transitions[NEW, A.SUCCEED] = S.SUCCEEDED  # type: ignore[index]
    with pytest.raises(AttributeError):
        table.initial = S.STARTED  # type: ignore[misc]
    with pytest.raises(TypeError):
        TABLES[OT.STEP] = table  # type: ignore[index]


# --- next_state: every state x trigger of every machine ---------------------------------------------------

_ALL_COMBOS = [
    pytest.param(op_type, state, trigger, id=f"{op_type}-{state}-{trigger}")
    for op_type in OperationType
    for state in ALL_STATES
    for trigger in ALL_TRIGGERS
]


@pytest.mark.parametrize(("op_type", "state", "trigger"), _ALL_COMBOS)
def test_next_state(op_type: OperationType, state: str, trigger: str) -> None:
    expected = _expected_dest(op_type, state, trigger)
    table = TABLES[op_type]
    if expected is not None:
        assert next_state(op_type, state, trigger, op_id="op-1") == expected
        assert next_state(str(op_type), str(state), str(trigger), op_id="op-1") == expected
        assert table.next_state(state, trigger, op_id="op-1") == expected
        assert table.can(state, trigger)
        assert trigger in table.allowed_triggers(state)
        return
    calls: list[Callable[[], object]] = [
        lambda: next_state(op_type, state, trigger, op_id="op-1"),
        lambda: table.next_state(state, trigger, op_id="op-1"),
    ]
    for call in calls:
        with pytest.raises(IllegalTransitionError) as caught:
            call()
        assert caught.value.op_id == "op-1"
        assert caught.value.op_type == op_type
        assert caught.value.state == state
        assert caught.value.trigger == trigger
        assert "op-1" in str(caught.value)
    assert not table.can(state, trigger)


def test_next_state_unknown_operation_type() -> None:
    with pytest.raises(InvalidInputError, match="BOGUS"):
        next_state("BOGUS", NEW, A.START, op_id="op-1")


def test_illegal_transition_message() -> None:
    with pytest.raises(IllegalTransitionError) as caught:
        next_state(OT.WAIT, S.SUCCEEDED, A.CANCEL, op_id="abc")
    assert str(caught.value) == "WAIT operation 'abc' in state SUCCEEDED cannot take 'CANCEL'"


def test_next_state_builds_no_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a transitions.Machine was built on the hot path")

    monkeypatch.setattr(Machine, "__init__", refuse)
    assert next_state(OT.STEP, NEW, A.START, op_id="x") is S.STARTED
    assert fold_events([("x", E.STEP_STARTED, False)]) == {"x": S.STARTED}
    assert fold_updates({}, [("x", OT.STEP, A.START)]) == {"x": S.STARTED}


# --- definitions ------------------------------------------------------------------------------------------


def test_update_actions_are_the_machines_actions_except_execution_start() -> None:
    for op_type, table in TABLES.items():
        machine_actions = {t for t in table.triggers if isinstance(t, OperationAction)}
        assert UPDATE_ACTIONS[op_type] <= machine_actions
        missing = machine_actions - UPDATE_ACTIONS[op_type]
        assert missing == ({A.START} if op_type is OT.EXECUTION else set())


def test_definitions_cover_every_operation_type() -> None:
    assert set(DEFINITIONS) == set(OperationType) == set(TABLES)
    for op_type, definition in DEFINITIONS.items():
        assert definition.op_type is op_type
        kwargs = definition.machine_kwargs()
        assert kwargs["auto_transitions"] is False
        assert all(type(name) is str for name in kwargs["states"])
        for config in kwargs["transitions"]:
            assert type(config["trigger"]) is str
            assert type(config["dest"]) is str


def _machine(**kwargs: Any) -> Machine:
    return Machine(model=None, auto_transitions=False, initial="NEW", **kwargs)


def test_compile_machine_rejects_what_a_table_cannot_express() -> None:
    with pytest.raises(ValueError, match="unconditional"):
        compile_machine(
            OT.WAIT,
            _machine(
                states=["NEW", "STARTED"],
                transitions=[{"trigger": "START", "source": "NEW", "dest": "STARTED", "conditions": "ok"}],
            ),
        )
    with pytest.raises(ValueError, match="unknown state"):
        compile_machine(
            OT.WAIT,
            _machine(
                states=["NEW", "BOGUS"], transitions=[{"trigger": "START", "source": "NEW", "dest": "BOGUS"}]
            ),
        )
    with pytest.raises(ValueError, match="unknown trigger"):
        compile_machine(
            OT.WAIT,
            _machine(
                states=["NEW", "STARTED"], transitions=[{"trigger": "go", "source": "NEW", "dest": "STARTED"}]
            ),
        )
    with pytest.raises(ValueError, match="unreachable"):
        compile_machine(
            OT.WAIT,
            _machine(
                states=["NEW", "STARTED", "SUCCEEDED"],
                transitions=[{"trigger": "START", "source": "NEW", "dest": "STARTED"}],
            ),
        )


# --- history events ---------------------------------------------------------------------------------------


def test_every_event_type_is_mapped_exactly_once() -> None:
    mapped = set(EVENT_TRIGGERS)
    assert mapped.isdisjoint(NON_TRANSITION_EVENTS)
    assert mapped | NON_TRANSITION_EVENTS == set(EventType)
    assert set(RETRY_EVENTS) <= mapped


@pytest.mark.parametrize("event_type", [*EVENT_TRIGGERS, *NON_TRANSITION_EVENTS])
def test_each_event_feeds_a_trigger_its_machine_has(event_type: EventType) -> None:
    feed = event_trigger(event_type)
    if event_type in NON_TRANSITION_EVENTS:
        assert feed is None
        return
    assert feed is not None
    op_type, trigger = feed
    assert trigger in TABLES[op_type].triggers
    assert event_trigger(str(event_type)) == feed  # a plain wire string works too


def test_event_trigger_mapping_samples() -> None:
    assert event_trigger(E.STEP_STARTED) == (OT.STEP, A.START)
    assert event_trigger(E.STEP_FAILED) == (OT.STEP, A.FAIL)
    assert event_trigger(E.STEP_FAILED, is_retry=True) == (OT.STEP, A.RETRY)
    assert event_trigger(E.STEP_SUCCEEDED, is_retry=True) == (OT.STEP, A.RETRY)
    assert event_trigger(E.WAIT_SUCCEEDED) == (OT.WAIT, T.TIMER_ELAPSED)
    assert event_trigger(E.WAIT_CANCELLED) == (OT.WAIT, A.CANCEL)
    assert event_trigger(E.CALLBACK_TIMED_OUT) == (OT.CALLBACK, T.CALLBACK_TIMED_OUT)
    assert event_trigger(E.CHAINED_INVOKE_STOPPED) == (OT.CHAINED_INVOKE, T.INVOKE_STOPPED)
    assert event_trigger(E.EXECUTION_STARTED) == (OT.EXECUTION, A.START)
    assert event_trigger(E.EXECUTION_STOPPED) == (OT.EXECUTION, T.STOPPED)
    assert event_trigger(E.INVOCATION_COMPLETED) is None
    assert event_trigger(E.EXECUTION_PAUSED) is None


def test_event_trigger_rejects_bad_input() -> None:
    with pytest.raises(InvalidInputError, match="unknown history event type"):
        event_trigger("StepExploded")
    with pytest.raises(InvalidInputError, match="cannot record a retry"):
        event_trigger(E.WAIT_STARTED, is_retry=True)


EXEC = "exec"
STEP_ID = "1ced8f5be2db23a6513eba4d819c73806424748a7bc6fa0d792cc1c7d1775a97"
WAIT_ID = "c5faca15ac2f93578b39ef4b6bbb871bdedce4ddd584fd31f0bb66fade3947e6"
CTX_ID = "6f760b9e9eac89f07ab0223b0f4acb04d1e355d893a1b86a83f4d4b405adee99"
CB_ID = "4fcce65ec00309c63e7973cc7ba98d082f6db23ff491f8ae0d358d94a449573f"
SUBMITTER_ID = "submitter"

# A realistic history: a step retried once, a wait, then a wait_for_callback (a child CONTEXT holding a
# CALLBACK and a submitter STEP) whose callback times out and fails the context and the execution.
HISTORY: list[tuple[str | None, str, bool]] = [
    (EXEC, E.EXECUTION_STARTED, False),
    (STEP_ID, E.STEP_STARTED, False),
    (STEP_ID, E.STEP_FAILED, True),  # RetryDetails{CurrentAttempt 1, NextAttemptDelaySeconds 1}
    (None, E.INVOCATION_COMPLETED, False),
    (STEP_ID, E.STEP_STARTED, False),  # PENDING -> READY is implicit, then START
    (STEP_ID, E.STEP_SUCCEEDED, False),  # RetryDetails{CurrentAttempt 2}
    (WAIT_ID, E.WAIT_STARTED, False),
    (None, E.INVOCATION_COMPLETED, False),
    (WAIT_ID, E.WAIT_SUCCEEDED, False),
    (CTX_ID, E.CONTEXT_STARTED, False),
    (CB_ID, E.CALLBACK_STARTED, False),
    (SUBMITTER_ID, E.STEP_STARTED, False),
    (SUBMITTER_ID, E.STEP_SUCCEEDED, False),
    (None, E.INVOCATION_COMPLETED, False),
    (CB_ID, E.CALLBACK_TIMED_OUT, False),
    (CTX_ID, E.CONTEXT_FAILED, False),
    (None, E.INVOCATION_COMPLETED, False),
    (EXEC, E.EXECUTION_FAILED, False),
]


def test_fold_realistic_history() -> None:
    assert fold_events(HISTORY) == {
        EXEC: S.FAILED,
        STEP_ID: S.SUCCEEDED,
        WAIT_ID: S.SUCCEEDED,
        CTX_ID: S.FAILED,
        CB_ID: S.TIMED_OUT,
        SUBMITTER_ID: S.SUCCEEDED,
    }


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (1, {EXEC: S.STARTED}),
        (2, {EXEC: S.STARTED, STEP_ID: S.STARTED}),
        (3, {EXEC: S.STARTED, STEP_ID: S.PENDING}),
        (4, {EXEC: S.STARTED, STEP_ID: S.PENDING}),
        (5, {EXEC: S.STARTED, STEP_ID: S.STARTED}),
        (7, {EXEC: S.STARTED, STEP_ID: S.SUCCEEDED, WAIT_ID: S.STARTED}),
        (
            14,
            {
                EXEC: S.STARTED,
                STEP_ID: S.SUCCEEDED,
                WAIT_ID: S.SUCCEEDED,
                CTX_ID: S.STARTED,
                CB_ID: S.STARTED,
                SUBMITTER_ID: S.SUCCEEDED,
            },
        ),
    ],
)
def test_fold_history_prefixes(length: int, expected: dict[str, str]) -> None:
    assert fold_events(HISTORY[:length]) == expected


def test_fold_accepts_plain_strings_and_generators() -> None:
    events = ((op_id, str(event_type), is_retry) for op_id, event_type, is_retry in HISTORY)
    assert fold_events(events) == fold_events(HISTORY)


def test_fold_wait_for_condition_retries_recorded_as_step_succeeded() -> None:
    history = [
        ("c", E.STEP_STARTED, False),
        ("c", E.STEP_SUCCEEDED, True),  # "not yet": RETRY carrying the state
        (None, E.INVOCATION_COMPLETED, False),
        ("c", E.STEP_STARTED, False),
        ("c", E.STEP_SUCCEEDED, True),
        (None, E.INVOCATION_COMPLETED, False),
        ("c", E.STEP_STARTED, False),
        ("c", E.STEP_FAILED, False),  # attempts exhausted
    ]
    assert fold_events(history[:2]) == {"c": S.PENDING}
    assert fold_events(history) == {"c": S.FAILED}


def test_fold_retry_without_a_new_start() -> None:
    # The service accepts the outcome of a READY step's attempt without a new START.
    assert fold_events(
        [("s", E.STEP_STARTED, False), ("s", E.STEP_FAILED, True), ("s", E.STEP_FAILED, False)]
    ) == {"s": S.FAILED}


def test_fold_other_completions() -> None:
    history = [
        (EXEC, E.EXECUTION_STARTED, False),
        ("w", E.WAIT_STARTED, False),
        ("w", E.WAIT_CANCELLED, False),
        ("i", E.CHAINED_INVOKE_STARTED, False),
        ("i", E.CHAINED_INVOKE_STOPPED, False),
        ("cb", E.CALLBACK_STARTED, False),
        ("cb", E.CALLBACK_SUCCEEDED, False),
        (None, E.EXECUTION_PAUSED, False),
        (None, E.EXECUTION_RESUMED, False),
        (EXEC, E.EXECUTION_STOPPED, False),
    ]
    assert fold_events(history) == {EXEC: S.STOPPED, "w": S.CANCELLED, "i": S.STOPPED, "cb": S.SUCCEEDED}


def test_fold_rejects_an_illegal_sequence() -> None:
    with pytest.raises(IllegalTransitionError) as caught:
        fold_events([*HISTORY[:6], (STEP_ID, E.STEP_SUCCEEDED, False)])
    error = caught.value
    assert _attrs(error) == (STEP_ID, OT.STEP, S.SUCCEEDED, A.SUCCEED)

    with pytest.raises(IllegalTransitionError) as caught:
        fold_events([("cb", E.CALLBACK_SUCCEEDED, False)])
    error = caught.value
    assert _attrs(error) == ("cb", OT.CALLBACK, NEW, T.CALLBACK_SUCCEEDED)


def test_fold_rejects_malformed_events() -> None:
    with pytest.raises(InvalidInputError, match="no operation id"):
        fold_events([(None, E.STEP_STARTED, False)])
    with pytest.raises(InvalidInputError, match="is a STEP"):
        fold_events([("x", E.STEP_STARTED, False), ("x", E.WAIT_SUCCEEDED, False)])
    with pytest.raises(InvalidInputError, match="cannot record a retry"):
        fold_events([("x", E.CONTEXT_FAILED, True)])
    with pytest.raises(InvalidInputError, match="unknown history event type"):
        fold_events([("x", "StepTeleported", False)])


def test_implicit_transitions_are_legal_and_have_no_event() -> None:
    fed = set(EVENT_TRIGGERS.values()) | set(RETRY_EVENTS.values())
    for (op_type, state), trigger in IMPLICIT_TRANSITIONS.items():
        assert TABLES[op_type].can(state, trigger)
        assert (op_type, trigger) not in fed


# --- update batches ---------------------------------------------------------------------------------------


def test_fold_updates_applies_a_batch_in_order() -> None:
    states = {EXEC: S.STARTED}
    batch = [
        ("s", OT.STEP, A.START),
        ("s", OT.STEP, A.SUCCEED),  # START and completion batched together
        ("c", OT.CONTEXT, A.START),
        ("w", OT.WAIT, A.START),
        ("cb", OT.CALLBACK, A.START),
        ("i", OT.CHAINED_INVOKE, A.START),
        ("r", OT.STEP, A.START),
        ("r", OT.STEP, A.RETRY),
        ("c", OT.CONTEXT, A.FAIL),
        (EXEC, OT.EXECUTION, A.FAIL),
    ]
    assert fold_updates(states, batch) == {
        EXEC: S.FAILED,
        "s": S.SUCCEEDED,
        "c": S.FAILED,
        "w": S.STARTED,
        "cb": S.STARTED,
        "i": S.STARTED,
        "r": S.PENDING,
    }
    assert states == {EXEC: S.STARTED}  # the input is not changed


def test_fold_updates_accepts_plain_strings() -> None:
    assert fold_updates({"s": "READY"}, [("s", "STEP", "START")]) == {"s": S.STARTED}  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("states", "update", "state"),
    [
        ({}, (EXEC, OT.EXECUTION, A.START), NEW),  # the service creates EXECUTION; no SDK may START it
        ({EXEC: S.SUCCEEDED}, (EXEC, OT.EXECUTION, A.FAIL), S.SUCCEEDED),
        ({"s": S.PENDING}, ("s", OT.STEP, A.START), S.PENDING),  # wait for READY
        ({"s": S.STARTED}, ("s", OT.STEP, A.START), S.STARTED),
        ({}, ("s", OT.STEP, A.SUCCEED), NEW),  # START first, even when batched
        ({"w": S.STARTED}, ("w", OT.WAIT, A.START), S.STARTED),
        ({"w": S.SUCCEEDED}, ("w", OT.WAIT, A.CANCEL), S.SUCCEEDED),
        ({"cb": S.STARTED}, ("cb", OT.CALLBACK, A.CANCEL), S.STARTED),  # only a WAIT can be cancelled
        ({"i": S.STARTED}, ("i", OT.CHAINED_INVOKE, A.CANCEL), S.STARTED),
        ({"cb": S.STARTED}, ("cb", OT.CALLBACK, A.SUCCEED), S.STARTED),  # only the service completes it
        ({"c": S.STARTED}, ("c", OT.CONTEXT, A.RETRY), S.STARTED),
    ],
)
def test_fold_updates_rejects_illegal_updates(
    states: dict[str, Any], update: tuple[str, OperationType, OperationAction], state: str
) -> None:
    with pytest.raises(IllegalTransitionError) as caught:
        fold_updates(states, [update])
    error = caught.value
    assert _attrs(error) == (update[0], update[1], state, update[2])


def test_fold_updates_rejects_an_unknown_type() -> None:
    with pytest.raises(InvalidInputError, match="BOGUS"):
        fold_updates({}, [("x", "BOGUS", A.START)])


# --- diagrams ---------------------------------------------------------------------------------------------


def test_mermaid_wait() -> None:
    assert to_mermaid(OT.WAIT) == (
        "stateDiagram-v2\n"
        "    [*] --> NEW\n"
        "    NEW --> STARTED: START\n"
        "    STARTED --> SUCCEEDED: timer_elapsed\n"
        "    STARTED --> CANCELLED: CANCEL\n"
        "    SUCCEEDED --> [*]\n"
        "    CANCELLED --> [*]\n"
    )


def test_mermaid_step() -> None:
    assert to_mermaid(OT.STEP) == (
        "stateDiagram-v2\n"
        "    [*] --> NEW\n"
        "    NEW --> STARTED: START\n"
        "    READY --> STARTED: START\n"
        "    STARTED --> SUCCEEDED: SUCCEED\n"
        "    READY --> SUCCEEDED: SUCCEED\n"
        "    STARTED --> FAILED: FAIL\n"
        "    READY --> FAILED: FAIL\n"
        "    STARTED --> PENDING: RETRY\n"
        "    READY --> PENDING: RETRY\n"
        "    PENDING --> READY: retry_delay_elapsed\n"
        "    SUCCEEDED --> [*]\n"
        "    FAILED --> [*]\n"
    )


@pytest.mark.parametrize("op_type", list(OperationType))
def test_mermaid_lists_every_transition_once(op_type: OperationType) -> None:
    lines = to_mermaid(op_type).splitlines()
    assert lines[:2] == ["stateDiagram-v2", "    [*] --> NEW"]
    edges = {line.strip() for line in lines[2:] if not line.endswith("[*]")}
    assert edges == {f"{s} --> {d}: {t}" for s, t, d in EXPECTED[op_type]}
    assert len(lines) == 2 + len(EXPECTED[op_type]) + len(TABLES[op_type].terminal)
    finals = {line.strip().removesuffix(" --> [*]") for line in lines if line.endswith("--> [*]")}
    assert finals == set(TABLES[op_type].terminal)
