"""The toolkit's CLI subcommands: replay as a CI gate, history views and export, audit seal/verify."""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from eventflow.testing import commands
from eventflow.testing.harness import DurableHarness
from eventflow.testing.histories import dumps_json, dumps_jsonl, wire_dict

FLOWS = """
from eventflow import durable_execution

@durable_execution
def v1(event, ctx):
    total = ctx.step(lambda _: event["n"] * 2, name="double")
    ctx.wait(seconds=5, name="pause")
    return ctx.step(lambda _: total + 1, name="inc")

@durable_execution
def v2(event, ctx):
    total = ctx.step(lambda _: event["n"] * 2, name="double")
    ctx.wait(seconds=5, name="pause")
    return ctx.step(lambda _: total + 1, name="increment")
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "flows.py").write_text(FLOWS)
    namespace: dict[str, Any] = {}
    exec(compile(FLOWS, "flows", "exec"), namespace)
    histories = tmp_path / "histories"
    histories.mkdir()
    for n in (1, 2):
        run = DurableHarness().run(namespace["v1"], {"n": n})
        (histories / f"run-{n}.json").write_text(dumps_json(run.history))
        (histories / f"run-{n}.jsonl").write_text(dumps_jsonl(run.history))
    return tmp_path


def _main(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return commands.main(list(argv), out), out.getvalue()


def test_replay_gate_passes_for_unchanged_code(workspace: Path) -> None:
    status, out = _main("replay", str(workspace / "histories"), "--handler", f"{workspace / 'flows.py'}:v1")
    assert status == 0, out
    assert out.count(": OK (3 operations, execution finished)") == 4


def test_replay_gate_fails_and_names_the_operation(workspace: Path) -> None:
    status, out = _main(
        "replay", str(workspace / "histories"), "--handler", f"{workspace / 'flows.py'}:v2", "--json"
    )
    assert status == 1
    reports = [json.loads(line) for line in out.splitlines()]
    assert len(reports) == 4 and not any(r["ok"] for r in reports)
    divergence = reports[0]["divergence"]
    assert divergence["label"] == "root/3" and divergence["name"] == "inc"
    assert divergence["now"] == 'STEP/Step "increment" under root'


def test_replay_reports_unreadable_histories(workspace: Path) -> None:
    (workspace / "histories" / "broken.json").write_text('{"Nope": 1}')
    status, out = _main("replay", str(workspace / "histories"), "--handler", f"{workspace / 'flows.py'}:v1")
    assert status == 2 and "broken.json: cannot read" in out


def test_history_views_and_exports(workspace: Path) -> None:
    path = str(workspace / "histories" / "run-1.jsonl")
    assert (
        _main("view", path, "--tree")[1].splitlines()[1]
        == '├─ root/1 step "double"  SUCCEEDED  0s  attempts=1  -> 2'
    )
    assert _main("view", path, "--mermaid")[1].startswith("flowchart TD")
    assert _main("view", path, "--gantt")[1].startswith("gantt")
    assert "root/2 wait" in _main("view", path, "--timeline")[1]
    assert "StepSucceeded" in _main("view", path)[1]
    exported = json.loads(_main("view", path, "--json")[1])
    assert [e["EventId"] for e in exported["Events"]] == list(range(1, len(exported["Events"]) + 1))
    operations = json.loads(_main("view", path, "--operations")[1])["Operations"]
    assert [op["Type"] for op in operations] == ["EXECUTION", "STEP", "WAIT", "STEP"]


def test_history_from_aws_uses_boto3(monkeypatch: pytest.MonkeyPatch, workspace: Path) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST/durable-execution/e/1"
    run = DurableHarness().run(lambda event, ctx: ctx.step(lambda _: 1, name="one"))
    events = [wire_dict(e) for e in run.history]
    for event in events:  # boto3 hands timestamps over as datetimes; the stub validates the shapes
        details = event.get("ExecutionStartedDetails")
        if details is not None:
            details.setdefault("ExecutionTimeout", 900)
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.add_response("get_durable_execution_history", {"Events": _datetimes(events)})
    monkeypatch.setattr(boto3, "client", lambda *a, **k: client)
    with stubber:
        status, out = _main("view", "--from-aws", arn, "--tree")
    assert status == 0
    assert 'root/1 step "one"  SUCCEEDED' in out


def _datetimes(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from datetime import datetime

    def convert(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: convert(v, k) for k, v in value.items()}
        if isinstance(value, str) and key.endswith("Timestamp"):
            return datetime.fromisoformat(value)
        return value

    return [convert(e) for e in events]


def test_audit_seal_and_verify(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    audit = workspace / "audit.jsonl"
    monkeypatch.setenv("AUDIT_KEY", "s3cret")
    status, out = _main(
        "audit",
        "seal",
        str(workspace / "histories" / "run-1.json"),
        "-o",
        str(audit),
        "--key-env",
        "AUDIT_KEY",
    )
    assert status == 0 and "sealed 10 records" in out
    assert _main("audit", "verify", str(audit), "--key", "s3cret") == (
        0,
        "OK: 10 records, chain intact, signature verified\n",
    )
    lines = audit.read_text().splitlines()
    audit.write_text("\n".join([*lines[:5], *lines[6:]]) + "\n")
    status, out = _main("audit", "verify", str(audit), "--key-env", "AUDIT_KEY")
    assert status == 1
    assert out.startswith("DROPPED at line 6: record(s) with seq 6 missing before event 7")
    assert _main("audit", "verify", str(workspace / "missing.jsonl"))[0] == 2


def test_machines_and_bad_arguments() -> None:
    status, out = _main("machines", "wait")
    assert status == 0 and out.startswith("%% WAIT\nstateDiagram-v2\n")
    assert _main("machines", "nope")[0] == 2
    assert _main("replay", "x.json", "--handler", "no_colon")[0] == 2


def test_the_module_registers_on_any_parser() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    commands.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["audit", "verify", "f.jsonl", "--key", "k"])
    assert args.func is commands.cmd_audit_verify and args.key == "k"
    assert textwrap.dedent(commands.__doc__ or "").count("eventflow ") >= 4


def test_wired_into_the_eventflow_cli_and_reads_the_local_store(tmp_path: Path) -> None:
    from eventflow.cli import main as cli_main
    from eventflow.local import LocalService
    from eventflow.local.sqlite_store import SqliteStore

    db = tmp_path / "local.db"
    service = LocalService(store=SqliteStore(db))
    run = DurableHarness(service).run(lambda event, ctx: ctx.step(lambda _: 41, name="answer"))
    arn = run.execution.arn
    service.store.close()
    out = io.StringIO()
    assert cli_main(["--db", str(db), "view", "--local", arn, "--tree"], out) == 0
    assert 'root/1 step "answer"  SUCCEEDED' in out.getvalue()
    out = io.StringIO()
    assert cli_main(["machines", "STEP"], out) == 0 and "stateDiagram-v2" in out.getvalue()
