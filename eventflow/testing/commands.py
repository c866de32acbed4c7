"""CLI subcommands of the testing and auditing toolkit: ``replay``, ``view``, ``audit`` and ``machines``.

Why a module of its own: ``eventflow/cli.py`` owns the program; these commands only need a subparsers
object. `register` adds them; each handler returns the process exit status:

- ``eventflow replay PATH... --handler MODULE:FN`` replays histories (files, or every ``*.json``/``*.jsonl``
  under a folder; or ``--from-aws ARN``) against the current code: 0 when all match, 1 on a divergence,
  2 when a history cannot be read. Made to be a CI gate.
- ``eventflow view [FILE | --from-aws ARN | --local ARN] [--tree | --timeline | --mermaid | --gantt | --jsonl
  | --json | --operations]`` shows or exports a history (``--local`` reads the local service's ``--db``).
- ``eventflow audit seal FILE -o OUT [--key ...]`` and ``eventflow audit verify FILE [--key ...]`` (0 intact,
  1 tampered, 2 unreadable).
- ``eventflow machines [TYPE]``: each operation state machine as Mermaid.

Keys: ``--key`` takes the key text, ``--key-env VAR`` reads it from an environment variable (so it stays out
of shell history and process listings).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from eventflow.errors import InvalidInputError

__all__ = ["load_handler", "main", "register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the toolkit's subcommands to ``subparsers``; each sets ``func`` to its handler."""
    replay = subparsers.add_parser("replay", help="replay recorded histories against the current code")
    replay.add_argument("paths", nargs="*", type=Path, help="history files (JSON/JSONL) or folders of them")
    replay.add_argument("--handler", required=True, help="the handler to replay, as MODULE:FN or FILE.py:FN")
    replay.add_argument(
        "--from-aws", metavar="ARN", action="append", default=[], help="fetch from AWS (repeatable)"
    )
    replay.add_argument("--shallow", action="store_true", help="do not replay inside finished child contexts")
    replay.add_argument("--json", action="store_true", help="one JSON report per line")
    replay.set_defaults(func=cmd_replay)

    history = subparsers.add_parser("view", help="show or export a history: tree, timeline, Mermaid, JSON(L)")
    history.add_argument("path", nargs="?", type=Path, help="a history file (JSON/JSONL)")
    history.add_argument("--from-aws", metavar="ARN", help="read the history from AWS through boto3")
    history.add_argument("--local", metavar="ARN", help="read the history from the local service's --db")
    shown = history.add_mutually_exclusive_group()
    for flag, text in (
        ("--tree", "operations nested by parent"),
        ("--timeline", "operations on a time axis"),
        ("--mermaid", "Mermaid flowchart of the tree"),
        ("--gantt", "Mermaid gantt timeline"),
        ("--jsonl", "export as JSONL"),
        ("--json", "export as GetDurableExecutionHistory JSON"),
        ("--operations", "export the rebuilt operations as GetDurableExecutionState JSON"),
    ):
        shown.add_argument(flag, action="store_true", help=text)
    history.set_defaults(func=cmd_history)

    audit = subparsers.add_parser("audit", help="tamper-evident audit logs")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    seal = audit_sub.add_parser("seal", help="write a hash-chained audit log of a history")
    seal.add_argument("path", nargs="?", type=Path, help="a history file (JSON/JSONL)")
    seal.add_argument("--from-aws", metavar="ARN")
    seal.add_argument("-o", "--output", type=Path, required=True)
    _key_options(seal)
    seal.set_defaults(func=cmd_audit_seal)
    check = audit_sub.add_parser("verify", help="find edited, dropped, inserted or reordered records")
    check.add_argument("path", type=Path)
    _key_options(check)
    check.set_defaults(func=cmd_audit_verify)

    machines = subparsers.add_parser("machines", help="operation state machines as Mermaid")
    machines.add_argument(
        "type", nargs="?", help="EXECUTION, CONTEXT, STEP, WAIT, CALLBACK or CHAINED_INVOKE"
    )
    machines.set_defaults(func=cmd_machines)


def _key_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--key", help="HMAC key (text)")
    parser.add_argument("--key-env", metavar="VAR", help="read the HMAC key from this environment variable")


def _key(args: argparse.Namespace) -> bytes | None:
    if args.key_env:
        value = os.environ.get(args.key_env)
        if value is None:
            raise InvalidInputError(f"environment variable {args.key_env} is not set")
        return value.encode()
    return args.key.encode() if args.key else None


def load_handler(spec: str) -> Callable[..., Any]:
    """``package.module:fn`` or ``path/to/file.py:fn`` -> the object (a handler)."""
    target, sep, attr = spec.rpartition(":")
    if not sep or not target or not attr:
        raise InvalidInputError(f"--handler wants MODULE:FN or FILE.py:FN, got {spec!r}")
    if target.endswith(".py"):
        path = Path(target)
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        if module_spec is None or module_spec.loader is None:
            raise InvalidInputError(f"cannot load {target}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules.setdefault(path.stem, module)
        module_spec.loader.exec_module(module)
    else:  # as `eventflow run` imports it: the current directory is importable
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise InvalidInputError(f"cannot import module {target!r}: {exc}") from None
    handler: Any = module
    for part in attr.split("."):
        if not hasattr(handler, part):
            raise InvalidInputError(f"{target} has no attribute {attr!r}")
        handler = getattr(handler, part)
    if not callable(handler):
        raise InvalidInputError(f"{spec} is not callable")
    return handler  # type: ignore[no-any-return]


def _history_files(paths: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(p for p in path.rglob("*") if p.suffix in (".json", ".jsonl") and p.is_file())
            )
        else:
            files.append(path)
    return files


def cmd_replay(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    from eventflow.testing.histories import fetch_aws_history, load_record
    from eventflow.testing.replay import dumps_report, verify

    handler = load_handler(args.handler)
    sources: list[tuple[str, Callable[[], Any]]] = [
        (str(path), functools.partial(load_record, path)) for path in _history_files(args.paths)
    ]
    sources += [(arn, functools.partial(fetch_aws_history, arn)) for arn in args.from_aws]
    if not sources:
        print("no history to replay", file=sys.stderr)
        return 2
    status = 0
    for name, load in sources:
        try:
            report = verify(load(), handler, source=name, deep=not args.shallow)
        except InvalidInputError as exc:
            print(f"{name}: cannot read: {exc}", file=out)
            status = max(status, 2)
            continue
        print(dumps_report(report) if args.json else str(report), file=out)
        if not report.ok:
            status = max(status, 1)
    return status


def _load(path: Path | None, arn: str | None) -> Any:
    from eventflow.testing.histories import fetch_aws_history, load_record

    if arn:
        return fetch_aws_history(arn)
    if path is None:
        raise InvalidInputError("give a history file or --from-aws ARN")
    return load_record(path)


def _load_local(args: argparse.Namespace) -> Any:
    from eventflow.local.sqlite_store import SqliteStore
    from eventflow.testing.histories import ExecutionRecord

    db = getattr(args, "db", None) or os.environ.get("EVENTFLOW_DB")
    if not db:
        raise InvalidInputError("--local needs the local service's database (eventflow --db FILE)")
    store = SqliteStore(db)
    try:
        execution = store.load(args.local)
    finally:
        store.close()
    if execution is None:
        raise InvalidInputError(f"no execution {args.local} in {db}")
    from eventflow.local.history import to_event

    return ExecutionRecord(events=[to_event(item) for item in execution.events], arn=execution.arn)


def cmd_history(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    from eventflow import views
    from eventflow.testing.histories import dumps_json, dumps_jsonl
    from eventflow.testing.reconstruct import operations_from_events

    record = _load_local(args) if args.local else _load(args.path, args.from_aws)
    source = record.events or record.operations
    if args.jsonl:
        text = dumps_jsonl(source)
    elif args.json:
        text = dumps_json(record.events, record.operations)
    elif args.operations:
        text = dumps_json(operations=record.operations or operations_from_events(record.events))
    elif args.tree:
        text = views.execution_tree(source)
    elif args.timeline:
        text = views.execution_timeline(source)
    elif args.mermaid:
        text = views.mermaid_tree(source)
    elif args.gantt:
        text = views.mermaid_gantt(source)
    elif record.events:
        text = views.history_table(record.events) + "\n"
    else:
        text = views.execution_tree(source)
    out.write(text)
    return 0


def cmd_audit_seal(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    from eventflow.audit import write_audit_log

    record = _load(args.path, args.from_aws)
    items = record.events or record.operations
    write_audit_log(args.output, items, _key(args))
    print(f"sealed {len(items)} records into {args.output}", file=out)
    return 0


def cmd_audit_verify(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    from eventflow.audit import verify_audit_file

    try:
        report = verify_audit_file(args.path, _key(args))
    except OSError as exc:
        print(f"{args.path}: {exc}", file=out)
        return 2
    print(str(report), file=out)
    return 0 if report.ok else 1


def cmd_machines(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    from eventflow.views import machine_diagrams

    diagrams = machine_diagrams()
    wanted = [args.type.upper()] if args.type else list(diagrams)
    for name in wanted:
        if name not in diagrams:
            raise InvalidInputError(f"unknown operation type {name!r}; one of {', '.join(diagrams)}")
        out.write(f"%% {name}\n{diagrams[name]}")
    return 0


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Run one toolkit subcommand (what ``eventflow`` does for them once `register` is wired in)."""
    parser = argparse.ArgumentParser(prog="eventflow")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args, out))
    except InvalidInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
