"""The ``eventflow`` command line, on a SQLite file in a temporary directory."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from eventflow.cli import main
from eventflow.local import checkpoint

FLOWS = textwrap.dedent(
    '''
    from eventflow import durable_execution
    from eventflow.backends import current_backend
    from eventflow.backends.aws import LambdaBackend
    from eventflow.events.wire import CallbackOptions, Operation, OperationUpdate

    @durable_execution
    def greet(event, ctx):
        name = ctx.step(lambda _: event["name"].title(), name="normalize")
        ctx.wait(seconds=30)
        return ctx.child_context(lambda c: c.step(lambda _: f"hello {name}", name="say"), name="greeting")

    def approval(event, context):
        """Raw protocol: start a callback, then return its answer."""
        ops = {op["Id"]: Operation.from_wire(op) for op in event["InitialExecutionState"]["Operations"]}
        if "cb" not in ops:
            start = OperationUpdate(id="cb", name="approval", type="CALLBACK", sub_type="Callback",
                                    action="START", callback_options=CallbackOptions(timeout_seconds=0))
            # In process the service is the backend; in a worker process, boto3 reaches it over HTTP.
            backend = current_backend() or LambdaBackend()
            backend.checkpoint(event["DurableExecutionArn"], event["CheckpointToken"], [start])
            return {"Status": "PENDING"}
        if ops["cb"].status == "SUCCEEDED":
            return {"Status": "SUCCEEDED", "Result": ops["cb"].callback_details.result}
        return {"Status": "PENDING"}
    '''
)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "flows_for_cli.py").write_text(FLOWS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--db", "flows.db", *args], out=out)
    return code, out.getvalue()


def test_run_prints_progress_result_and_history(workdir: Path) -> None:
    code, text = cli("run", "flows_for_cli:greet", "--input", '{"name": "ada"}')
    assert code == 0
    assert 'result    "hello Ada"' in text and "status    SUCCEEDED" in text
    assert text.count("ExecutionSucceeded") == 2  # once as progress, once in the history table
    arn = re.search(r"started (\S+)", text).group(1)  # type: ignore[union-attr]
    code, table = cli("history", arn)
    assert code == 0 and "WaitSucceeded" in table and "Duration=30" in table
    code, tree = cli("history", arn, "--tree")
    (say,) = [line for line in tree.splitlines() if '"say"' in line]
    (greeting,) = [line for line in tree.splitlines() if '"greeting"' in line]
    assert say.index("root/") > greeting.index("root/") and "root/3/1" in say  # nested under greeting
    code, listing = cli("executions")
    assert code == 0 and arn in listing and "SUCCEEDED" in listing


def test_callback_answered_from_the_command_line_then_resumed(workdir: Path) -> None:
    code, text = cli("run", "flows_for_cli:approval", "--input", "{}")
    assert code == 0 and "status    RUNNING" in text
    callback_id = re.search(r"waiting   callback (\S+)", text).group(1)  # type: ignore[union-attr]
    arn = re.search(r"started (\S+)", text).group(1)  # type: ignore[union-attr]
    assert cli("callback", "heartbeat", callback_id)[0] == 0
    assert cli("callback", "succeed", callback_id, "--result", '{"ok": true}')[0] == 0
    code, text = cli("run", "flows_for_cli:approval", "--resume", arn)
    assert code == 0 and 'result    {"ok": true}' in text
    assert cli("callback", "succeed", callback_id)[0] == 1  # already answered


def test_stop(workdir: Path) -> None:
    _, text = cli("run", "flows_for_cli:approval", "--input", "{}")
    arn = re.search(r"started (\S+)", text).group(1)  # type: ignore[union-attr]
    code, text = cli("stop", arn, "--reason", "no longer needed")
    assert code == 0 and "stopped" in text
    _, table = cli("history", arn)
    assert "ExecutionStopped" in table and "no longer needed" in table


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("run", "no_such_module:handler"), 2, "cannot import module 'no_such_module'"),
        (("run", "flows_for_cli"), 2, "expected MODULE:HANDLER"),
        (("run", "flows_for_cli:missing"), 2, "has no attribute 'missing'"),
        (("run", "flows_for_cli:greet", "--input", "{oops"), 2, "--input is not valid JSON"),
        (("history", "arn:no-such-execution"), 1, "no durable execution"),
        (("stop", "arn:no-such-execution"), 1, "no durable execution"),
        (("callback", "succeed", "no-such-callback"), 1, "no callback"),
        (("callback", "succeed", "x", "--result", "{oops"), 2, "--result is not valid JSON"),
    ],
)
def test_friendly_errors(
    workdir: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], code: int, message: str
) -> None:
    assert cli(*args)[0] == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_python_dash_m_eventflow(workdir: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "eventflow",
            "--db",
            "flows.db",
            "run",
            "flows_for_cli:greet",
            "--input",
            '{"name": "bo"}',
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert 'result    "hello Bo"' in done.stdout


@pytest.mark.parametrize("function", ["greet=flows_for_cli:greet", "broken"])
def test_serve_closes_the_store_it_opened_once(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, function: str
) -> None:
    """Stopping the server only wakes the service's worker (`LocalService.shutdown`); the command opened the
    store, so the command closes it, once, whether it was interrupted or refused its arguments."""
    import eventflow.cli as cli_module
    from eventflow.local.http import LocalHttpServer
    from eventflow.local.sqlite_store import SqliteStore

    closed: list[str] = []

    class RecordingStore(SqliteStore):
        def close(self) -> None:
            closed.append(self.path)
            super().close()

    def interrupted(self: LocalHttpServer, *args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt  # Ctrl-C while serving

    monkeypatch.setattr(cli_module, "SqliteStore", RecordingStore)
    monkeypatch.setattr(LocalHttpServer, "serve_forever", interrupted)
    code, text = cli("serve", "--port", "0", "--function", function)
    if function == "broken":
        assert code == 2 and not text
    else:
        assert code == 0 and "eventflow local service on http://127.0.0.1:" in text
    assert closed == ["flows.db"]


def test_callback_ids_never_read_as_options(monkeypatch: pytest.MonkeyPatch) -> None:
    """A callback id starting with '-' made `eventflow callback succeed ID` an argparse error (1 in 64)."""
    draws = iter(["-Xa9", "_Yb8"])
    monkeypatch.setattr(checkpoint.secrets, "token_urlsafe", lambda n: next(draws))
    assert checkpoint.new_callback_id() == "_Yb8"


def test_an_id_starting_with_a_dash_is_answered_after_double_dash(workdir: Path) -> None:
    code, _ = cli("callback", "succeed", "--result", "1", "--", "-no-such-callback")
    assert code == 1  # reached the service: not found, rather than a usage error
