"""One writer per database: while ``eventflow serve`` runs on a SQLite file, `eventflow callback` and
`eventflow stop` from another shell reach it over its HTTP endpoint (recorded in the file), and the running
service acts on them at once; a second writer is refused with an error naming the running service."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eventflow.local.sqlite_store import SqliteStore

from .test_cli import FLOWS, cli
from .test_http import client


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "flows_for_cli.py").write_text(FLOWS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


@pytest.fixture
def serve(workdir: Path) -> Iterator[str]:
    """A real ``eventflow serve`` process on flows.db; yields its URL."""
    env = {**os.environ, "PYTHONPATH": str(workdir)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "eventflow",
            "--db",
            "flows.db",
            "serve",
            "--port",
            "0",
            "--function",
            "approve=flows_for_cli:approval",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = re.search(r"on (http://\S+)", line)
        assert url, line
        yield url.group(1)
    finally:
        process.terminate()
        process.wait(timeout=10)


def open_callback(lam: Any, arn: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # each poll is a real HTTP round trip
        for event in lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]:
            if event["EventType"] == "CallbackStarted":
                return str(event["CallbackStartedDetails"]["CallbackId"])
    raise AssertionError("the callback never started")


def started(lam: Any) -> str:
    answer = lam.invoke(FunctionName="approve", InvocationType="Event", Payload=b"{}")
    return str(answer["ResponseMetadata"]["HTTPHeaders"]["x-amz-durable-execution-arn"])


def test_a_callback_answered_from_the_command_line_reaches_the_running_service(serve: str) -> None:
    lam = client(serve)
    arn = started(lam)
    callback_id = open_callback(lam, arn)
    code, text = cli("callback", "succeed", callback_id, "--result", '{"ok": true}')
    assert code == 0 and serve in text
    done = lam.invoke(FunctionName="approve", Payload=b"{}", DurableExecutionName=arn.split("/")[-2])
    assert json.loads(done["Payload"].read()) == {"ok": True}  # the running service acted on it


def test_stop_from_the_command_line_reaches_the_running_service(serve: str) -> None:
    lam = client(serve)
    arn = started(lam)
    open_callback(lam, arn)
    code, text = cli("stop", arn, "--reason", "enough")
    assert code == 0 and serve in text
    assert lam.get_durable_execution(DurableExecutionArn=arn)["Status"] == "STOPPED"
    code, _ = cli("callback", "heartbeat", "no-such-callback")
    assert code == 1  # the running service's 404, as a command-line error


def test_a_second_writer_is_refused_naming_the_running_service(
    serve: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = cli("run", "flows_for_cli:approval", "--input", "{}")
    assert code == 1
    error = capsys.readouterr().err
    assert "in use by eventflow serve (pid" in error and serve in error
    code, _ = cli("serve", "--port", "0", "--function", "approve=flows_for_cli:approval")
    assert code == 1 and serve in capsys.readouterr().err


def test_a_writer_without_an_endpoint_is_named_and_a_dead_one_ignored(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, text = cli("run", "flows_for_cli:approval", "--input", "{}")
    callback_id = re.search(r"waiting   callback (\S+)", text).group(1)  # type: ignore[union-attr]
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        store = SqliteStore("flows.db")
        store._db.execute("INSERT OR REPLACE INTO owner VALUES (1, 'some tool', ?, NULL)", (sleeper.pid,))
        store.close()
        assert cli("callback", "heartbeat", callback_id)[0] == 1
        assert f"in use by some tool (pid {sleeper.pid})" in capsys.readouterr().err
    finally:
        sleeper.kill()
        sleeper.wait()
    assert cli("callback", "heartbeat", callback_id)[0] == 0  # its process is gone: the file is free


def test_the_endpoint_option_sends_to_that_service(serve: str, tmp_path: Path) -> None:
    lam = client(serve)
    arn = started(lam)
    callback_id = open_callback(lam, arn)
    code, _ = cli("--db", str(tmp_path / "other.db"), "callback", "fail", callback_id, "--endpoint", serve)
    assert code == 0
    done = lam.invoke(FunctionName="approve", Payload=b"{}", DurableExecutionName=arn.split("/")[-2])
    assert done.get("FunctionError") == "Unhandled"
