"""What a cold Lambda sandbox loads: `import eventflow` and a first step-only invocation need no pydantic.

Issue 19's cold-start target is met by not paying for what a first invocation does not use: the wire
models (pydantic) load when something first needs a model (a failure, a retry, options, a read of an
`Operation`), the record schemas the hot path validates with are compiled ahead of time and, until
pydantic-core is loaded, plainly typed input is validated against them in Python; the AWS backend
builds botocore's lambda client on the first checkpoint without importing boto3 or asyncio.
These tests pin that in fresh interpreters; how long it takes is measured by `python -m
benchmarks.coldstart`, never asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from eventflow.backends.aws import LambdaBackend

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `benchmarks` lives next to `eventflow`, but is not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import coldstart, loopback  # noqa: E402

HEAVY = ("pydantic", "pydantic_core", "boto3", "botocore", "asyncio")


def _loaded_after(code: str) -> dict[str, bool]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded: dict[str, bool] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


def test_import_eventflow_loads_no_pydantic_boto3_or_asyncio() -> None:
    assert _loaded_after("import eventflow") == dict.fromkeys(HEAVY, False)


def test_decorating_a_handler_and_its_public_names_load_nothing_heavy() -> None:
    code = (
        "import eventflow\n"
        "from eventflow import DurableContext, StepConfig, RetryPresets, BatchResult, MapConfig\n"
        "h = eventflow.durable_execution(lambda event, ctx: ctx.step(lambda _: 1))\n"
        "assert isinstance(h, eventflow.DurableHandler)"
    )
    assert _loaded_after(code) == dict.fromkeys(HEAVY, False)


def test_the_models_still_load_on_first_use() -> None:
    loaded = _loaded_after("from eventflow.events.wire import Operation\nOperation.model_fields")
    assert loaded["pydantic"] is True and loaded["boto3"] is False


def test_a_first_three_step_invocation_over_http_loads_neither_pydantic_nor_pydantic_core() -> None:
    """The benchmark's own cold start: a fresh process, the default `LambdaBackend`, checkpoints over
    HTTP to a loopback stub in botocore's REST-JSON shape; `one_sample` checks the invocation's output."""
    results = coldstart.measure(["eventflow"], reps=1)
    assert results["errors"] == {} and results["unexpected_routes"] == []
    (run,) = results["samples"]["eventflow"]
    assert run["calls"] == 3  # one per step: each START travels with its completion
    assert run["loaded"] == {"pydantic": False, "pydantic_core": False, "boto3": False, "botocore": True}


def test_the_stub_echoes_each_operation_in_the_status_its_action_leads_to() -> None:
    update = {"Id": "a", "Type": "STEP", "SubType": "Step", "Name": "n", "Action": "SUCCEED", "Payload": "1"}
    assert loopback.echo(update, 5.0) == {
        "Id": "a", "Type": "STEP", "SubType": "Step", "Name": "n", "Status": "SUCCEEDED",
        "StartTimestamp": 5.0, "StepDetails": {"Attempt": 1, "Result": "1"},
    }


def test_lambda_backend_builds_one_botocore_lambda_client_on_first_use() -> None:
    backend = LambdaBackend(max_attempts=3, region_name="eu-west-1", aws_access_key_id="AKID",
                            aws_secret_access_key="secret")
    assert backend._client is None  # nothing built until a call needs it
    client = backend.client
    assert backend.client is client
    assert client.meta.service_model.service_name == "lambda"
    assert client.meta.region_name == "eu-west-1"
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert hasattr(client, "checkpoint_durable_execution") and hasattr(client, "get_durable_execution_state")


def test_lambda_backend_passes_client_arguments_through() -> None:
    with pytest.raises(TypeError):
        LambdaBackend(no_such_argument=1).client  # noqa: B018 - the error comes from creating the client


def test_the_lambda_client_is_what_a_stock_botocore_session_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same model, endpoint, region, signing and retry configuration: only the loader's service listing
    is narrowed. No endpoint override here, so the endpoint comes from botocore's rules for the region."""
    import botocore.session

    for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA"):
        monkeypatch.delenv(key, raising=False)
    kwargs = {"region_name": "ap-southeast-2", "aws_access_key_id": "AKID", "aws_secret_access_key": "s"}
    ours = LambdaBackend(**kwargs).client
    from botocore.config import Config

    stock = botocore.session.get_session().create_client(
        "lambda", config=Config(retries={"mode": "standard", "total_max_attempts": 5}), **kwargs
    )
    assert ours.meta.endpoint_url == stock.meta.endpoint_url == "https://lambda.ap-southeast-2.amazonaws.com"
    assert ours.meta.service_model.operation_names == stock.meta.service_model.operation_names
    assert ours.meta.service_model.api_version == stock.meta.service_model.api_version
    assert ours.meta.config.signature_version == stock.meta.config.signature_version
    assert ours.meta.config.retries == stock.meta.config.retries


def test_the_loader_lists_its_own_service_and_honours_aws_data_path(tmp_path: Path) -> None:
    from botocore.exceptions import UnknownServiceError

    from eventflow.backends.aws import _service_loader

    loader = _service_loader("lambda", None)
    assert loader.list_available_services("service-2") == ["lambda"]
    assert loader.list_available_services("no-such-type-1") == []
    with pytest.raises(UnknownServiceError):
        loader.load_service_model("s3", "service-2")
    # a service model on AWS_DATA_PATH wins over botocore's own, as with botocore's loader
    custom = tmp_path / "lambda" / "2015-03-31"
    custom.mkdir(parents=True)
    (custom / "service-2.json").write_text(json.dumps({"metadata": {"marker": "custom"}, "shapes": {}}))
    loaded = _service_loader("lambda", str(tmp_path)).load_service_model("lambda", "service-2")
    assert loaded["metadata"] == {"marker": "custom"}
