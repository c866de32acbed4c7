"""The everyday command line (issue 15 items 2 and 8): callbacks with a timeout wait for an answer on
the virtual clock, one JSON shape, --db anywhere, no traceback into `head`, null shown as null,
idle executions marked, undecorated handlers and duplicate names refused, serve logs what happens."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from eventflow.cli import build_parser, main, serve_event_logger

FLOWS = textwrap.dedent(
    '''
    from eventflow import DurableContext, durable_execution

    @durable_execution
    def approve(event, ctx):
        return ctx.wait_for_callback(lambda cid, _: None, name="approve", timeout=3600)

    @durable_execution
    def nothing(event, ctx):
        return event

    @durable_execution
    def many(event, ctx):
        return sum(ctx.map(list(range(event)), lambda c, x, i, items: c.step(lambda _: x)).get_results())

    def undecorated(event, ctx: DurableContext):
        return 1
    '''
)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "polish_flows.py").write_text(FLOWS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main([*args], out=out)
    return code, out.getvalue()


def test_a_callback_with_a_timeout_waits_for_an_answer_then_time_moves_on_request(workdir: Path) -> None:
    code, text = cli("--db", "f.db", "run", "polish_flows:approve")
    assert code == 0 and "status    RUNNING" in text
    assert re.search(r"waiting   callback \S+ 'approve create callback id' \(times out at \+3600 s\)", text)
    arn = re.search(r"started (\S+)", text).group(1)  # type: ignore[union-attr]
    code, text = cli("run", "polish_flows:approve", "--resume", arn, "--advance", "3600", "--db", "f.db")
    assert "CallbackTimedOut" in text and "status    FAILED" in text


def test_a_map_of_2000_items_runs_end_to_end(workdir: Path) -> None:
    code, text = cli("--db", "f.db", "run", "polish_flows:many", "--input", "2000")
    assert code == 0 and "result    1999000" in text
    assert "1/1999/1" in text  # every line labelled


def test_history_and_view_print_one_json_shape(workdir: Path) -> None:
    _, text = cli("--db", "f.db", "run", "polish_flows:nothing")
    arn = re.search(r"started (\S+)", text).group(1)  # type: ignore[union-attr]
    _, history = cli("history", arn, "--json", "--db", "f.db")  # --db after the command
    _, view = cli("--db", "f.db", "view", "--local", arn, "--json")
    assert json.loads(history)["Events"] == json.loads(view)["Events"]
    assert "Input=null" in text  # a null input is shown as null


def test_executions_marks_what_no_process_drives(workdir: Path) -> None:
    cli("--db", "f.db", "run", "polish_flows:approve")
    _, text = cli("executions", "--db", "f.db")
    assert "RUNNING*" in text and "eventflow run MODULE:HANDLER --resume ARN" in text


def test_an_undecorated_handler_and_a_name_given_twice_are_refused(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("--db", "f.db", "run", "polish_flows:undecorated")[0] == 2
    assert "decorate it with @durable_execution" in capsys.readouterr().err
    code, _ = cli(
        "--db", "f.db", "serve", "--port", "0", "--function", "a=polish_flows:nothing",
        "--function", "a=polish_flows:many",
    )
    assert code == 2 and "given twice" in capsys.readouterr().err


def test_serve_help_names_the_default_port() -> None:
    serve = build_parser()._subparsers._group_actions[0].choices["serve"]  # type: ignore[union-attr]
    assert "default 9000" in serve.format_help()


def test_no_broken_pipe_traceback_into_head(workdir: Path) -> None:
    script = "import sys; from eventflow.cli import main; sys.exit(main(sys.argv[1:]))"
    run = subprocess.run(
        f"{sys.executable} -c '{script}' --db f.db run polish_flows:many --input 300 --memory | head -1",
        shell=True, capture_output=True, text=True, cwd=workdir, timeout=120, check=False,
    )
    assert run.stdout.count("\n") == 1
    assert "Traceback" not in run.stderr and "BrokenPipe" not in run.stderr


def test_serve_logs_each_step_of_an_execution_payloads_only_when_asked(
    caplog: pytest.LogCaptureFixture, workdir: Path
) -> None:
    from eventflow.local import LocalService
    from eventflow.testing.harness import answer_would_cancel

    caplog.set_level(logging.INFO, logger="eventflow.serve")
    service = LocalService(on_event=serve_event_logger(payloads=False))
    from polish_flows import approve  # type: ignore[import-not-found]

    service.register("approve", approve)
    execution = service.start_execution("approve", {"secret": "s3cr3t"})
    service.run(execution.arn, hold=answer_would_cancel(service))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "ExecutionStarted" in logged and "InvocationCompleted" in logged and "CallbackStarted" in logged
    assert "s3cr3t" not in logged
    caplog.clear()
    service.on_event = serve_event_logger(payloads=True)
    service.send_callback_success(next(iter(execution.callbacks)), '"yes"')
    service.run(execution.arn)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "CallbackSucceeded" in logged and "yes" in logged
