"""`eventflow serve --config FILE`: functions registered from a TOML file, then invoked over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from eventflow.cli import CliError, _configured_functions

FLOWS = '''
from eventflow import durable_execution

@durable_execution
def double(event, ctx):
    return ctx.step(lambda _: event["n"] * 2, name="double")

def plain(event, context):
    return {"plain": event["n"]}
'''


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "eventflow.toml"
    path.write_text(text)
    return str(path)


def test_the_config_file_lists_functions_in_both_spellings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[functions]\ndouble = "flows:double"\n\n'
        '[functions.plain]\nhandler = "flows:plain"\ndurable = false\ntimeout_seconds = 30\n',
    )
    assert _configured_functions(path) == [
        ("double", "flows:double", True, None),
        ("plain", "flows:plain", False, 30),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("functions = 3", "no \\[functions\\] table"),
        ("[functions\n", "not valid TOML"),
        ('[functions.x]\ndurable = "yes"\nhandler = "m:f"\n', "functions.x needs handler"),
        ("[functions.x]\ntimeout_seconds = -1\nhandler = 'm:f'\n", "functions.x needs handler"),
    ],
)
def test_a_bad_config_file_gets_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(CliError, match=message):
        _configured_functions(write(tmp_path, text))


def test_a_missing_config_file_gets_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CliError, match="cannot read config file"):
        _configured_functions(str(tmp_path / "absent.toml"))


def test_serve_runs_the_configured_functions(tmp_path: Path) -> None:
    (tmp_path / "flows.py").write_text(FLOWS)
    config = write(tmp_path, '[functions]\ndouble = "flows:double"\n')
    proc = subprocess.Popen(
        [sys.executable, "-m", "eventflow", "serve", "--config", config, "--port", "0", "--memory",
         "--virtual-clock"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        url = banner.split(" on ")[1].split(" ")[0]
        lam = boto3.client(
            "lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id="t",
            aws_secret_access_key="t", config=Config(retries={"max_attempts": 1}),
        )
        answer = lam.invoke(FunctionName="double", Payload=json.dumps({"n": 21}))
        assert json.loads(answer["Payload"].read()) == 42
    finally:
        proc.terminate()
        proc.wait(timeout=30)
