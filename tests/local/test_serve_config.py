"""`eventflow serve --config FILE`: functions registered from a TOML file, then invoked over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from eventflow.cli import CliError, _configured_functions

FLOWS = '''
import os
import threading

from eventflow import durable_execution

@durable_execution
def double(event, ctx):
    return ctx.step(lambda _: event["n"] * 2, name="double")

def plain(event, context):
    return {"plain": event["n"]}

@durable_execution
def stalls_once(event, ctx):
    if not os.path.exists("stalled"):  # a file: a timed-out sandbox is replaced by a fresh process
        open("stalled", "w").close()
        threading.Event().wait(60)  # never set: the first invocation runs past the invocation timeout
    return ctx.step(lambda _: event["n"] + 1, name="inc")
'''


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "eventflow.toml"
    path.write_text(text)
    return str(path)


def test_the_config_file_lists_functions_in_both_spellings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[functions]\ndouble = "flows:double"\n\n'
        '[functions.plain]\nhandler = "flows:plain"\ndurable = false\ntimeout_seconds = 30\n\n'
        '[functions.quick]\nhandler = "flows:double"\ninvocation_timeout_seconds = 2.5\n',
    )
    assert _configured_functions(path) == [
        ("double", "flows:double", True, None, None, None),
        ("plain", "flows:plain", False, 30, None, None),
        ("quick", "flows:double", True, None, 2.5, None),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("functions = 3", "no \\[functions\\] table"),
        ("[functions\n", "not valid TOML"),
        ('[functions.x]\ndurable = "yes"\nhandler = "m:f"\n', "functions.x needs handler"),
        ("[functions.x]\ntimeout_seconds = -1\nhandler = 'm:f'\n", "functions.x needs handler"),
        ("[functions.x]\ninvocation_timeout_seconds = 0\nhandler = 'm:f'\n", "invocation_timeout_seconds"),
        ("[functions.x]\ninvocation_timeout_seconds = 901\nhandler = 'm:f'\n", "at most 900"),
        ("[functions.x]\ninvocation_timeout_seconds = true\nhandler = 'm:f'\n", "functions.x needs"),
    ],
)
def test_a_bad_config_file_gets_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(CliError, match=message):
        _configured_functions(write(tmp_path, text))


def test_a_missing_config_file_gets_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CliError, match="cannot read config file"):
        _configured_functions(str(tmp_path / "absent.toml"))


def serve(tmp_path: Path, config_text: str) -> tuple[subprocess.Popen[str], Any]:
    """``eventflow serve --config`` on a free port, and a boto3 Lambda client pointed at it."""
    (tmp_path / "flows.py").write_text(FLOWS)
    config = write(tmp_path, config_text)
    proc = subprocess.Popen(
        [sys.executable, "-m", "eventflow", "serve", "--config", config, "--port", "0", "--memory",
         "--virtual-clock"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    banner = proc.stdout.readline()
    url = banner.split(" on ")[1].split(" ")[0]
    lam = boto3.client(
        "lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id="t",
        aws_secret_access_key="t", config=Config(retries={"max_attempts": 1}),
    )
    return proc, lam


def test_serve_runs_the_configured_functions(tmp_path: Path) -> None:
    proc, lam = serve(tmp_path, '[functions]\ndouble = "flows:double"\n')
    try:
        answer = lam.invoke(FunctionName="double", Payload=json.dumps({"n": 21}))
        assert json.loads(answer["Payload"].read()) == 42
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_bounds_invocations_by_the_configured_invocation_timeout(tmp_path: Path) -> None:
    # Long enough for the retry's fresh worker to build its boto3 client and checkpoint on a loaded
    # machine; the first invocation stalls for a minute, so only the timeout ends it.
    proc, lam = serve(
        tmp_path, '[functions.stalls]\nhandler = "flows:stalls_once"\ninvocation_timeout_seconds = 3\n'
    )
    try:
        answer = lam.invoke(FunctionName="stalls", Payload=json.dumps({"n": 41}))
        assert json.loads(answer["Payload"].read()) == 42  # the retry after the timed-out invocation
        arn = answer["ResponseMetadata"]["HTTPHeaders"]["x-amz-durable-execution-arn"]
        events = lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
        completed = [
            e["InvocationCompletedDetails"] for e in events if e["EventType"] == "InvocationCompleted"
        ]
        assert len(completed) == 2
        assert completed[0]["Error"]["Payload"]["ErrorType"] == "Sandbox.Timedout"
        assert "Error" not in completed[1]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
