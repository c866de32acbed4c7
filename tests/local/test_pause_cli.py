"""``eventflow pause|resume|delete``: through the running ``eventflow serve`` that owns the database (as
``eventflow stop`` and ``eventflow callback`` do), and straight on the file when nothing runs on it."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from .test_cli import cli
from .test_http import client
from .test_one_writer import open_callback, serve, started, workdir

__all__ = ["serve", "workdir"]  # fixtures


def history_types(lam: Any, arn: str) -> list[str]:
    return [e["EventType"] for e in lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]]


def wait_for_event(lam: Any, arn: str, event_type: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # each poll is a real HTTP round trip
        if event_type in history_types(lam, arn):
            return
    raise AssertionError(f"no {event_type} in {history_types(lam, arn)}")


def test_pause_resume_and_delete_go_through_the_running_service(
    serve: str, capsys: pytest.CaptureFixture[str]
) -> None:
    lam = client(serve)
    arn = started(lam)
    callback_id = open_callback(lam, arn)
    wait_for_event(lam, arn, "InvocationCompleted")  # paused between invocations (else PAUSING first)
    code, text = cli("pause", arn, "--reason", "night")
    assert code == 0 and serve in text
    described = lam.get_durable_execution(DurableExecutionArn=arn)
    assert described["Status"] == "PAUSED" and described["PauseDetails"]["Reason"] == "night"

    code, _ = cli("callback", "succeed", callback_id, "--result", '{"ok": true}')
    assert code == 0
    wait_for_event(lam, arn, "CallbackSucceeded")  # the answer is taken while paused...
    code, _ = cli("delete", arn)
    assert code == 1 and "ResourceConflictException" in capsys.readouterr().err
    code, text = cli("resume", arn)
    assert code == 0 and serve in text
    done = lam.invoke(FunctionName="approve", Payload=b"{}", DurableExecutionName=arn.split("/")[-2])
    assert json.loads(done["Payload"].read()) == {"ok": True}
    types = history_types(lam, arn)
    # ...and the only invocation after the pause is the one after the resume.
    after_pause = types[types.index("ExecutionPaused") :]
    assert after_pause[:3] == ["ExecutionPaused", "CallbackSucceeded", "ExecutionResumed"]
    assert after_pause.count("InvocationCompleted") == 1

    code, text = cli("delete", arn)
    assert code == 0 and "deleted" in text
    assert lam.list_durable_executions_by_function(FunctionName="approve")["DurableExecutions"] == []


def test_on_the_file_when_nothing_runs_on_it(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = cli("run", "flows_for_cli:approval", "--function-name", "approve")
    assert code == 0
    arn = next(line.split()[1] for line in text.splitlines() if line.startswith("execution "))
    code, text = cli("pause", arn, "--keep-timeout-running")
    assert code == 0 and text.strip() == f"paused {arn}"
    code, text = cli("history", arn)
    assert "ExecutionPaused" in text and "ExecutionTimeoutPaused=False" in text
    code, _ = cli("pause", arn)
    assert code == 1 and "already PAUSED" in capsys.readouterr().err
    assert cli("resume", arn, "--reason", "morning")[0] == 0
    assert cli("stop", arn)[0] == 0
    assert cli("delete", arn)[0] == 0
    code, _ = cli("history", arn)
    assert code == 1 and "no durable execution" in capsys.readouterr().err
