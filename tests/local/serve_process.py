"""A real ``eventflow serve`` process for tests that drive it as users do, through boto3."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eventflow.local.client import lambda_client


@contextmanager
def serving(root: Path) -> Iterator[Any]:
    """``eventflow serve --config eventflow.toml`` in ``root`` (memory store, virtual clock: waits and retry
    delays are skipped) and a boto3 client for it, with ``root`` on it as ``client.root``. The client's read
    timeout is long: a RequestResponse Invoke waits for the execution's end."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "eventflow", "serve", "--config", "eventflow.toml", "--port", "0",
         "--memory", "--virtual-clock"],
        cwd=root, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split(" on ")[1].split(" ")[0]
        client = lambda_client(url, read_timeout=300)
        client.root = root
        yield client
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run(lam: Any, name: str, payload: Any, execution_name: str | None = None) -> tuple[Any, str]:
    """Invoke and wait for the end: the result (the function error's body if it failed) and the ARN."""
    extra = {"DurableExecutionName": execution_name} if execution_name else {}
    answer = lam.invoke(FunctionName=name, Payload=json.dumps(payload), **extra)
    arn = answer["ResponseMetadata"]["HTTPHeaders"]["x-amz-durable-execution-arn"]
    body = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, body
    return body, arn
