"""Bad input, fuzzed: every malformed invocation payload or edited history gets a typed eventflow error.

Valid invocation inputs are captured from a real run of a workflow with every construct, then mutated
by hypothesis: fields deleted, added, replaced by values of the wrong type, enums replaced by unknown
strings, operations duplicated, ParentIds pointed at unknown operations or into cycles, pages truncated
(a NextMarker whose page fails, or never ends). The same handler then runs on the mutated input.
Allowed outcomes: an invocation output (SUCCEEDED / PENDING / FAILED whose ErrorType is an eventflow
error or the workflow's own), or a raised `DurableError`. Any other exception, or a hang, is a bug.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventflow import DurableContext, DurableError, InvalidInputError
from eventflow.backends.base import CheckpointResult, StatePage
from eventflow.batch import CompletionConfig, MapConfig
from eventflow.errors import CheckpointError
from eventflow.events.wire import Operation, OperationUpdate
from eventflow.handler import DurableHandler
from eventflow.local import LocalService

from .conftest import examples


class Boom(Exception):
    pass


def workflow(event: Any, ctx: DurableContext) -> Any:
    a = ctx.step(lambda _: event.get("x", 1), name="a")
    ctx.wait(seconds=5)
    b = ctx.child_context(lambda c: [c.step(lambda _: "b", name="b"), c.wait(seconds=5)], name="c")
    cfg: MapConfig[int] = MapConfig(completion_config=CompletionConfig.all_completed())
    m = ctx.map([1, 2], lambda c, item, i, items: c.step(lambda _: item * 2, name="m"), "map", config=cfg)
    cb = ctx.create_callback("cb", timeout=60)
    return [a, b, m.get_results(), cb.result()]


def _capture() -> list[dict[str, Any]]:
    """Every invocation input of one full run (more operations recorded in each)."""
    inputs: list[dict[str, Any]] = []
    service = LocalService()
    durable = DurableHandler(workflow, service)

    def handler(event: dict[str, Any], context: Any) -> Any:
        inputs.append(copy.deepcopy(event))
        output = durable(event, context)
        for op in service.get(event["DurableExecutionArn"]).operations.values():
            if op.callback_details and op.callback_details.callback_id and op.status == "STARTED":
                cid = op.callback_details.callback_id
                service.at(1, lambda cid=cid: service.send_callback_success(cid, '"ok"'))
        return output

    service.register("wf", handler)
    execution = service.start_execution("wf", {"x": 3})
    service.run(execution.arn)
    assert str(execution.status) == "SUCCEEDED", execution.error
    return inputs


INPUTS = _capture()
ALLOWED_ERROR_TYPES = ("eventflow.", f"{__name__}.Boom")


class Permissive:
    """Accepts every checkpoint; pages come from ``pages`` (marker -> (operations, next marker))."""

    def __init__(self, pages: dict[str, tuple[list[Any], str | None]] | None = None) -> None:
        self.pages = pages or {}
        self.calls = 0

    def checkpoint(self, arn: str, token: str, updates: Sequence[OperationUpdate]) -> CheckpointResult:
        self.calls += 1
        if self.calls > 10_000:
            raise AssertionError("the handler checkpoints without end")
        return CheckpointResult(f"t{self.calls}", [])

    def get_state(self, arn: str, token: str, marker: str) -> StatePage:
        self.calls += 1
        if self.calls > 10_000:
            raise AssertionError("the handler pages without end")
        if marker not in self.pages:
            raise CheckpointError(f"unknown marker {marker!r}", terminal=True, code="InvalidParameterValue")

        ops, nxt = self.pages[marker]
        return StatePage([Operation.from_wire(op) for op in ops], nxt)


def check(event: Any, backend: Permissive | None = None) -> str:
    """Run the handler; return what happened, or fail the test if the outcome is not a typed one."""
    try:
        output = DurableHandler(workflow, backend or Permissive())(event, None)
    except DurableError as exc:
        assert str(exc), "a typed error must say what is wrong"
        return f"raised {type(exc).__name__}"
    assert isinstance(output, dict) and output.get("Status") in ("SUCCEEDED", "FAILED", "PENDING"), output
    if output["Status"] == "FAILED":
        error = output["Error"]
        assert str(error.get("ErrorType", "")).startswith(ALLOWED_ERROR_TYPES), error
        assert error.get("ErrorMessage"), error
        return f"FAILED {error['ErrorType']}"
    return str(output["Status"])


# -- mutations -------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=5,
)


def paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(paths(v, (*path, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(paths(v, (*path, i)))
    return out


def get(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    event = copy.deepcopy(draw(st.sampled_from(INPUTS), label="base"))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(paths(event)), label="path")
        how = draw(st.sampled_from(["delete", "replace", "extra", "enum", "dup", "parent", "cycle"]))
        if not where:
            if how == "replace":
                event = draw(json_values)
                break
            continue
        parent, last = get(event, where[:-1]), where[-1]
        state = event.get("InitialExecutionState") if isinstance(event, dict) else None
        ops = state.get("Operations") if isinstance(state, dict) else None
        if how == "delete":
            del parent[last]
        elif how == "replace":
            parent[last] = draw(json_values)
        elif how == "extra" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=10))] = draw(json_values)
        elif how == "enum" and isinstance(parent, dict):
            parent[last] = draw(st.sampled_from(["BOGUS", "", "step", "SUCCEEDED ", "STARTED\x00"]))
        elif how == "dup" and isinstance(ops, list) and ops:
            ops.append(copy.deepcopy(draw(st.sampled_from(ops))))
        elif how == "parent" and isinstance(ops, list) and ops and isinstance(ops[-1], dict):
            target = draw(st.sampled_from(ops))
            if isinstance(target, dict):
                ids = [o.get("Id") for o in ops if isinstance(o, dict)]
                target["ParentId"] = draw(st.sampled_from(["nope", *ids]))
        elif how == "cycle" and isinstance(ops, list) and len(ops) >= 3:
            a, b = ops[1], ops[2]
            if isinstance(a, dict) and isinstance(b, dict):
                a["ParentId"], b["ParentId"] = b.get("Id"), a.get("Id")
        if not isinstance(event, dict):
            break
    return event


STATS: dict[str, int] = {}


@settings(
    max_examples=examples(400),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(event=mutated())
def test_a_mutated_invocation_gets_a_typed_answer(event: Any) -> None:
    outcome = check(event)
    STATS[outcome] = STATS.get(outcome, 0) + 1


@settings(max_examples=examples(100), deadline=None)
@given(raw=json_values)
def test_anything_that_is_not_an_invocation_is_refused_with_invalid_input(raw: Any) -> None:
    with pytest.raises(InvalidInputError):
        DurableHandler(workflow, Permissive())(raw, None)


def _paged(split: int) -> tuple[dict[str, Any], dict[str, tuple[list[Any], str | None]]]:
    event = copy.deepcopy(INPUTS[-1])
    ops = event["InitialExecutionState"]["Operations"]
    event["InitialExecutionState"]["Operations"] = ops[:split]
    event["InitialExecutionState"]["NextMarker"] = "p1"
    return event, {"p1": (ops[split:], None)}


def test_paged_state_is_read_to_the_end() -> None:
    event, pages = _paged(2)
    assert check(event, Permissive(pages)) == check(INPUTS[-1])


def test_a_truncated_page_chain_is_a_typed_error() -> None:
    event, _ = _paged(2)
    assert check(event, Permissive({})).startswith(("raised", "FAILED eventflow."))


def test_a_page_chain_that_never_ends_is_a_typed_error_not_a_hang() -> None:
    event, pages = _paged(2)
    pages["p1"] = (pages["p1"][0][:1], "p1")  # the same marker again
    check(event, Permissive(pages))


@pytest.mark.parametrize("field", ["Id", "Type", "Status"])
def test_each_missing_operation_field_names_the_field(field: str) -> None:
    event = copy.deepcopy(INPUTS[-1])
    del event["InitialExecutionState"]["Operations"][1][field]
    with pytest.raises(InvalidInputError, match=field):
        DurableHandler(workflow, Permissive())(event, None)


def test_an_unknown_operation_type_names_the_value() -> None:
    event = copy.deepcopy(INPUTS[-1])
    event["InitialExecutionState"]["Operations"][1]["Type"] = "TELEPORT"
    with pytest.raises(InvalidInputError, match=r"TELEPORT|Type"):
        DurableHandler(workflow, Permissive())(event, None)


def test_a_non_json_input_payload_fails_the_execution_with_a_serdes_error() -> None:
    event = copy.deepcopy(INPUTS[0])
    event["InitialExecutionState"]["Operations"][0]["ExecutionDetails"]["InputPayload"] = "{not json"
    assert check(event) == "FAILED eventflow.errors.SerDesError"


def test_an_edited_step_result_is_a_typed_error() -> None:
    event = copy.deepcopy(INPUTS[-1])
    for op in event["InitialExecutionState"]["Operations"]:
        if op["Type"] == "STEP" and op.get("StepDetails", {}).get("Result") is not None:
            op["StepDetails"]["Result"] = "{truncated"
    assert check(event).startswith("FAILED eventflow.")


@pytest.mark.parametrize("what", ["Result", "ContextDetails"])
def test_a_finished_map_without_its_recorded_result_is_a_typed_error(what: str) -> None:
    event = copy.deepcopy(INPUTS[-1])
    for op in event["InitialExecutionState"]["Operations"]:
        if op.get("SubType") == "Map":
            holder = op["ContextDetails"] if what == "Result" else op
            del holder[what]
    assert check(event).startswith(("raised", "FAILED eventflow."))


def test_the_mutations_reach_deep_enough() -> None:
    """The captured inputs hold every construct, so the fuzzer mutates all their shapes."""
    types = {op["Type"] for e in INPUTS for op in e["InitialExecutionState"]["Operations"]}
    assert types >= {"EXECUTION", "STEP", "WAIT", "CONTEXT", "CALLBACK"}
    assert json.dumps(INPUTS)  # plain JSON all the way down
