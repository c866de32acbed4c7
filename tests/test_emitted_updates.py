"""`EmittedUpdate` is `OperationUpdate`'s fields, rendered and compared exactly like the model.

The core emits `EmittedUpdate`s (cheap named tuples) and everything downstream reads them like the
pydantic model, so these tests pin the equivalence: same fields in the same order with the same wire
names, the same `to_wire`, equality and hashing with the model, and `updater`'s fall-back to the
validated model for values of the wrong type.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from test_wire_models import sample

from eventflow.core.updates import updater
from eventflow.events import wire
from eventflow.events.emitted import EmittedUpdate, as_update
from eventflow.events.enums import OperationAction, OperationType


def test_fields_are_the_models_fields_in_order() -> None:
    assert EmittedUpdate._fields == tuple(wire.OperationUpdate.model_fields)
    required = [name for name, field in wire.OperationUpdate.model_fields.items() if field.is_required()]
    assert all(name not in EmittedUpdate._field_defaults for name in required)


def test_a_fully_set_update_renders_and_compares_as_the_model() -> None:
    model = sample(wire.OperationUpdate)
    emitted = EmittedUpdate(*(getattr(model, name) for name in EmittedUpdate._fields))
    assert emitted.to_wire() == model.to_wire()
    assert emitted.to_boto_params() == model.to_boto_params()
    assert emitted == model and model == emitted
    assert emitted.model() == model
    assert emitted.model().to_wire() == model.to_wire()
    assert as_update(emitted) == model and as_update(model) is model


_identity = st.fixed_dictionaries(
    {
        "op_id": st.text(min_size=1, max_size=8),
        "parent_id": st.none() | st.text(max_size=8),
        "name": st.none() | st.text(max_size=8),
        "op_type": st.sampled_from(list(OperationType)),
        "sub_type": st.none() | st.sampled_from(["Step", "Wait", "Map", "x"]),
        "action": st.sampled_from(list(OperationAction)),
        "payload": st.none() | st.text(max_size=20),
    }
)
_options = st.fixed_dictionaries(
    {},
    optional={
        "error": st.builds(wire.ErrorObject, error_message=st.none() | st.text(max_size=8),
                           error_type=st.none() | st.text(max_size=8),
                           stack_trace=st.none() | st.lists(st.text(max_size=5), max_size=2)),
        "step_options": st.builds(wire.StepOptions, next_attempt_delay_seconds=st.integers(0, 10**6)),
        "wait_options": st.builds(wire.WaitOptions, wait_seconds=st.integers(1, 10**6)),
        "context_options": st.builds(wire.ContextOptions, replay_children=st.none() | st.booleans()),
    },
)


@given(identity=_identity, options=_options)
def test_an_update_is_the_validated_model(identity: dict[str, Any], options: dict[str, Any]) -> None:
    update = updater(identity["op_id"], identity["parent_id"], identity["name"], identity["op_type"],
                     identity["sub_type"])
    built = update(identity["action"], identity["payload"], **options)
    assert type(built) is EmittedUpdate
    validated = wire.OperationUpdate(
        id=identity["op_id"], parent_id=identity["parent_id"], name=identity["name"],
        type=identity["op_type"], sub_type=identity["sub_type"], action=identity["action"],
        payload=identity["payload"], **options,
    )
    assert built.to_wire() == validated.to_wire()
    assert built == validated and built.model() == validated
    assert built.model().model_fields_set >= {"id", "type", "action"}


def test_values_of_the_wrong_type_go_through_validation() -> None:
    update = updater("a", None, None, OperationType.STEP, "Step")
    coerced = update(OperationAction.START, step_options={"NextAttemptDelaySeconds": 3})
    assert type(coerced) is wire.OperationUpdate
    assert coerced.step_options == wire.StepOptions(next_attempt_delay_seconds=3)
    with pytest.raises(ValidationError):
        update(OperationAction.SUCCEED, 12345)
    named = updater("a", None, 7, OperationType.STEP, "Step")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        named(OperationAction.START)


def test_it_is_immutable_and_unequal_to_other_updates() -> None:
    update = EmittedUpdate("a", None, None, OperationType.STEP, "Step", OperationAction.START)
    with pytest.raises(AttributeError):
        update.id = "b"  # type: ignore[misc]
    other = EmittedUpdate("a", None, None, OperationType.STEP, "Step", OperationAction.SUCCEED)
    assert update != other and update != other.model()
    assert hash(update) == hash(update.model()) and len({update, update.model(), other}) == 2
    assert repr(update) == (
        "EmittedUpdate(id='a', type=<OperationType.STEP: 'STEP'>, sub_type='Step', "
        "action=<OperationAction.START: 'START'>)"
    )


def test_wire_names_are_the_models_aliases() -> None:
    """`EmittedUpdate` renders without the model, so its wire names are written out: they must be the
    model's aliases, field for field."""
    from eventflow.events.emitted import _WIRE_NAMES

    fields = wire.OperationUpdate.model_fields
    assert tuple(fields[name].alias or name for name in EmittedUpdate._fields) == _WIRE_NAMES
