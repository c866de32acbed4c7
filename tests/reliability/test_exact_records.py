"""`eventflow.events.exact` answers only where pydantic-core would answer the same.

A cold process validates plainly typed records in Python so as not to load pydantic-core; these tests
run both on the bad-input suite's captured invocations and hypothesis' mutations of them, on the
service's answers as botocore parses them (datetimes), and on every timestamp form: whenever the Python
path answers, its record equals pydantic-core's, key order included; when it is unsure, the caller asks
pydantic-core. They also check it does answer for the inputs a cold start sees, so it is not vacuous.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from pydantic_core import ValidationError

from eventflow.events._records_compiled import SCHEMAS
from eventflow.events.exact import MAX_ITEMS, Unsure, validate_exact
from eventflow.events.records import record_validator

from .conftest import examples
from .test_bad_input import INPUTS, mutated

INPUT = "DurableExecutionInvocationInput"
STATS = {"answered": 0, "unsure": 0}


def _ordered(value: Any) -> Any:
    """A record with its key order made comparable (dict equality ignores order)."""
    if isinstance(value, dict):
        return [(key, type(item), _ordered(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [(type(item), _ordered(item)) for item in value]
    return value


def agree(name: str, data: Any) -> bool:
    """Whether the Python path answered; fails if its answer differs from pydantic-core's."""
    try:
        exact = validate_exact(SCHEMAS[name], data)
    except Unsure:
        STATS["unsure"] += 1
        return False
    try:
        expected = record_validator(name).validate_python(data)
    except ValidationError as exc:
        raise AssertionError(f"the Python path accepted what pydantic-core refuses: {exc}") from exc
    assert exact == expected
    assert _ordered(exact) == _ordered(expected)
    STATS["answered"] += 1
    return True


@pytest.mark.parametrize("index", range(len(INPUTS)))
def test_every_captured_input_reads_the_same(index: int) -> None:
    agree(INPUT, INPUTS[index])


@settings(
    max_examples=examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(event=mutated())
def test_mutated_inputs_read_the_same(event: Any) -> None:
    agree(INPUT, event)


def _operation(**changes: Any) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "Id": "a1", "ParentId": "p", "Name": "charge", "Type": "STEP", "SubType": "Step",
        "Status": "SUCCEEDED", "StartTimestamp": 1_700_000_000_000, "EndTimestamp": 1_700_000_001_000,
        "StepDetails": {"Attempt": 2, "Result": "[1]", "Error": {"ErrorMessage": "m", "StackTrace": ["x"]}},
    }
    operation.update(changes)
    return operation


def test_a_cold_starts_inputs_are_answered_in_python() -> None:
    first = {
        "DurableExecutionArn": "arn", "CheckpointToken": "t",
        "InitialExecutionState": {"Operations": [_operation(Type="EXECUTION", StepDetails=None,
                                                            ExecutionDetails={"InputPayload": "{}"})]},
    }
    assert agree(INPUT, first)
    # a checkpoint answer as botocore parses it: timestamps are datetimes
    parsed = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert agree("Operation", _operation(StartTimestamp=parsed, EndTimestamp=parsed))
    assert agree("Operation", {"id": "snake", "type": "WAIT", "status": "STARTED"})


@pytest.mark.parametrize(
    "timestamp",
    [1_700_000_000_000, 1_700_000_000, 1_700_000_000.5, "2024-01-02T03:04:05Z", "1700000000000",
     10**11, 4_000_000_000_000, -5, 0, True, "soon", float("nan"), datetime(2024, 1, 2), None],
)
def test_every_timestamp_form_reads_the_same(timestamp: Any) -> None:
    agree("Operation", _operation(StartTimestamp=timestamp))


@pytest.mark.parametrize(
    "changes",
    [
        {"Type": "NOPE"}, {"Status": 3}, {"Id": 5}, {"Id": None}, {"Name": b"bytes"},
        {"StepDetails": {"Attempt": "2"}}, {"StepDetails": {"Attempt": True}},
        {"StepDetails": {"Attempt": 2.0}},
        {"StepDetails": []}, {"StepDetails": {"Error": {"StackTrace": ("a",)}}},
        {"id": "both", "Id": "pascal wins"},
    ],
)
def test_odd_values_are_left_to_pydantic_core_or_read_the_same(changes: dict[str, Any]) -> None:
    agree("Operation", _operation(**changes))


def test_long_lists_are_left_to_pydantic_core() -> None:
    state = {"Operations": [_operation(Id=str(i)) for i in range(MAX_ITEMS + 1)]}
    with pytest.raises(Unsure):
        validate_exact(SCHEMAS["InitialExecutionState"], state)
    state["Operations"].pop()
    assert agree("InitialExecutionState", state)


def test_a_first_invocation_loads_no_pydantic_core_and_bad_input_is_refused_as_before() -> None:
    """In a fresh process: a first 3-step invocation validates its input and answers in Python (neither
    pydantic-core nor pydantic is loaded), and a bad input is still refused in pydantic-core's words."""
    code = """
import json, sys
import eventflow
from eventflow.backends.base import CheckpointResult
from eventflow.errors import InvalidInputError

class Echo:
    def checkpoint(self, arn, token, updates):
        return CheckpointResult("next", [])
    def get_state(self, arn, token, marker):
        raise AssertionError

@eventflow.durable_execution(backend=Echo())
def handler(event, ctx):
    return [ctx.step(lambda _: 1) for _ in "abc"]

execution = {"Id": "x", "Type": "EXECUTION", "Status": "STARTED", "StartTimestamp": 1700000000000}
state = {"Operations": [execution]}
event = {"DurableExecutionArn": "arn", "CheckpointToken": "t", "InitialExecutionState": state}
out = [handler(event), "pydantic_core" in sys.modules, "pydantic" in sys.modules]
try:
    handler({"DurableExecutionArn": "arn", "CheckpointToken": 5})
except InvalidInputError as exc:
    out.append(str(exc))
print(json.dumps(out))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    output, core_loaded, pydantic_loaded, refusal = json.loads(result.stdout.strip().splitlines()[-1])
    assert output == {"Status": "SUCCEEDED", "Result": "[1, 1, 1]"}
    assert (core_loaded, pydantic_loaded) == (False, False)
    assert refusal.startswith("invalid DurableExecutionInvocationInput: 1 problem: CheckpointToken")
