"""The official JS SDK's handlers run unchanged on ``eventflow serve``: Node functions registered as
``cmd:`` and run by the official runtime interface client (``aws-lambda-ric``) through serve's Runtime API,
with no Python shim; they checkpoint back with the AWS SDK for JavaScript, which finds serve through
``AWS_ENDPOINT_URL_LAMBDA``. Started and answered through boto3, as a user would.

The npm packages are pinned in tests/js/package.json and package-lock.json; the fixture installs them with
``npm ci`` when they are not there yet (``.ci/run`` does it up front). The JS SDK derives operation ids as
md5 (PROTOCOL.md §8): the service stores whatever ids it is sent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .serve_process import run, serving

JS = Path(__file__).resolve().parent.parent / "js"
RIC = "node node_modules/aws-lambda-ric/bin/index.mjs"


def install_js_packages() -> None:
    """``npm ci`` in tests/js unless the packages are installed (the runtime client builds a native part)."""
    if (JS / "node_modules" / "aws-lambda-ric" / "dist" / "rapid-client.node").exists() and (
        JS / "node_modules" / "@aws" / "durable-execution-sdk-js"
    ).exists():
        return
    npm = shutil.which("npm")
    assert npm is not None, "npm is needed for the JS SDK tests (Node 20 and npm)"
    command = [npm, "ci", "--no-audit", "--no-fund"]
    done = subprocess.run(command, cwd=JS, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"npm ci failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


@pytest.fixture(scope="module")
def lam(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    install_js_packages()
    root = tmp_path_factory.mktemp("js")
    names = ["workflow", "fanout", "review", "retries"]
    config = "".join(
        f'[functions.js_{name}]\nhandler = "cmd:{RIC} handlers.{name}"\ndirectory = "{JS}"\n\n'
        for name in names
    )
    (root / "eventflow.toml").write_text(config)
    with serving(root) as client:
        yield client




def history(lam: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
    return events


def test_steps_a_wait_and_a_child_context(lam: Any) -> None:
    body, arn = run(lam, "js_workflow", {"n": 1})
    assert body["inner"] == 20
    assert body["pid"] != os.getpid()
    events = history(lam, arn)
    types = [e["EventType"] for e in events]
    expected = {"StepSucceeded", "WaitStarted", "WaitSucceeded", "ContextStarted", "ContextSucceeded"}
    assert expected <= set(types)
    step_ids = {e["Id"] for e in events if e["EventType"] == "StepStarted"}
    assert all(len(op_id) == 16 for op_id in step_ids)  # the JS SDK's md5 ids, stored as sent


def test_map_and_parallel(lam: Any) -> None:
    body, _ = run(lam, "js_fanout", {"items": [1, 2, 3]})
    assert body == {"squares": [1, 4, 9], "letters": ["a", "b"]}


def test_wait_for_callback(lam: Any) -> None:
    fifo = lam.root / "review.fifo"
    os.mkfifo(fifo)
    payload = {"fifo": str(fifo)}
    lam.invoke(FunctionName="js_review", InvocationType="Event", DurableExecutionName="review-1",
               Payload=json.dumps(payload))
    with open(fifo) as file:  # blocks until the submitter writes the callback id
        callback_id = file.read()
    lam.send_durable_execution_callback_success(CallbackId=callback_id, Result=json.dumps("approved"))
    body, _ = run(lam, "js_review", payload, execution_name="review-1")
    assert body == {"answer": '"approved"'}  # the raw string the sender sent (PROTOCOL.md §5)


def test_a_step_retried_by_its_strategy(lam: Any) -> None:
    body, arn = run(lam, "js_retries", {"marker": str(lam.root / "js-retries")})
    assert body == 2
    types = [e["EventType"] for e in history(lam, arn)]
    assert types.count("StepStarted") == 2 and "StepFailed" in types
