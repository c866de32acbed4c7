"""Records accept exactly what the models accept (eventflow.events.records).

The invocation input is validated as records on the hot path and turned into models only on demand, so
both doors must agree on every input: the same inputs refused, naming the same fields, and for the ones
accepted, the model built from the record equal to the model validated from the input. The inputs are
the bad-input suite's captured invocations, mutated by hypothesis.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from eventflow.errors import InvalidInputError
from eventflow.events.invocation import DurableExecutionInvocationInput
from eventflow.events.records import validate_record
from eventflow.events.wire import Operation

from .conftest import examples
from .test_bad_input import INPUTS, mutated

STATS = {"accepted": 0, "refused": 0}


def _outcome(validate: Any, event: Any) -> tuple[str, Any]:
    try:
        return "ok", validate(event)
    except InvalidInputError as exc:
        return "refused", str(exc)


def _problems(message: str) -> list[str]:
    """The wire paths a refusal names, in order (the wording of a type error may differ: a record says
    "a valid dictionary" where a model says "a valid dictionary or instance of ...")."""
    problems = message.split(" problems: ", 1)[-1].split(" problem: ", 1)[-1]
    return [problem.split(": ", 1)[0] for problem in problems.split("; ")]


def check_agreement(event: Any) -> None:
    model = _outcome(DurableExecutionInvocationInput.from_wire, event)
    record = _outcome(lambda e: validate_record(DurableExecutionInvocationInput, e), event)
    assert record[0] == model[0], (record, model)
    if model[0] == "refused":
        assert _problems(record[1]) == _problems(model[1]), (record[1], model[1])
        STATS["refused"] += 1
        return
    expected = model[1].initial_execution_state.operations
    initial = record[1].get("initial_execution_state", {})
    built = [Operation.model_validate(op) for op in initial.get("operations", [])]
    assert built == expected
    assert record[1]["durable_execution_arn"] == model[1].durable_execution_arn
    assert record[1]["checkpoint_token"] == model[1].checkpoint_token
    STATS["accepted"] += 1


@pytest.mark.parametrize("index", range(len(INPUTS)))
def test_every_captured_input_reads_the_same_as_records(index: int) -> None:
    check_agreement(INPUTS[index])


@settings(
    max_examples=examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(event=mutated())
def test_mutated_inputs_are_accepted_or_refused_alike(event: Any) -> None:
    if not isinstance(event, dict):
        return  # the handler refuses a non-mapping before validating anything
    check_agreement(event)


@pytest.mark.parametrize(
    "timestamp",
    [1_700_000_000_000, 1_700_000_000, 1_700_000_000.5, "2024-01-02T03:04:05Z", "2024-01-02T03:04:05",
     "1700000000000", 10**11, 4_000_000_000_000, -5, True, None, "soon", float("nan")],
)
def test_every_timestamp_form_reads_the_same(timestamp: Any) -> None:
    event = {
        "DurableExecutionArn": "arn", "CheckpointToken": "t",
        "InitialExecutionState": {"Operations": [
            {"Id": "x", "Type": "EXECUTION", "Status": "STARTED", "StartTimestamp": timestamp,
             "StepDetails": {"NextAttemptTimestamp": timestamp}},
        ]},
    }
    check_agreement(event)
