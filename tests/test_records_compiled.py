"""The committed eventflow/events/_records_compiled.py is exactly what the wire models derive.

`eventflow.events.records` validates the invocation input and the service's operations with those
compiled schemas (so a cold start imports no pydantic), so a model changed without regenerating them
must fail here, saying how to regenerate.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from eventflow.events import wire
from eventflow.events._records_compiled import SCHEMAS
from eventflow.events.compile import COMMAND, COMPILED_MODELS, COMPILED_PATH, main, render
from eventflow.events.invocation import DurableExecutionInvocationInput
from eventflow.events.record_schemas import nested_models, record_schema
from eventflow.events.records import record_validator, validate_record

STALE = f"eventflow/events/_records_compiled.py is stale: run `{COMMAND}` and commit the result"


def test_committed_file_is_what_the_generator_writes() -> None:
    assert COMPILED_PATH.read_text(encoding="utf-8") == render(), STALE


def test_every_compiled_schema_equals_the_one_derived_from_its_model() -> None:
    models = {model.__name__: model for root in COMPILED_MODELS for model in nested_models(root)}
    assert set(SCHEMAS) == set(models), STALE
    for name, model in models.items():
        assert SCHEMAS[name] == record_schema(model), (name, STALE)


def test_the_hot_paths_models_are_compiled() -> None:
    assert {"Operation", "DurableExecutionInvocationInput"} <= set(SCHEMAS)
    assert nested_models(DurableExecutionInvocationInput)[-1] is DurableExecutionInvocationInput
    assert wire.ErrorObject in nested_models(wire.Operation)


def test_a_model_and_its_name_share_one_validator() -> None:
    assert record_validator("Operation") is record_validator(wire.Operation)
    data = {"Id": "x", "Type": "STEP", "Status": "STARTED", "StartTimestamp": 1_700_000_000_000}
    assert validate_record("Operation", data) == validate_record(wire.Operation, data)


def test_a_model_not_compiled_is_derived_on_demand_and_a_bare_unknown_name_is_refused() -> None:
    model = wire.SendDurableExecutionCallbackHeartbeatRequest
    assert model.__name__ not in SCHEMAS
    assert validate_record(model, {"CallbackId": "c", "Other": 1}) == {"callback_id": "c"}
    with pytest.raises(KeyError, match="no compiled record schema"):
        record_validator(model.__name__)


def test_check_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import eventflow.events.compile as compile_module

    assert main(["--check"]) == 0
    stale = tmp_path / "_records_compiled.py"
    stale.write_text("SCHEMAS = {}\n", encoding="utf-8")
    monkeypatch.setattr(compile_module, "COMPILED_PATH", stale)
    assert main(["--check"]) == 1
    assert "stale" in capsys.readouterr().err
    assert stale.read_text(encoding="utf-8") == "SCHEMAS = {}\n"
    assert main([]) == 0
    assert stale.read_text(encoding="utf-8") == render()
    assert main(["--bogus"]) == 2
