"""The wire models must not drift from botocore's `lambda` service model, and must round-trip.

The drift test walks botocore's shapes. For every registered (shape, model) pair, the wire names, the Python
type of every member (a nested structure maps to the registered model of that shape, an enum to a StrEnum
with exactly the service's values) and requiredness must agree; and every structure reachable from the shapes
eventflow reads or writes must be registered.
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Annotated, Any, Union, get_args, get_origin

import botocore.session
import pytest
from botocore.model import ListShape, ServiceModel, Shape, StringShape, StructureShape
from hypothesis import given
from hypothesis import strategies as st
from pydantic import PlainValidator, ValidationError
from pydantic.fields import FieldInfo

from eventflow.errors import InvalidInputError
from eventflow.events import history, invocation, wire
from eventflow.events._base import WireModel, parse_timestamp
from eventflow.events.enums import (
    EventType,
    InvocationStatus,
    OperationAction,
    OperationStatus,
    OperationType,
)

# --- registry -----------------------------------------------------------------------------------------------

REGISTRY: dict[str, type[WireModel]] = {
    # wire.py
    "ErrorObject": wire.ErrorObject,
    "ExecutionDetails": wire.ExecutionDetails,
    "ContextDetails": wire.ContextDetails,
    "StepDetails": wire.StepDetails,
    "WaitDetails": wire.WaitDetails,
    "CallbackDetails": wire.CallbackDetails,
    "ChainedInvokeDetails": wire.ChainedInvokeDetails,
    "Operation": wire.Operation,
    "ContextOptions": wire.ContextOptions,
    "StepOptions": wire.StepOptions,
    "WaitOptions": wire.WaitOptions,
    "CallbackOptions": wire.CallbackOptions,
    "ChainedInvokeOptions": wire.ChainedInvokeOptions,
    "OperationUpdate": wire.OperationUpdate,
    "CheckpointUpdatedExecutionState": wire.CheckpointUpdatedExecutionState,
    "CheckpointDurableExecutionRequest": wire.CheckpointDurableExecutionRequest,
    "CheckpointDurableExecutionResponse": wire.CheckpointDurableExecutionResponse,
    "GetDurableExecutionStateRequest": wire.GetDurableExecutionStateRequest,
    "GetDurableExecutionStateResponse": wire.GetDurableExecutionStateResponse,
    "TraceHeader": wire.TraceHeader,
    "DurableConfig": wire.DurableConfig,
    "PauseDetails": wire.PauseDetails,
    "GetDurableExecutionRequest": wire.GetDurableExecutionRequest,
    "GetDurableExecutionResponse": wire.GetDurableExecutionResponse,
    "Execution": wire.Execution,
    "ListDurableExecutionsByFunctionRequest": wire.ListDurableExecutionsByFunctionRequest,
    "ListDurableExecutionsByFunctionResponse": wire.ListDurableExecutionsByFunctionResponse,
    "StopDurableExecutionRequest": wire.StopDurableExecutionRequest,
    "StopDurableExecutionResponse": wire.StopDurableExecutionResponse,
    "PauseDurableExecutionRequest": wire.PauseDurableExecutionRequest,
    "PauseDurableExecutionResponse": wire.PauseDurableExecutionResponse,
    "ResumeDurableExecutionRequest": wire.ResumeDurableExecutionRequest,
    "ResumeDurableExecutionResponse": wire.ResumeDurableExecutionResponse,
    "DeleteDurableExecutionRequest": wire.DeleteDurableExecutionRequest,
    "DeleteDurableExecutionResponse": wire.DeleteDurableExecutionResponse,
    "SendDurableExecutionCallbackSuccessRequest": wire.SendDurableExecutionCallbackSuccessRequest,
    "SendDurableExecutionCallbackFailureRequest": wire.SendDurableExecutionCallbackFailureRequest,
    "SendDurableExecutionCallbackHeartbeatRequest": wire.SendDurableExecutionCallbackHeartbeatRequest,
    # history.py
    "EventInput": history.EventInput,
    "EventResult": history.EventResult,
    "EventError": history.EventError,
    "EventPauseReason": history.EventPauseReason,
    "EventResumeReason": history.EventResumeReason,
    "RetryDetails": history.RetryDetails,
    "ExecutionStartedDetails": history.ExecutionStartedDetails,
    "ExecutionSucceededDetails": history.ExecutionSucceededDetails,
    "ExecutionFailedDetails": history.ExecutionFailedDetails,
    "ExecutionTimedOutDetails": history.ExecutionTimedOutDetails,
    "ExecutionStoppedDetails": history.ExecutionStoppedDetails,
    "ExecutionPausedDetails": history.ExecutionPausedDetails,
    "ExecutionResumedDetails": history.ExecutionResumedDetails,
    "ContextStartedDetails": history.ContextStartedDetails,
    "ContextSucceededDetails": history.ContextSucceededDetails,
    "ContextFailedDetails": history.ContextFailedDetails,
    "WaitStartedDetails": history.WaitStartedDetails,
    "WaitSucceededDetails": history.WaitSucceededDetails,
    "WaitCancelledDetails": history.WaitCancelledDetails,
    "StepStartedDetails": history.StepStartedDetails,
    "StepSucceededDetails": history.StepSucceededDetails,
    "StepFailedDetails": history.StepFailedDetails,
    "ChainedInvokeStartedDetails": history.ChainedInvokeStartedDetails,
    "ChainedInvokeSucceededDetails": history.ChainedInvokeSucceededDetails,
    "ChainedInvokeFailedDetails": history.ChainedInvokeFailedDetails,
    "ChainedInvokeTimedOutDetails": history.ChainedInvokeTimedOutDetails,
    "ChainedInvokeStoppedDetails": history.ChainedInvokeStoppedDetails,
    "CallbackStartedDetails": history.CallbackStartedDetails,
    "CallbackSucceededDetails": history.CallbackSucceededDetails,
    "CallbackFailedDetails": history.CallbackFailedDetails,
    "CallbackTimedOutDetails": history.CallbackTimedOutDetails,
    "InvocationCompletedDetails": history.InvocationCompletedDetails,
    "Event": history.Event,
    "GetDurableExecutionHistoryRequest": history.GetDurableExecutionHistoryRequest,
    "GetDurableExecutionHistoryResponse": history.GetDurableExecutionHistoryResponse,
}

# Shapes whose every reachable structure must be registered: what eventflow reads or writes. The responses of
# SendDurableExecutionCallback* are empty structures eventflow never reads, so only their requests count.
ROOT_SHAPES = [
    "Operation",
    "OperationUpdate",
    "Event",
    "CheckpointDurableExecutionRequest",
    "CheckpointDurableExecutionResponse",
    "GetDurableExecutionStateRequest",
    "GetDurableExecutionStateResponse",
    "GetDurableExecutionRequest",
    "GetDurableExecutionResponse",
    "GetDurableExecutionHistoryRequest",
    "GetDurableExecutionHistoryResponse",
    "ListDurableExecutionsByFunctionRequest",
    "ListDurableExecutionsByFunctionResponse",
    "StopDurableExecutionRequest",
    "StopDurableExecutionResponse",
    "PauseDurableExecutionRequest",
    "PauseDurableExecutionResponse",
    "ResumeDurableExecutionRequest",
    "ResumeDurableExecutionResponse",
    "DeleteDurableExecutionRequest",
    "DeleteDurableExecutionResponse",
    "SendDurableExecutionCallbackSuccessRequest",
    "SendDurableExecutionCallbackFailureRequest",
    "SendDurableExecutionCallbackHeartbeatRequest",
]

# Members botocore marks required that a model deliberately leaves optional (each with its reason).
RELAXED_MEMBERS: dict[str, set[str]] = {
    # The official SDK treats it as optional; replay never needs it.
    "Operation": {"StartTimestamp"},
    # The official SDK defaults both to empty when absent.
    "CheckpointDurableExecutionResponse": {"NewExecutionState"},
    "GetDurableExecutionStateResponse": {"Operations"},
    "GetDurableExecutionHistoryResponse": {"Events"},
}
# History event shapes are read-only audit data and the testing library's emulator omits some required
# members, so every member of theirs is optional (see eventflow/events/history.py).
RELAXED_SHAPES: set[str] = {
    name
    for name, model in REGISTRY.items()
    if model.__module__ == history.__name__ and not name.endswith(("Request", "Response"))
}


@pytest.fixture(scope="module")
def service_model() -> ServiceModel:
    model: ServiceModel = botocore.session.get_session().get_service_model("lambda")
    return model


def _structure(service_model: ServiceModel, name: str) -> StructureShape:
    shape = service_model.shape_for(name)
    assert isinstance(shape, StructureShape), f"{name} is not a structure in botocore"
    return shape


def _strip(annotation: Any) -> tuple[Any, list[Any]]:
    """Drop `| None` and `Annotated[...]`, returning the bare type and any Annotated metadata."""
    metadata: list[Any] = []
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation, *extra = get_args(annotation)
            metadata.extend(extra)
        elif origin in (Union, types.UnionType):
            args = [arg for arg in get_args(annotation) if arg is not type(None)]
            assert len(args) == 1, f"unexpected union {annotation!r}"
            annotation = args[0]
        else:
            return annotation, metadata


def _check_type(where: str, shape: Shape, annotation: Any, metadata: list[Any]) -> list[str]:
    """Problems with one member's Python type against its botocore shape (empty when they agree)."""
    bare, more = _strip(annotation)
    metadata = [*metadata, *more]
    type_name = shape.type_name
    if type_name == "structure":
        expected = REGISTRY.get(shape.name)
        if expected is None:
            return [f"{where}: structure {shape.name} has no registered model"]
        return [] if bare is expected else [f"{where}: expected {expected.__name__}, model has {bare!r}"]
    if type_name == "list":
        assert isinstance(shape, ListShape)
        if get_origin(bare) is not list:
            return [f"{where}: expected a list, model has {bare!r}"]
        return _check_type(f"{where}[]", shape.member, get_args(bare)[0], [])
    if type_name == "string" and isinstance(shape, StringShape) and shape.enum:
        if not (isinstance(bare, type) and issubclass(bare, StrEnum)):
            return [f"{where}: enum {shape.name} should be a StrEnum, model has {bare!r}"]
        values = {member.value for member in bare}
        if values != set(shape.enum):
            return [f"{where}: {bare.__name__} values {sorted(values)} != botocore {sorted(shape.enum)}"]
        return []
    if type_name == "timestamp":
        uses_parser = any(isinstance(m, PlainValidator) and m.func is parse_timestamp for m in metadata)
        if bare is not datetime or not uses_parser:
            return [f"{where}: timestamp should be the Timestamp type, model has {bare!r}"]
        return []
    scalar = {"string": str, "integer": int, "long": int, "boolean": bool, "blob": bytes}
    expected_scalar = scalar.get(type_name)
    if expected_scalar is None:
        return [f"{where}: botocore type {type_name} not handled by the drift test"]
    return [] if bare is expected_scalar else [f"{where}: expected {expected_scalar.__name__}, got {bare!r}"]


def _fields_by_alias(model: type[WireModel]) -> dict[str, FieldInfo]:
    return {(field.alias or name): field for name, field in model.model_fields.items()}


@pytest.mark.parametrize("shape_name", sorted(REGISTRY))
def test_model_matches_botocore_shape(service_model: ServiceModel, shape_name: str) -> None:
    model = REGISTRY[shape_name]
    shape = _structure(service_model, shape_name)
    assert model.__name__ == shape_name, "models are named after their botocore shape"

    fields = _fields_by_alias(model)
    assert set(fields) == set(shape.members), (
        f"{model.__name__}: only in model {sorted(set(fields) - set(shape.members))}, "
        f"only in botocore {sorted(set(shape.members) - set(fields))}"
    )

    problems: list[str] = []
    for member_name, member_shape in shape.members.items():
        field = fields[member_name]
        problems += _check_type(f"{shape_name}.{member_name}", member_shape, field.annotation, field.metadata)
    assert not problems, "\n".join(problems)

    required_in_model = {alias for alias, field in fields.items() if field.is_required()}
    required_in_shape = set(shape.required_members)
    assert required_in_model <= required_in_shape, (
        f"{shape_name}: model requires members botocore leaves optional: "
        f"{sorted(required_in_model - required_in_shape)}"
    )
    relaxed = required_in_shape - required_in_model
    allowed = required_in_shape if shape_name in RELAXED_SHAPES else RELAXED_MEMBERS.get(shape_name, set())
    assert relaxed <= allowed, f"{shape_name}: botocore requires {sorted(relaxed - allowed)}, model does not"


def test_relaxations_are_not_stale(service_model: ServiceModel) -> None:
    for shape_name, members in RELAXED_MEMBERS.items():
        shape = _structure(service_model, shape_name)
        assert members <= set(shape.required_members), f"{shape_name}: {members} no longer required"
        fields = _fields_by_alias(REGISTRY[shape_name])
        assert not any(fields[m].is_required() for m in members)


def _reachable_structures(service_model: ServiceModel, roots: list[str]) -> Iterator[tuple[str, str]]:
    """(path, structure name) for every structure reachable from `roots`."""
    seen: set[str] = set()
    stack: list[tuple[str, Shape]] = [(name, service_model.shape_for(name)) for name in roots]
    while stack:
        path, shape = stack.pop()
        if isinstance(shape, ListShape):
            stack.append((f"{path}[]", shape.member))
        elif isinstance(shape, StructureShape) and shape.name not in seen:
            seen.add(shape.name)
            yield path, shape.name
            stack.extend((f"{path}.{name}", member) for name, member in shape.members.items())


def test_every_reachable_shape_is_registered(service_model: ServiceModel) -> None:
    missing = [
        f"{name} (via {path})"
        for path, name in _reachable_structures(service_model, ROOT_SHAPES)
        if name not in REGISTRY
    ]
    assert not missing, f"unregistered botocore shapes: {missing}"


def test_roots_are_the_operations_io(service_model: ServiceModel) -> None:
    """The roots really are the inputs/outputs of the APIs eventflow calls (guards against renames)."""
    io = set()
    for name in service_model.operation_names:
        if "DurableExecution" in name:
            op = service_model.operation_model(name)
            io |= {shape.name for shape in (op.input_shape, op.output_shape) if shape is not None}
    assert set(ROOT_SHAPES) - {"Operation", "OperationUpdate", "Event"} <= io


def test_every_durable_execution_api_is_modelled(service_model: ServiceModel) -> None:
    """A durable-execution API botocore adds (as 1.44.8 added Pause, Resume and Delete) fails here until
    its input and output are modelled; only the empty SendDurableExecutionCallback* outputs are exempt."""
    unmodelled = []
    for name in service_model.operation_names:
        if "DurableExecution" not in name:
            continue
        op = service_model.operation_model(name)
        for shape in (op.input_shape, op.output_shape):
            exempt = name.startswith("SendDurableExecutionCallback") and shape is op.output_shape
            if shape is not None and not exempt and shape.name not in ROOT_SHAPES:
                unmodelled.append(f"{name}: {shape.name}")
    assert not unmodelled, unmodelled


def test_event_has_a_details_member_per_event_type(service_model: ServiceModel) -> None:
    event = _structure(service_model, "Event")
    botocore_types = event.members["EventType"]
    assert isinstance(botocore_types, StringShape)
    assert {t.value for t in EventType} == set(botocore_types.enum)
    assert len(EventType) == 26
    details_members = {name for name in event.members if name.endswith("Details")}
    assert details_members == {f"{t.value}Details" for t in EventType}
    fields = history.Event.model_fields
    for event_type, field_name in history.DETAILS_FIELD_BY_EVENT_TYPE.items():
        assert fields[field_name].alias == f"{event_type.value}Details"


# --- sample instances, every member populated ---------------------------------------------------------------

SAMPLE_TIME = datetime(2025, 12, 1, 12, 30, 45, 123000, tzinfo=UTC)


def _sample_value(name: str, annotation: Any) -> Any:
    bare, _ = _strip(annotation)
    if get_origin(bare) is list:
        return [_sample_value(name, get_args(bare)[0])]
    if isinstance(bare, type) and issubclass(bare, WireModel):
        return sample(bare)
    if isinstance(bare, type) and issubclass(bare, StrEnum):
        return list(bare)[-1]
    samples: dict[Any, Any] = {
        datetime: SAMPLE_TIME,
        bool: True,
        int: 7,
        str: f"{name}-value",
        bytes: b'{"approved": true}',
    }
    return samples[bare]


def sample(model: type[WireModel]) -> Any:
    """An instance of `model` with every member set (recursively)."""
    return model(
        **{name: _sample_value(name, field.annotation) for name, field in model.model_fields.items()}
    )


ALL_MODELS = [
    *REGISTRY.values(),
    invocation.InitialExecutionState,
    invocation.DurableExecutionInvocationInput,
    invocation.DurableExecutionInvocationOutput,
]


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_round_trip(model: type[WireModel]) -> None:
    instance = sample(model)
    wired = instance.to_wire()
    assert json.loads(json.dumps(wired)) == wired, "to_wire must be plain JSON"
    assert model.from_wire(wired) == instance
    assert model.from_wire(json.dumps(wired)) == instance
    assert model.from_wire(instance.to_boto_params()) == instance
    assert set(wired) == {field.alias for field in model.model_fields.values()}


def test_to_wire_leaves_out_unset_members() -> None:
    update = wire.OperationUpdate(id="1", type=OperationType.WAIT, action=OperationAction.START)
    assert update.to_wire() == {"Id": "1", "Type": "WAIT", "Action": "START"}


def test_to_wire_on_model_construct_matches_validated() -> None:
    fields: dict[str, Any] = {
        "id": "c5faca15ac2f93578b39ef4b6bbb871bdedce4ddd584fd31f0bb66fade3947e6",
        "parent_id": "1ced8f5be2db23a6513eba4d819c73806424748a7bc6fa0d792cc1c7d1775a97",
        "name": "charge",
        "type": OperationType.STEP,
        "sub_type": "Step",
        "action": OperationAction.SUCCEED,
        "payload": '{"ok":true}',
    }
    constructed = wire.OperationUpdate.model_construct(**fields).to_wire()
    assert constructed == wire.OperationUpdate(**fields).to_wire()
    assert type(constructed["Type"]) is str and constructed["Type"] == "STEP"
    retry = wire.OperationUpdate.model_construct(
        id="x",
        type=OperationType.STEP,
        action=OperationAction.RETRY,
        error=wire.ErrorObject.model_construct(error_type="ValueError", error_message="no"),
        step_options=wire.StepOptions.model_construct(next_attempt_delay_seconds=5),
    )
    assert retry.to_wire() == {
        "Id": "x",
        "Type": "STEP",
        "Action": "RETRY",
        "Error": {"ErrorType": "ValueError", "ErrorMessage": "no"},
        "StepOptions": {"NextAttemptDelaySeconds": 5},
    }


def test_snake_case_names_accepted_and_unknown_keys_ignored() -> None:
    op = wire.Operation.from_wire(
        {"id": "a", "Type": "WAIT", "Status": "STARTED", "SomeFutureField": {"x": 1}}
    )
    assert op.id == "a"
    assert "SomeFutureField" not in op.to_wire()


def test_models_are_frozen() -> None:
    op = wire.Operation(id="a", type=OperationType.WAIT, status=OperationStatus.STARTED)
    with pytest.raises(ValidationError):
        op.id = "b"  # type: ignore[misc]


def test_kms_key_arn_alias() -> None:
    config = wire.DurableConfig.from_wire({"KMSKeyArn": "arn:aws:kms:k"})
    assert config.kms_key_arn == "arn:aws:kms:k"
    assert config.to_wire() == {"KMSKeyArn": "arn:aws:kms:k"}


def test_callback_success_result_is_bytes() -> None:
    request = wire.SendDurableExecutionCallbackSuccessRequest.from_wire(
        {"CallbackId": "cb", "Result": '"ok"'}
    )
    assert request.result == b'"ok"'
    assert request.to_wire() == {"CallbackId": "cb", "Result": '"ok"'}
    assert request.to_boto_params() == {"CallbackId": "cb", "Result": b'"ok"'}


# --- timestamps ---------------------------------------------------------------------------------------------

EXPECTED = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)  # epoch 1_700_000_000


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (datetime(2023, 11, 14, 22, 13, 20), EXPECTED),  # naive: UTC
        (datetime(2023, 11, 14, 23, 13, 20, tzinfo=timezone(timedelta(hours=1))), EXPECTED),
        (1_700_000_000, EXPECTED),  # epoch seconds (the API)
        (1_700_000_000.25, EXPECTED + timedelta(milliseconds=250)),
        (1_700_000_000_000, EXPECTED),  # epoch milliseconds (the invocation input)
        (1_700_000_000_250.0, EXPECTED + timedelta(milliseconds=250)),
        ("1700000000", EXPECTED),
        ("1700000000123", EXPECTED + timedelta(milliseconds=123)),
        ("2023-11-14T22:13:20Z", EXPECTED),
        ("2023-11-14T22:13:20.500+00:00", EXPECTED + timedelta(milliseconds=500)),
        ("2023-11-15T00:13:20+02:00", EXPECTED),
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
    ],
)
def test_timestamp_forms(raw: Any, expected: datetime) -> None:
    details = wire.WaitDetails.from_wire({"ScheduledEndTimestamp": raw})
    assert details.scheduled_end_timestamp == expected
    assert details.scheduled_end_timestamp is not None
    assert details.scheduled_end_timestamp.tzinfo is UTC


def test_timestamp_rendered_as_epoch_milliseconds() -> None:
    details = wire.WaitDetails(scheduled_end_timestamp=EXPECTED + timedelta(microseconds=123_999))
    assert details.to_wire() == {"ScheduledEndTimestamp": 1_700_000_000_123}  # truncated to the millisecond
    assert details.to_boto_params() == {"ScheduledEndTimestamp": EXPECTED + timedelta(microseconds=123_999)}


def test_timestamp_before_epoch_renders_floor() -> None:
    details = wire.WaitDetails(scheduled_end_timestamp=datetime(1969, 12, 31, 23, 59, 59, 999500, tzinfo=UTC))
    assert details.to_wire() == {"ScheduledEndTimestamp": -1}


@pytest.mark.parametrize("raw", ["not a time", True, float("nan"), [1], 1e30])
def test_bad_timestamp_names_the_field(raw: Any) -> None:
    with pytest.raises(InvalidInputError, match=r"StepDetails\.NextAttemptTimestamp"):
        wire.Operation.from_wire(
            {"Id": "a", "Type": "STEP", "Status": "PENDING", "StepDetails": {"NextAttemptTimestamp": raw}}
        )


# --- errors -------------------------------------------------------------------------------------------------


def test_invalid_input_names_model_and_paths() -> None:
    with pytest.raises(InvalidInputError) as caught:
        invocation.DurableExecutionInvocationInput.from_wire(
            {
                "DurableExecutionArn": "arn",
                "InitialExecutionState": {
                    "Operations": [
                        {"Id": "a", "Type": "STEP", "Status": "STARTED"},
                        {"Id": "b", "Type": "NOPE", "Status": "STARTED", "StepDetails": {"Attempt": "x"}},
                    ]
                },
            }
        )
    message = str(caught.value)
    assert message.startswith("invalid DurableExecutionInvocationInput: 3 problems")
    assert "CheckpointToken: field required" in message
    assert "InitialExecutionState.Operations[1].Type" in message
    assert "'NOPE'" in message
    assert "InitialExecutionState.Operations[1].StepDetails.Attempt" in message
    assert isinstance(caught.value.__cause__, ValidationError)


def test_invalid_input_for_non_mapping_and_bad_json() -> None:
    with pytest.raises(InvalidInputError, match="invalid Operation: 1 problem: <root>"):
        wire.Operation.from_wire([1, 2])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="invalid Operation"):
        wire.Operation.from_wire("{not json")


# --- the official SDK's JSON ------------------------------------------------------------------------------


def test_official_sdk_invocation_json_parses() -> None:
    """An invocation event as the official SDK's `to_json_dict` writes it (epoch-ms timestamps, nulls)."""
    event = {
        "DurableExecutionArn": "arn:aws:lambda:us-east-1:123456789012:function:f/durable-execution/e/1",
        "CheckpointToken": "token-1",
        "InitialExecutionState": {
            "Operations": [
                {
                    "Id": "exec",
                    "Type": "EXECUTION",
                    "Status": "STARTED",
                    "StartTimestamp": 1_764_592_245_000,
                    "ExecutionDetails": {"InputPayload": '{"order": 42}'},
                },
                {
                    "Id": "1ced8f5be2db23a6513eba4d819c73806424748a7bc6fa0d792cc1c7d1775a97",
                    "Type": "STEP",
                    "Status": "PENDING",
                    "Name": "charge",
                    "SubType": "Step",
                    "StartTimestamp": 1_764_592_245_100,
                    "StepDetails": {
                        "Attempt": 1,
                        "NextAttemptTimestamp": 1_764_592_250_100,
                        "Result": '{"t":"m","v":{"x":{"t":"i","v":1}}}',
                        "Error": {
                            "ErrorType": "ValueError",
                            "ErrorMessage": "boom",
                            "StackTrace": ["a", "b"],
                        },
                    },
                },
                {
                    "Id": "ctx",
                    "Type": "CONTEXT",
                    "Status": "SUCCEEDED",
                    "SubType": "RunInChildContext",
                    "ContextDetails": {"Result": None},
                },
                {"Id": "w", "Type": "WAIT", "Status": "STARTED", "WaitDetails": {}},
                {
                    "Id": "cb",
                    "Type": "CALLBACK",
                    "Status": "STARTED",
                    "CallbackDetails": {"CallbackId": "id"},
                },
                {"Id": "inv", "Type": "CHAINED_INVOKE", "Status": "SUCCEEDED", "ChainedInvokeDetails": {}},
            ],
            "NextMarker": "",
        },
        "UpdatedOperationIds": ["w"],
    }
    parsed = invocation.DurableExecutionInvocationInput.from_wire(event)
    ops = parsed.initial_execution_state.operations
    assert not parsed.initial_execution_state.has_more
    assert ops[0].execution_details == wire.ExecutionDetails(input_payload='{"order": 42}')
    step = ops[1].step_details
    assert step is not None
    assert step.attempt == 1
    assert step.next_attempt_timestamp == datetime(2025, 12, 1, 12, 30, 50, 100000, tzinfo=UTC)
    assert step.error is not None and step.error.stack_trace == ["a", "b"]
    assert ops[1].to_wire()["StepDetails"]["NextAttemptTimestamp"] == 1_764_592_250_100
    assert ops[2].start_timestamp is None
    assert parsed.updated_operation_ids == ["w"]
    # What we emit is what the SDK emits (modulo its null Result, which we leave out).
    sent_step = event["InitialExecutionState"]["Operations"][1]  # type: ignore[index]
    assert parsed.to_wire()["InitialExecutionState"]["Operations"][1] == sent_step


def test_minimal_invocation_input_defaults() -> None:
    parsed = invocation.DurableExecutionInvocationInput.from_wire(
        {"DurableExecutionArn": "arn", "CheckpointToken": "t"}
    )
    assert parsed.initial_execution_state.operations == []
    assert parsed.updated_operation_ids == []


def test_invocation_output_shapes() -> None:
    out = invocation.DurableExecutionInvocationOutput
    assert out(status=InvocationStatus.PENDING).to_wire() == {"Status": "PENDING"}
    assert out(status=InvocationStatus.SUCCEEDED, result="").to_wire() == {
        "Status": "SUCCEEDED",
        "Result": "",
    }
    failed = out(status=InvocationStatus.FAILED, error=wire.ErrorObject(error_type="E", error_message="m"))
    assert failed.to_wire() == {"Status": "FAILED", "Error": {"ErrorMessage": "m", "ErrorType": "E"}}


# --- history ------------------------------------------------------------------------------------------------


def test_event_details_property() -> None:
    event = history.Event.from_wire(
        {
            "EventType": "StepFailed",
            "EventId": 3,
            "EventTimestamp": 1_764_592_245.5,
            "Id": "1ced8f5be2db23a6513eba4d819c73806424748a7bc6fa0d792cc1c7d1775a97",
            "SubType": "Step",
            "StepFailedDetails": {
                "Error": {"Payload": {"ErrorType": "ValueError"}, "Truncated": False},
                "RetryDetails": {"CurrentAttempt": 1, "NextAttemptDelaySeconds": 2},
            },
        }
    )
    details = event.details
    assert isinstance(details, history.StepFailedDetails)
    assert details.retry_details == history.RetryDetails(current_attempt=1, next_attempt_delay_seconds=2)
    assert event.event_timestamp == datetime(2025, 12, 1, 12, 30, 45, 500000, tzinfo=UTC)
    assert history.Event(event_type=EventType.STEP_STARTED).details is None
    # A details member that does not match EventType is still found.
    odd = history.Event(
        event_type=EventType.STEP_STARTED, wait_succeeded_details=history.WaitSucceededDetails()
    )
    assert odd.details == history.WaitSucceededDetails()


@pytest.mark.parametrize("event_type", list(EventType), ids=str)
def test_every_event_type_round_trips_with_its_details(event_type: EventType) -> None:
    field_name = history.DETAILS_FIELD_BY_EVENT_TYPE[event_type]
    details_model = _strip(history.Event.model_fields[field_name].annotation)[0]
    event = history.Event(event_type=event_type, event_id=1, **{field_name: sample(details_model)})
    assert isinstance(event.details, details_model)
    assert history.Event.from_wire(event.to_wire()) == event


@given(st.integers(min_value=100_000_000_001, max_value=253_402_300_799_000))
def test_epoch_milliseconds_parse_exactly_on_the_fast_path_and_off_it(ms: int) -> None:
    from datetime import UTC, datetime, timedelta

    assert parse_timestamp(ms) == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_unchecked_builds_what_validation_builds_from_well_typed_values(model: type[WireModel]) -> None:
    instance = sample(model)
    values = {name: getattr(instance, name) for name in model.model_fields}
    built = model.unchecked(**values)
    assert built == instance
    assert built.model_fields_set == instance.model_fields_set
    assert built.to_wire() == instance.to_wire()
    partial = model.unchecked()  # nothing given: every member at its default, none set
    assert partial.model_fields_set == set()
    assert all(getattr(partial, name) == field.get_default(call_default_factory=True)
               for name, field in model.model_fields.items())
