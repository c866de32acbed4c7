"""Error types on the wire: what each SDK records as ErrorType, and eventflow's ``error_types`` option.

For every construct that can fail, the official SDK 3.0.0 runs its handler on the local service and the
ErrorType of every failed operation and of the execution is read back; eventflow with
``error_types="official"`` must record exactly the same, while the default records the error that
happened. Either spelling replays (the type is not part of determinism) and the verifier reports the
difference as a note.
"""

from __future__ import annotations

from typing import Any

import pytest

from eventflow import ErrorTypes, InvalidInputError
from eventflow import durable_execution as eventflow_durable_execution
from eventflow.testing.replay import verify

from .failing import FAILING, Failing, LedgerClosedError
from .harness import as_official, local_service, replay_in_eventflow, replay_input
from .workflows import World

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

_DETAILS = ("StepDetails", "ContextDetails", "CallbackDetails", "ChainedInvokeDetails")
_OFFICIAL = "aws_durable_execution_sdk_python.exceptions."
_USER = f"{LedgerClosedError.__module__}.{LedgerClosedError.__qualname__}"


def _record(case: Failing, writer: str) -> tuple[dict[str, str | None], dict[str, Any], Any]:
    """Run ``case`` as ``writer`` ("official", or eventflow with that ``error_types``) on a fresh local
    service: the ErrorType of the execution and of each failed operation, the replay input and the
    history."""
    with local_service() as (service, client):
        World.service = service
        try:
            for target, handler in case.targets.items():
                service.register(target, handler)
            if writer == "official":
                service.register("fn", as_official(case.official, client))
            else:
                service.register("fn", eventflow_durable_execution(case.eventflow, error_types=writer))
            execution = service.run(service.start_execution("fn", None).arn)
            event = replay_input(service, execution)
            history = service.history(execution.arn)
        finally:
            World.service = None
    assert execution.status == "FAILED"
    assert execution.error is not None
    types: dict[str, str | None] = {"execution": execution.error.error_type}
    for op in event["InitialExecutionState"]["Operations"]:
        for key in _DETAILS:
            error = (op.get(key) or {}).get("Error")
            if error:
                types[f"{op['Type']} {op.get('Name')}"] = error.get("ErrorType")
    return types, event, history


@pytest.mark.parametrize("case", FAILING, ids=lambda c: c.name)
def test_official_option_records_what_the_official_sdk_records(case: Failing) -> None:
    official, *_ = _record(case, "official")
    assert len(official) >= 2  # the execution and at least one failed operation
    eventflow_official, *_ = _record(case, ErrorTypes.OFFICIAL)
    assert eventflow_official == official


@pytest.mark.parametrize("case", FAILING, ids=lambda c: c.name)
def test_default_records_the_error_that_happened(case: Failing) -> None:
    official, *_ = _record(case, "official")
    default, *_ = _record(case, "eventflow")
    assert default.keys() == official.keys()
    assert not any(name and name.startswith(_OFFICIAL) for name in default.values()), default
    # Operations that record the user's own error do so in both SDKs; the rest carry the inner error.
    assert default["execution"] in (_USER, "Rejected", "Callback.Timeout")
    for where, name in official.items():
        if name and not name.startswith(_OFFICIAL):
            assert default[where] == name


@pytest.mark.parametrize("case", FAILING, ids=lambda c: c.name)
@pytest.mark.parametrize("writer", ["official", "eventflow", "eventflow-official"])
def test_either_spelling_replays_and_verifies(case: Failing, writer: str) -> None:
    """Histories written with either setting (and the official SDK's) replay in eventflow with either
    setting, reaching the recorded failure with no new checkpoint; the verifier says OK, with a note
    where the names differ."""
    setting = ErrorTypes.OFFICIAL if writer == "eventflow-official" else writer
    recorded, event, history = _record(case, setting)
    for reader in ErrorTypes:
        replayed = replay_in_eventflow(case.eventflow, event, error_types=reader)
        assert replayed.updates == [], replayed.updates
        assert replayed.output["Status"] == "FAILED"
        assert replayed.output["Error"]["ErrorMessage"]
        report = verify(history, eventflow_durable_execution(case.eventflow, error_types=reader))
        assert report.ok, str(report)
        differs = replayed.output["Error"]["ErrorType"] != recorded["execution"]
        noted = any("error type differs in name only" in note for note in report.notes)
        assert noted == differs, str(report)


def test_bad_input_is_named_validation_error_with_the_option() -> None:
    """A bad argument fails the execution as `InvalidInputError`, or the official SDK's
    ``ValidationError`` (what its ``ctx.wait`` of under a second raises) with the option."""

    def waits_nothing(event: Any, ctx: Any) -> Any:
        return ctx.wait(seconds=0)

    def waits_nothing_officially(event: Any, ctx: Any) -> Any:
        from aws_durable_execution_sdk_python.config import Duration

        return ctx.wait(Duration.from_seconds(0))

    case = Failing("bad input", waits_nothing_officially, waits_nothing)
    official, *_ = _record(case, "official")
    assert official == {"execution": _OFFICIAL + "ValidationError"}
    assert _record(case, ErrorTypes.OFFICIAL)[0] == official
    default, *_ = _record(case, "eventflow")
    assert default == {"execution": "eventflow.errors.InvalidInputError"}


def test_an_unknown_setting_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="error_types must be one of 'eventflow', 'official'"):
        eventflow_durable_execution(lambda event, ctx: None, error_types="aws")
